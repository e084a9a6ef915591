//! The SpinKube manifests under `deploy/`, parsed as Kubernetes reads them (every YAML document
//! of every file): the fields SpinKube and Kubernetes require, every configuration key of
//! `shared::config::KEYS` bound as a Spin variable, secrets only from the Secret (never a value
//! in git), and a CronJob whose command really sends the bearer to the cron route.

#[path = "deploy_manifests/support.rs"]
mod support;

use serde_norway::Value;
use shared::config::{KEYS, Need};
use support::{SECRET, at, cron_route, kind, manifests, one, spin_toml_variables, text};

#[test]
fn the_spinapp_has_what_spinkube_requires() {
    let app = one(&manifests(), "SpinApp");
    assert_eq!(text(&app, "apiVersion"), "core.spinkube.dev/v1alpha1");
    assert!(!text(&app, "metadata.name").is_empty(), "metadata.name");
    let image = text(&app, "spec.image");
    let (repository, tag) = image.rsplit_once(':').expect("spec.image has a tag");
    assert!(
        repository.contains('/') && !tag.is_empty(),
        "spec.image: {image}"
    );
    assert_eq!(text(&app, "spec.executor"), "containerd-shim-spin");
    let replicas = at(&app, "spec.replicas").and_then(Value::as_u64);
    assert!(
        replicas.is_some_and(|n| n >= 1),
        "spec.replicas: {replicas:?}"
    );
}

/// `spec.variables` of the SpinApp by name.
fn variables() -> Vec<(String, Value)> {
    let app = one(&manifests(), "SpinApp");
    at(&app, "spec.variables")
        .and_then(Value::as_sequence)
        .expect("spec.variables is a list")
        .iter()
        .map(|v| (text(v, "name"), v.clone()))
        .collect()
}

#[test]
fn every_configuration_key_is_a_spin_variable_and_every_spin_variable_is_declared() {
    let vars = variables();
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    for key in KEYS {
        let count = names.iter().filter(|n| **n == key.spin_name()).count();
        assert_eq!(
            count,
            1,
            "{} must be bound once as {}",
            key.name,
            key.spin_name()
        );
    }
    let declared = spin_toml_variables();
    for name in &names {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        assert!(valid, "{name}: Spin variable names are [a-z][a-z0-9_]*");
        let known = KEYS.iter().any(|k| k.spin_name() == *name) || declared.contains(*name);
        assert!(
            known,
            "{name} is neither a configuration key nor a spin.toml variable"
        );
    }
    // spin.toml's own variables (the outbound allow-list) need values in the cluster too.
    for name in &declared {
        assert!(
            names.contains(&name.as_str()),
            "spin.toml declares {name}; bind it"
        );
    }
}

#[test]
fn secrets_come_from_the_secret_and_nothing_else_is_a_secret_ref() {
    for (name, var) in variables() {
        let key = KEYS.iter().find(|k| k.spin_name() == name);
        let secret_ref = at(&var, "valueFrom.secretKeyRef");
        if key.is_some_and(|k| k.secret) {
            let key = key.expect("checked");
            assert!(
                var.get("value").is_none(),
                "{name} is a secret: never a value"
            );
            let secret_ref = secret_ref.unwrap_or_else(|| panic!("{name}: no secretKeyRef"));
            assert_eq!(text(secret_ref, "name"), SECRET, "{name}");
            assert_eq!(
                text(secret_ref, "key"),
                name,
                "{name}: the key is the variable name"
            );
            let optional = at(secret_ref, "optional").and_then(Value::as_bool) == Some(true);
            assert_eq!(
                optional,
                key.need == Need::Optional,
                "{name}: optional iff it may be unset"
            );
        } else {
            assert!(
                secret_ref.is_none(),
                "{name} is not a secret: a plain value"
            );
            let value = var.get("value");
            assert!(
                value.is_some_and(Value::is_string),
                "{name}: value must be a string"
            );
        }
    }
}

/// Whether `s` looks like a generated credential: long, one token, letters and digits mixed.
fn looks_random(s: &str) -> bool {
    let token = s.len() >= 20
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b));
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let letters = s.bytes().filter(u8::is_ascii_alphabetic).count();
    token && digits >= 4 && letters >= 4
}

fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Mapping(map) => map.iter().for_each(|(k, v)| {
            strings(k, out);
            strings(v, out);
        }),
        Value::Tagged(tagged) => strings(&tagged.value, out),
        _ => {}
    }
}

#[test]
fn no_manifest_holds_a_secret_value() {
    let docs = manifests();
    assert!(
        docs.iter().all(|(_, d)| kind(d) != "Secret"),
        "create the Secret with kubectl"
    );
    // Public constants (a contract address, a hash) are defaults the code itself carries.
    let public: Vec<&str> = KEYS.iter().filter_map(|k| k.default).collect();
    for (file, doc) in &docs {
        let mut found = Vec::new();
        strings(doc, &mut found);
        for s in found
            .iter()
            .flat_map(|s| s.split([' ', '"', '\'', ':', '@', '/']))
        {
            let credential = ["whsec_", "sk_live_", "sk_test_", "rk_live_", "eyJ", "ghp_"]
                .iter()
                .any(|p| s.starts_with(p));
            let random = looks_random(s) && !public.iter().any(|p| p.contains(s));
            assert!(
                !credential && !random,
                "{file}: {s:?} looks like a secret value"
            );
        }
    }
}

#[test]
fn the_secret_command_in_the_readme_sets_exactly_the_secret_keys() {
    let readme = std::fs::read_to_string(support::repo("deploy/README.md")).expect("README");
    for key in KEYS {
        let flag = format!("--from-literal={}=", key.spin_name());
        assert_eq!(readme.contains(&flag), key.secret, "{}: {flag}", key.name);
    }
}

#[test]
fn the_cronjob_calls_the_cron_route_every_minute_one_at_a_time_with_the_secret() {
    let docs = manifests();
    let job = one(&docs, "CronJob");
    assert_eq!(text(&job, "apiVersion"), "batch/v1");
    assert!(!text(&job, "metadata.name").is_empty());
    assert_eq!(text(&job, "spec.schedule"), "* * * * *");
    assert_eq!(text(&job, "spec.concurrencyPolicy"), "Forbid");
    let container = support::cron_container(&job);
    assert!(
        text(&container, "image").contains("curl"),
        "a small curl image"
    );
    let env = support::env(&container);
    let secret = env
        .get("CRON_SECRET")
        .expect("CRON_SECRET in the container's env");
    assert!(
        secret.get("value").is_none(),
        "CRON_SECRET from the Secret, never a value"
    );
    assert_eq!(text(secret, "valueFrom.secretKeyRef.name"), SECRET);
    assert_eq!(text(secret, "valueFrom.secretKeyRef.key"), "cron_secret");
    let url = text(env.get("TICK_URL").expect("TICK_URL"), "value");
    let rest = url
        .strip_prefix("http://")
        .expect("TICK_URL is http:// in the cluster");
    let (host, path) = rest.split_once('/').expect("TICK_URL has a path");
    let app = one(&docs, "SpinApp");
    assert_eq!(
        host,
        text(&app, "metadata.name"),
        "the SpinApp's Service, port 80"
    );
    assert_eq!(
        format!("/{path}"),
        cron_route(),
        "the cron route of openapi.json"
    );
}

#[test]
fn the_cronjob_command_sends_post_with_the_bearer_and_fails_on_503() {
    let job = one(&manifests(), "CronJob");
    let (path, script) = (
        cron_route(),
        support::shell_script(&support::cron_container(&job)),
    );
    let secret = "test-cron-secret-not-a-real-one";
    let (status, request) = support::run_against_local_server(&script, &path, secret, 200);
    assert!(status.success(), "curl failed on a 200: {request}");
    assert!(
        request.starts_with(&format!("POST {path} HTTP/1.1\r\n")),
        "{request}"
    );
    let bearer = format!("\r\nAuthorization: Bearer {secret}\r\n");
    assert!(request.contains(&bearer), "no bearer header: {request}");
    let (status, _) = support::run_against_local_server(&script, &path, secret, 503);
    assert!(!status.success(), "a 503 tick must fail the Job");
}

/// The fields of `SpinAppSpec` and `SpinVar` in spin-operator's `core.spinkube.dev/v1alpha1`
/// API (api/v1alpha1/spinapp_types.go). The API server prunes unknown fields of a custom
/// resource without an error, so a misspelt one (`variable:`) would silently do nothing.
const SPINAPP_SPEC_FIELDS: &[&str] = &[
    "executor",
    "image",
    "imagePullSecrets",
    "checks",
    "replicas",
    "runtimeConfig",
    "volumes",
    "volumeMounts",
    "variables",
    "serviceAnnotations",
    "deploymentAnnotations",
    "podAnnotations",
    "podLabels",
    "resources",
];
const SPIN_VAR_FIELDS: &[&str] = &["name", "value", "valueFrom"];

#[test]
fn the_spinapp_uses_only_fields_the_crd_knows() {
    let app = one(&manifests(), "SpinApp");
    let fields = |v: &Value| -> Vec<String> {
        v.as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    for field in fields(at(&app, "spec").expect("spec")) {
        assert!(
            SPINAPP_SPEC_FIELDS.contains(&field.as_str()),
            "spec.{field} is not a SpinApp field"
        );
    }
    for (name, var) in variables() {
        for field in fields(&var) {
            assert!(
                SPIN_VAR_FIELDS.contains(&field.as_str()),
                "{name}: {field} is not a SpinVar field"
            );
        }
    }
}
