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
