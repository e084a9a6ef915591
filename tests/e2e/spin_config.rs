//! Configuration on Spin (issue 16 §1): the deployed component reads `wasi:config/store` in the
//! version Spin backs with its variables, `spin.toml` declares and binds every configuration
//! key, and under `wasmtime serve` the composed component (the same core, plugged into the
//! adapter that answers wasi:config from `SPIN_VARIABLE_*` as Spin's environment provider does)
//! takes its configuration from those variables, falling back to the plain environment
//! (`spin up --env`) only for what is unset there.

use e2e::{Proc, Stack, free_port, root, unique};
use shared::config::{KEYS, Need};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const DRAFT: &str = "wasi:config/store@0.2.0-draft-2024-09-27";
/// Variables of `spin.toml` that are not configuration keys: the outbound allow-list.
const ORIGINS: [&str; 3] = ["redis_origin", "libsql_origin", "rpc_origin"];

fn release(file: &str) -> std::path::PathBuf {
    let path = root().join("target/wasm32-wasip2/release").join(file);
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-wasm.sh",
        path.display()
    );
    path
}

/// The `import …;` and `export …;` lines of a component's world, read by wasm-tools.
fn world(component: &std::path::Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let output = std::process::Command::new(root().join(".tools/bin/wasm-tools"))
        .args(["component", "wit"])
        .arg(component)
        .output()
        .expect("wasm-tools runs (scripts/setup.sh installs it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let wit = String::from_utf8_lossy(&output.stdout).into_owned();
    // The world comes first; the packages it uses follow, and they have their own lines.
    let world = wit
        .split("\npackage ")
        .next()
        .unwrap_or_default()
        .to_owned();
    let items = |kind: &str| -> BTreeSet<String> {
        world
            .lines()
            .filter_map(|l| l.trim().strip_prefix(kind)?.strip_suffix(';'))
            .map(str::to_owned)
            .collect()
    };
    (items("import "), items("export "))
}

#[test]
fn the_deployed_component_reads_spins_wasi_config_and_the_composition_wraps_it_unchanged() {
    let core = release("ot_spin.wasm");
    let (imports, exports) = world(&core);
    assert!(imports.contains(DRAFT), "{imports:?}");
    assert!(
        !imports.iter().any(|i| i.contains("config/store@0.2.0-rc")),
        "{imports:?}"
    );
    assert!(
        !imports
            .iter()
            .any(|i| i.starts_with("spin:") || i.starts_with("fermyon:")),
        "Spin-only imports would stop wasmtime serve: {imports:?}"
    );
    assert!(exports.contains("wasi:http/handler@0.3.0"), "{exports:?}");

    let composed = release("ot_spin_wasmtime.wasm");
    let (imports, exports) = world(&composed);
    assert!(
        !imports.iter().any(|i| i.starts_with("wasi:config/")),
        "the adapter must satisfy wasi:config: {imports:?}"
    );
    assert!(exports.contains("wasi:http/handler@0.3.0"), "{exports:?}");

    // What the tests run is what Spin runs: the core's bytes sit whole inside the composition.
    let core = std::fs::read(core).expect("core component");
    let composed = std::fs::read(composed).expect("composed component");
    let head = &core[..64];
    let found = composed
        .windows(head.len())
        .enumerate()
        .filter(|(_, w)| *w == head)
        .any(|(at, _)| composed.get(at..at + core.len()) == Some(&core[..]));
    assert!(
        found,
        "ot_spin.wasm is not embedded byte for byte in ot_spin_wasmtime.wasm"
    );
}

/// `spin.toml` as JSON (Python's tomllib: a real TOML parser).
fn spin_toml() -> serde_json::Value {
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],'rb'))))",
        ])
        .arg(root().join("spin.toml"))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// Spin's rule for variable names (and wasi:config keys): lower-case letters, digits and single
/// underscores, starting with a letter.
fn valid_spin_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('_')
        && !name.contains("__")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[test]
fn spin_toml_declares_and_binds_exactly_the_configuration_keys() {
    let manifest = spin_toml();
    let variables = manifest["variables"].as_object().expect("[variables]");
    let component = &manifest["component"]["api"];
    assert_eq!(
        component["source"],
        "target/wasm32-wasip2/release/ot_spin.wasm"
    );
    let bindings = component["variables"]
        .as_object()
        .expect("[component.api.variables]");

    let expected: BTreeSet<String> = KEYS
        .iter()
        .map(|k| k.spin_name())
        .chain(ORIGINS.map(str::to_owned))
        .collect();
    let declared: BTreeSet<String> = variables.keys().cloned().collect();
    assert_eq!(
        declared, expected,
        "[variables] against shared::config::KEYS"
    );
    let bound: BTreeSet<String> = bindings.keys().cloned().collect();
    let keys: BTreeSet<String> = KEYS.iter().map(|k| k.spin_name()).collect();
    assert_eq!(
        bound, keys,
        "[component.api.variables] against shared::config::KEYS"
    );

    let mut wrong = BTreeMap::new();
    for key in KEYS {
        let name = key.spin_name();
        let v = &variables[&name];
        let required = v["required"].as_bool().unwrap_or(false);
        let secret = v["secret"].as_bool().unwrap_or(false);
        if !valid_spin_name(&name) {
            wrong.insert(name.clone(), "not a valid Spin variable name".to_owned());
        }
        if secret != key.secret {
            wrong.insert(
                name.clone(),
                format!("secret = {secret}, KEYS says {}", key.secret),
            );
        }
        // A production manifest: keys needed off loopback are required here too.
        let needed = key.need != Need::Optional;
        if required != needed || (!needed && v["default"] != "") {
            wrong.insert(
                name.clone(),
                format!("required = {required}, default = {}", v["default"]),
            );
        }
        if bindings[&name] != format!("{{{{ {name} }}}}") {
            wrong.insert(name.clone(), format!("bound to {}", bindings[&name]));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    for origin in ORIGINS {
        assert!(
            component["allowed_outbound_hosts"]
                .as_array()
                .is_some_and(|hosts| hosts.iter().any(|h| *h == format!("{{{{ {origin} }}}}"))),
            "{origin} must feed allowed_outbound_hosts"
        );
    }
}

/// The composed component on `wasmtime serve` with `env` as its environment.
async fn serve(stack: &Stack, env: &[(String, String)]) -> (String, Proc) {
    let port = free_port();
    let mut args: Vec<String> = ["serve", "-S", "cli", "--addr"].map(str::to_owned).to_vec();
    args.push(format!("127.0.0.1:{port}"));
    for (k, v) in env {
        args.extend(["--env".to_owned(), format!("{k}={v}")]);
    }
    args.push(
        release("ot_spin_wasmtime.wasm")
            .to_string_lossy()
            .into_owned(),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let log = stack
        .log_dir()
        .join(format!("{}-spin-config.log", unique("app")));
    let wasmtime = root().join(".tools/bin/wasmtime");
    let proc = Proc::spawn(wasmtime.to_str().expect("utf-8 path"), &args, &[], &log);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reqwest::get(format!("{base}/health"))
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(
            Instant::now() < deadline,
            "wasmtime did not come up: {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (base, proc)
}

/// The stack's configuration as Spin variables (`SPIN_VARIABLE_<KEY>`), without `drop`.
fn variables(stack: &Stack, drop: &[&str]) -> Vec<(String, String)> {
    stack
        .function_env(&format!("{}:", unique("cfg")), "http://127.0.0.1:8788")
        .into_iter()
        .filter(|(k, _)| !drop.contains(&k.as_str()))
        .map(|(k, v)| (format!("SPIN_VARIABLE_{k}"), v))
        .collect()
}

/// The origin the API allows for a request from `origin` (CORS), if any.
async fn allowed(base: &str, origin: &str) -> Option<String> {
    let response = reqwest::Client::new()
        .get(format!("{base}/v1/events"))
        .header("origin", origin)
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200, "{base}/v1/events");
    let allowed = response.headers().get("access-control-allow-origin")?;
    Some(allowed.to_str().ok()?.to_owned())
}

fn with(mut env: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    env.push((name.to_owned(), value.to_owned()));
    env
}

#[tokio::test]
async fn spin_variables_configure_the_component_and_the_environment_only_fills_gaps() {
    let stack = Stack::start().await;
    // Two origins in one value: a list, which `wasmtime serve -S config-var` could not carry.
    let (config_origins, env_origin) = (
        "https://config.example,https://other.example",
        "https://env.example",
    );

    // As a Spin variable it reaches the config through wasi:config, and wins over the
    // environment.
    let env = with(
        variables(&stack, &[]),
        "SPIN_VARIABLE_CORS_ALLOWED_ORIGINS",
        config_origins,
    );
    let env = with(env, "CORS_ALLOWED_ORIGINS", env_origin);
    let (base, app) = serve(&stack, &env).await;
    for origin in ["https://config.example", "https://other.example"] {
        assert_eq!(allowed(&base, origin).await.as_deref(), Some(origin));
    }
    assert_eq!(allowed(&base, env_origin).await, None);
    drop(app);

    // Unset as a variable: the plain environment is read (`spin up --env` keeps working).
    let env = with(variables(&stack, &[]), "CORS_ALLOWED_ORIGINS", env_origin);
    let (base, app) = serve(&stack, &env).await;
    assert_eq!(
        allowed(&base, env_origin).await.as_deref(),
        Some(env_origin)
    );
    assert_eq!(allowed(&base, "https://config.example").await, None);
    drop(app);

    // A required variable missing everywhere: 503 CONFIG_INVALID naming it. Spin variable
    // names are upper-cased in the environment only; a lower-case spelling is not one.
    let env = with(
        variables(&stack, &["JWT_SECRET"]),
        "SPIN_VARIABLE_jwt_secret",
        "a-lower-case-spin-variable-name-is-not-read",
    );
    let (base, _app) = serve(&stack, &env).await;
    let ready = reqwest::get(format!("{base}/ready"))
        .await
        .expect("request sent");
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.expect("JSON");
    assert_eq!(body["error_code"], "CONFIG_INVALID", "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("JWT_SECRET is missing"), "{message}");
    assert!(!message.contains("lower-case"), "values must not be echoed");
}
