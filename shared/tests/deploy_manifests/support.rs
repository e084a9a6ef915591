//! Reading the manifests and the files they must agree with (spin.toml, openapi.json), and
//! running the CronJob's shell command against a local HTTP listener.

use serde::Deserialize;
use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::Duration;

/// The Kubernetes Secret every secret variable comes from.
pub const SECRET: &str = "onlineticket-secrets";

/// A path from the repository's root.
pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

/// Every YAML document of every `deploy/*.yaml`, with its file name.
pub fn manifests() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("deploy"))
        .expect("deploy/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let source = std::fs::read_to_string(&file).expect("readable manifest");
        for document in serde_norway::Deserializer::from_str(&source) {
            let value = Value::deserialize(document).unwrap_or_else(|e| panic!("{name}: {e}"));
            if !value.is_null() {
                docs.push((name.clone(), value));
            }
        }
    }
    assert!(!docs.is_empty(), "no manifest under deploy/");
    docs
}

pub fn kind(doc: &Value) -> &str {
    doc.get("kind").and_then(Value::as_str).unwrap_or_default()
}

/// The only document of `kind`.
pub fn one(docs: &[(String, Value)], wanted: &str) -> Value {
    let found: Vec<&Value> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| kind(d) == wanted)
        .collect();
    assert_eq!(found.len(), 1, "exactly one {wanted} under deploy/");
    found[0].clone()
}

/// The value at a dotted path of mapping keys.
pub fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// The string at `path`; a missing or non-string field fails the test, naming it.
pub fn text(value: &Value, path: &str) -> String {
    at(value, path)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{path} is missing or not a string"))
        .to_owned()
}

/// The path of the cron route in `functions/openapi.json` (which the functions' tests check
/// against the router): the one operation secured by the `cronBearer` scheme, a POST.
pub fn cron_route() -> String {
    let source = std::fs::read_to_string(repo("functions/openapi.json")).expect("openapi.json");
    let doc: serde_json::Value = serde_json::from_str(&source).expect("openapi.json is JSON");
    let paths = doc["paths"].as_object().expect("openapi paths");
    let cron: Vec<&String> = paths
        .iter()
        .filter(|(_, item)| {
            item["post"]["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("cronBearer").is_some()))
        })
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        cron.len(),
        1,
        "one POST secured by cronBearer in openapi.json"
    );
    cron[0].clone()
}

/// The variables spin.toml declares (its `[variables]` table).
pub fn spin_toml_variables() -> BTreeSet<String> {
    let source = std::fs::read_to_string(repo("spin.toml")).expect("spin.toml");
    source
        .lines()
        .skip_while(|l| l.trim() != "[variables]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split_once('=').map(|(name, _)| name.trim()))
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The CronJob's one container.
pub fn cron_container(job: &Value) -> Value {
    let containers = at(job, "spec.jobTemplate.spec.template.spec.containers")
        .and_then(Value::as_sequence)
        .expect("the job template's containers");
    assert_eq!(containers.len(), 1, "one container");
    containers[0].clone()
}

/// A container's `env` by name.
pub fn env(container: &Value) -> BTreeMap<String, Value> {
    container
        .get("env")
        .and_then(Value::as_sequence)
        .expect("the container has env")
        .iter()
        .map(|e| (text(e, "name"), e.clone()))
        .collect()
}

/// The script of a `command: [/bin/sh, -c]` container.
pub fn shell_script(container: &Value) -> String {
    let command: Vec<&str> = container
        .get("command")
        .and_then(Value::as_sequence)
        .expect("command")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        command,
        ["/bin/sh", "-c"],
        "the command runs a shell script"
    );
    let args = container
        .get("args")
        .and_then(Value::as_sequence)
        .expect("args");
    assert_eq!(args.len(), 1, "one script");
    args[0].as_str().expect("the script is a string").to_owned()
}

/// Runs `script` under `sh` with `CRON_SECRET` and a `TICK_URL` pointing at a local listener
/// serving `path`, which answers `status`; returns the script's exit status and the request.
pub fn run_against_local_server(
    script: &str,
    path: &str,
    secret: &str,
    status: u16,
) -> (ExitStatus, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let port = listener.local_addr().expect("local address").port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut request = Vec::new();
        let mut buf = [0_u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let response =
            format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}");
        let _ = stream.write_all(response.as_bytes());
        let _ = tx.send(String::from_utf8_lossy(&request).into_owned());
    });
    let run = Command::new("sh")
        .args(["-c", script])
        .env("CRON_SECRET", secret)
        .env("TICK_URL", format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("sh and curl run (curl is needed by this test)");
    let request = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&run.stderr);
    (run.status, format!("{request}\n(stderr: {stderr})"))
}
