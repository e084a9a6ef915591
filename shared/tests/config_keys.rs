//! The configuration keys `Config::from_lookup` reads, observed by recording its lookups, are
//! exactly `shared::config::KEYS`, and each one is documented in `.env.example` and in the
//! README's configuration table. Observation, not a grep of the source: a key read through any
//! helper or module is seen.

use shared::config::{Config, KEYS, Need};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// A complete production environment (non-loopback `PUBLIC_URL`, every signing secret set).
const COMPLETE: &[(&str, &str)] = &[
    ("UPSTASH_REDIS_REST_URL", "https://db.upstash.io"),
    ("UPSTASH_REDIS_REST_TOKEN", "redis-token"),
    ("LIBSQL_URL", "libsql://db.turso.io"),
    ("RPC_URL", "https://rpc.example.com"),
    ("CHAIN_ID", "1"),
    ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
    ("PUBLIC_URL", "https://tickets.example.com"),
    ("QR_SECRETS", "k1:qr-secret-qr-secret-qr-secret-qr-secret"),
    ("PASS_KEY_SEED", "pass-seed-pass-seed-pass-seed-pass-seed"),
    (
        "ADMISSION_SECRET",
        "admission-admission-admission-admission",
    ),
];

/// Variants that switch optional branches on, so a key read only inside one is seen too.
const VARIANTS: &[&[(&str, &str)]] = &[
    &[],
    &[
        ("SWAP_FACTORY", "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"),
        (
            "SWAP_BASE_TOKENS",
            "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        ),
    ],
    &[
        ("CRON_SECRET", "cron-secret-cron-secret-cron-secret-cron"),
        ("METRICS_TOKEN", "metrics-token-metrics-token-metrics-token"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_test"),
        ("LIBSQL_AUTH_TOKEN", "libsql-token"),
        ("LIVE_FEED_URL", "https://cdn.example.com"),
        (
            "INDEXER_CONTRACTS",
            "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        ),
        ("BENCH_ROUTES", "1"),
    ],
    // A local stack: the signing secrets are derived instead of read.
    &[("PUBLIC_URL", "http://127.0.0.1:8787")],
];

/// Every key `from_lookup` asks for over all variants; each variant must be accepted.
fn observed_keys() -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::new());
    for variant in VARIANTS {
        let env: BTreeMap<&str, &str> = COMPLETE.iter().chain(variant.iter()).copied().collect();
        let result = Config::from_lookup(|key| {
            asked.borrow_mut().insert(key.to_owned());
            env.get(key).map(|v| (*v).to_owned())
        });
        if let Err(e) = result {
            panic!("variant {variant:?} is not a valid configuration: {e}");
        }
    }
    asked.into_inner()
}

#[test]
fn keys_lists_exactly_the_keys_the_config_reads() {
    let observed = observed_keys();
    let listed: BTreeSet<String> = KEYS.iter().map(|k| k.name.to_owned()).collect();
    assert_eq!(listed.len(), KEYS.len(), "KEYS names a key twice");
    let unlisted: Vec<_> = observed.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "read but not in config::KEYS: {unlisted:?}"
    );
    let stale: Vec<_> = listed.difference(&observed).collect();
    assert!(
        stale.is_empty(),
        "in config::KEYS but never read: {stale:?}"
    );
}

#[test]
fn keys_marked_always_required_are_refused_when_missing() {
    for key in KEYS {
        let env: BTreeMap<&str, &str> = COMPLETE
            .iter()
            .copied()
            .filter(|(k, _)| *k != key.name)
            .collect();
        let refused = Config::from_lookup(|k| env.get(k).map(|v| (*v).to_owned()))
            .err()
            .is_some_and(|e| e.problems.iter().any(|p| p.key == key.name));
        assert_eq!(
            refused,
            key.need != Need::Optional,
            "{}: need {:?}, but a production config without it is {}",
            key.name,
            key.need,
            if refused { "refused" } else { "accepted" }
        );
    }
}

#[test]
fn documented_defaults_are_the_defaults_the_config_applies() {
    let read = |extra: Option<(&str, &str)>| {
        // With swap quotes on, so the swap keys' defaults show too.
        let env: BTreeMap<&str, &str> = COMPLETE
            .iter()
            .chain(VARIANTS[1])
            .copied()
            .chain(extra)
            .collect();
        let config = Config::from_lookup(|k| env.get(k).map(|v| (*v).to_owned()));
        format!("{config:?}")
    };
    let unset = read(None);
    for key in KEYS {
        if let Some(default) = key.default {
            assert_eq!(
                read(Some((key.name, default))),
                unset,
                "{}={default} does not configure what leaving it unset does",
                key.name
            );
        }
    }
}

/// `.env.example`'s variable lines: `(name, value, commented out)`.
fn env_example() -> Vec<(String, String, bool)> {
    include_str!("../../.env.example")
        .lines()
        .filter_map(|line| {
            let (commented, rest) = match line.strip_prefix("# ") {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let (name, value) = rest.split_once('=')?;
            let is_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            is_name.then(|| (name.to_owned(), value.to_owned(), commented))
        })
        .collect()
}

/// Asserts that `listed` (the names `place` lists) names every key the config read and no
/// other.
#[track_caller]
fn assert_lists_exactly(listed: &[&str], observed: &BTreeSet<String>, place: &str) {
    let missing: Vec<_> = observed
        .iter()
        .filter(|k| !listed.contains(&k.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "read by the config but not in {place}: {missing:?}"
    );
    let stale: Vec<_> = listed.iter().filter(|n| !observed.contains(**n)).collect();
    assert!(
        stale.is_empty(),
        "{place} lists what the config never reads: {stale:?}"
    );
}

#[test]
fn env_example_lists_every_key_read_once_required_ones_set_optional_ones_at_their_default() {
    let lines = env_example();
    let observed = observed_keys();
    let names: Vec<&str> = lines.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_lists_exactly(&names, &observed, ".env.example");
    let unique: BTreeSet<_> = names.iter().collect();
    assert_eq!(
        unique.len(),
        names.len(),
        ".env.example lists a variable twice"
    );
    for (name, value, commented) in &lines {
        let key = shared::config::keys::key(name).expect("checked above");
        if key.need == Need::Optional {
            assert!(
                *commented,
                "{name} is optional: comment it out at its default"
            );
            assert_eq!(
                Some(value.as_str()).filter(|v| !v.is_empty()),
                key.default,
                "{name}"
            );
        } else {
            assert!(
                !*commented && !value.is_empty(),
                "{name} is needed: give a placeholder"
            );
        }
    }
}

/// The README's "Configuration" table: for each variable named (in backticks) in a row's first
/// cell (a row may name several: `A`, `B`), its "required" cell.
fn readme_table() -> Vec<(String, String)> {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README.md has a Configuration section");
    let mut rows = Vec::new();
    for row in section.lines().filter_map(|row| row.strip_prefix("| `")) {
        let mut cells = row.split(" | ");
        let names = format!("`{}", cells.next().unwrap_or_default());
        let required = cells.next().unwrap_or_default().to_owned();
        for name in names.split('`').skip(1).step_by(2) {
            rows.push((name.to_owned(), required.clone()));
        }
    }
    rows
}

#[test]
fn readme_table_lists_every_key_read_with_its_need_and_secrecy() {
    let table = readme_table();
    let observed = observed_keys();
    let names: Vec<&str> = table.iter().map(|(n, _)| n.as_str()).collect();
    assert_lists_exactly(&names, &observed, "README's table");
    for (name, required) in &table {
        let key = shared::config::keys::key(name).expect("checked above");
        let need = match key.need {
            Need::Always => "yes",
            Need::Production => "production",
            Need::Optional => "no",
        };
        assert!(
            required.starts_with(need),
            "{name}: README says {required:?}, KEYS {need}"
        );
        assert_eq!(
            required.contains("(secret)"),
            key.secret,
            "{name}: README says {required:?}"
        );
    }
}

#[test]
fn env_example_sources_in_a_posix_shell_to_the_values_it_shows() {
    let set: Vec<(String, String)> = env_example()
        .into_iter()
        .filter(|(_, _, commented)| !commented)
        .map(|(name, value, _)| (name, value))
        .collect();
    let print: String = set
        .iter()
        .map(|(n, _)| format!("printf '%s\\n' \"${n}\";"))
        .collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../.env.example");
    let out = std::process::Command::new("/bin/sh")
        .args(["-c", &format!("set -a; . \"$0\"; {print}"), path])
        .output()
        .expect("/bin/sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let expected: Vec<String> = set.into_iter().map(|(_, v)| v).collect();
    assert_eq!(
        values, expected,
        "`. ./.env` must give the values as written"
    );
}
