use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

const GOOD: &[(&str, &str)] = &[
    ("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:8079"),
    ("UPSTASH_REDIS_REST_TOKEN", "tok"),
    ("LIBSQL_URL", "libsql://db.turso.io"),
    ("RPC_URL", "http://127.0.0.1:8545"),
    ("CHAIN_ID", "31337"),
    ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
    ("PUBLIC_URL", "https://tickets.example.com:8443/"),
    ("QR_SECRETS", "k1:qr-secret-qr-secret-qr-secret-qr-secret"),
    ("PASS_KEY_SEED", "pass-seed-pass-seed-pass-seed-pass-seed"),
    (
        "ADMISSION_SECRET",
        "admission-admission-admission-admission",
    ),
];

/// `GOOD` without `skip`'s keys and with `set`'s values.
fn with(skip: &[&str], set: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut pairs: Vec<_> = GOOD
        .iter()
        .filter(|(k, _)| !skip.contains(k) && !set.iter().any(|(s, _)| s == k))
        .copied()
        .collect();
    pairs.extend_from_slice(set);
    pairs
}

fn problems(pairs: &[(&str, &str)]) -> Vec<&'static str> {
    match Config::from_lookup(env(pairs)) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(|p| p.key).collect(),
    }
}

#[test]
fn signing_secrets_are_required_off_loopback_and_separate_from_the_jwt_secret() {
    let secrets = ["QR_SECRETS", "PASS_KEY_SEED", "ADMISSION_SECRET"];
    assert_eq!(problems(&with(&secrets, &[])), secrets);
    let err = Config::from_lookup(env(&with(&secrets, &[]))).expect_err("public");
    assert!(err.to_string().contains("not a loopback address"), "{err}");
    // A local stack derives them from JWT_SECRET, each for its own purpose.
    let local = Config::from_lookup(env(&with(
        &secrets,
        &[("PUBLIC_URL", "http://127.0.0.1:8787")],
    )))
    .expect("local");
    assert_ne!(
        local.admission_secret.expose(),
        local.jwt_secret.expose(),
        "derived, not the JWT secret itself"
    );
    let jwt = "0123456789abcdef0123456789abcdef";
    let reused = with(
        &[],
        &[
            ("PASS_KEY_SEED", jwt),
            ("ADMISSION_SECRET", jwt),
            ("QR_SECRETS", "k1:0123456789abcdef0123456789abcdef"),
        ],
    );
    assert_eq!(
        problems(&reused),
        ["QR_SECRETS", "PASS_KEY_SEED", "ADMISSION_SECRET"]
    );
    let config = Config::from_lookup(env(GOOD)).expect("valid");
    assert_eq!(
        config.admission_secret.expose(),
        "admission-admission-admission-admission"
    );
}

#[test]
fn cron_secret_and_metrics_token_are_long_enough() {
    assert_eq!(
        problems(&with(
            &[],
            &[("CRON_SECRET", "short"), ("METRICS_TOKEN", "short")]
        )),
        ["CRON_SECRET", "METRICS_TOKEN"]
    );
    let long = "cron-secret-cron-secret-cron-secret";
    let config = Config::from_lookup(env(&with(
        &[],
        &[("CRON_SECRET", long), ("METRICS_TOKEN", long)],
    )))
    .expect("valid");
    assert_eq!(config.cron_secret.as_ref().map(Secret::expose), Some(long));
    assert_eq!(
        config.metrics_token.as_ref().map(Secret::expose),
        Some(long)
    );
    assert!(
        !format!("{config:?}").contains(long),
        "secrets must not be printed"
    );
}

#[test]
fn ready_cache_and_redis_error_policy() {
    let config = Config::from_lookup(env(GOOD)).expect("valid");
    assert_eq!(config.ready_cache_ms, 2_000);
    assert_eq!(config.rate_limits.on_redis_error, RedisErrorPolicy::DEFAULT);
    for bad in ["999", "5001", "x"] {
        assert_eq!(
            problems(&with(&[], &[("READY_CACHE_MS", bad)])),
            ["READY_CACHE_MS"]
        );
    }
    assert_eq!(
        problems(&with(&[], &[("RATE_LIMIT_ON_REDIS_ERROR", "sometimes")])),
        ["RATE_LIMIT_ON_REDIS_ERROR"]
    );
    let closed = Config::from_lookup(env(&with(&[], &[("RATE_LIMIT_ON_REDIS_ERROR", "closed")])))
        .expect("valid");
    assert_eq!(
        closed.rate_limits.on_redis_error.scanner,
        OnRedisError::Closed
    );
}

#[test]
fn reads_a_complete_config_with_defaults() {
    let config = Config::from_lookup(env(GOOD)).expect("valid");
    assert_eq!(config.chain_id.get(), 31337);
    assert_eq!(config.redis.key_prefix, "ot:");
    assert_eq!(config.dependency_timeout_ms, 2000);
    assert_eq!(
        config.metrics,
        MetricsConfig {
            flush_secs: 10,
            flush_samples: 100
        }
    );
    assert_eq!(config.reconcile_events_per_run, 10);
    assert!(config.libsql.auth_token.is_none());
    assert!(config.cron_secret.is_none());
    assert_eq!(config.public_url, "https://tickets.example.com:8443");
    assert_eq!(config.siwe_domain(), "tickets.example.com:8443");
    assert_eq!(config.rate_limits.auth, RateLimit::DEFAULT);
    assert_eq!(config.access_token_ttl_secs, 900);
    assert!(
        !format!("{config:?}").contains("0123456789abcdef"),
        "secrets must not be printed"
    );
}

#[test]
fn parses_rate_limits_lists_and_admins() {
    assert_eq!(
        RateLimit::parse("0.5:3"),
        Some(RateLimit {
            rate_per_sec: 0.5,
            burst: 3
        })
    );
    assert_eq!(RateLimit::parse("0:3"), None);
    assert_eq!(RateLimit::parse("10"), None);
    let mut pairs = GOOD.to_vec();
    pairs.push((
        "ADMIN_ADDRESSES",
        " 0x70997970c51812dc3a010c7d01b50e0d17dc79c8 ,",
    ));
    pairs.push((
        "CORS_ALLOWED_ORIGINS",
        "https://a.example, https://b.example",
    ));
    pairs.push(("RATE_LIMIT_READ", "100:200"));
    let config = Config::from_lookup(env(&pairs)).expect("valid");
    assert_eq!(config.admin_addresses.len(), 1);
    assert_eq!(
        config.cors_allowed_origins,
        ["https://a.example", "https://b.example"]
    );
    assert_eq!(
        config.rate_limits.read,
        RateLimit {
            rate_per_sec: 100.0,
            burst: 200
        }
    );
    pairs.push(("ADMIN_ADDRESSES", "0xnope"));
    assert!(Config::from_lookup(env(&pairs)).is_err());
}

#[test]
fn trusted_proxy_hops_defaults_to_one_and_refuses_nonsense() {
    let config = Config::from_lookup(env(GOOD)).expect("valid");
    assert_eq!(config.trusted_proxy_hops, 1);
    let mut pairs = GOOD.to_vec();
    pairs.push(("TRUSTED_PROXY_HOPS", "2"));
    let config = Config::from_lookup(env(&pairs)).expect("valid");
    assert_eq!(config.trusted_proxy_hops, 2);
    for bad in ["0", "-1", "17", "two"] {
        let mut pairs = GOOD.to_vec();
        pairs.push(("TRUSTED_PROXY_HOPS", bad));
        let err = Config::from_lookup(env(&pairs)).expect_err(bad);
        let keys: Vec<_> = err.problems.iter().map(|p| p.key).collect();
        assert_eq!(keys, ["TRUSTED_PROXY_HOPS"], "{bad}");
    }
}

#[test]
fn offline_window_has_defaults_and_refuses_nonsense() {
    let config = Config::from_lookup(env(GOOD)).expect("valid");
    assert_eq!(
        (
            config.checkin.offline_max_age_secs,
            config.checkin.offline_clock_skew_secs
        ),
        (86_400, 120)
    );
    let mut pairs = GOOD.to_vec();
    pairs.push(("OFFLINE_MAX_AGE_SECS", "3600"));
    pairs.push(("OFFLINE_CLOCK_SKEW_SECS", "0"));
    let config = Config::from_lookup(env(&pairs)).expect("valid");
    assert_eq!(
        (
            config.checkin.offline_max_age_secs,
            config.checkin.offline_clock_skew_secs
        ),
        (3_600, 0)
    );
    for (key, bad) in [
        ("OFFLINE_MAX_AGE_SECS", "0"),
        ("OFFLINE_MAX_AGE_SECS", "-5"),
        ("OFFLINE_MAX_AGE_SECS", "a day"),
        ("OFFLINE_CLOCK_SKEW_SECS", "-1"),
        ("OFFLINE_CLOCK_SKEW_SECS", "3601"),
    ] {
        let mut pairs = GOOD.to_vec();
        pairs.push((key, bad));
        let err = Config::from_lookup(env(&pairs)).expect_err(bad);
        let keys: Vec<_> = err.problems.iter().map(|p| p.key).collect();
        assert_eq!(keys, [key], "{key}={bad}");
    }
}

#[test]
fn login_simple_is_on_unless_switched_off() {
    assert!(Config::from_lookup(env(GOOD)).expect("valid").login_simple);
    for (value, on) in [("off", false), ("OFF", false), ("on", true), ("0", false)] {
        let mut pairs = GOOD.to_vec();
        pairs.push(("LOGIN_SIMPLE", value));
        let config = Config::from_lookup(env(&pairs)).expect(value);
        assert_eq!(config.login_simple, on, "{value}");
    }
    let mut pairs = GOOD.to_vec();
    pairs.push(("LOGIN_SIMPLE", "maybe"));
    let err = Config::from_lookup(env(&pairs)).expect_err("maybe");
    let keys: Vec<_> = err.problems.iter().map(|p| p.key).collect();
    assert_eq!(keys, ["LOGIN_SIMPLE"]);
}

#[test]
fn lists_every_problem() {
    let err = Config::from_lookup(env(&[
        ("UPSTASH_REDIS_REST_URL", "redis://x"),
        ("CHAIN_ID", "abc"),
        ("JWT_SECRET", "short"),
        ("DEPENDENCY_TIMEOUT_MS", "0"),
    ]))
    .expect_err("invalid");
    let keys: Vec<_> = err.problems.iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        [
            "UPSTASH_REDIS_REST_URL",
            "UPSTASH_REDIS_REST_TOKEN",
            "LIBSQL_URL",
            "RPC_URL",
            "CHAIN_ID",
            "PUBLIC_URL",
            "JWT_SECRET",
            "DEPENDENCY_TIMEOUT_MS"
        ]
    );
}

#[test]
fn swap_quotes_are_off_without_a_factory_and_default_the_rest() {
    let config = Config::from_lookup(env(GOOD)).expect("valid");
    assert_eq!(config.swap, None);
    let factory = "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f";
    let config = Config::from_lookup(env(&with(&[], &[("SWAP_FACTORY", factory)]))).expect("valid");
    let swap = config.swap.expect("on");
    assert_eq!(swap.multicall, crate::swap::CANONICAL_MULTICALL3);
    assert_eq!(swap.init_code_hash, crate::swap::UNISWAP_V2_INIT_CODE_HASH);
    assert_eq!((swap.cache_ttl_ms, swap.base_tokens.len()), (5_000, 0));
    let bad = with(
        &[],
        &[
            ("SWAP_FACTORY", "0x12"),
            (
                "SWAP_BASE_TOKENS",
                "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f,nope",
            ),
            ("MULTICALL_ADDRESS", "x"),
            ("SWAP_CACHE_TTL_MS", "60001"),
            ("SWAP_INIT_CODE_HASH", "0x1234"),
        ],
    );
    assert_eq!(
        problems(&bad),
        [
            "SWAP_FACTORY",
            "SWAP_BASE_TOKENS",
            "MULTICALL_ADDRESS",
            "SWAP_INIT_CODE_HASH",
            "SWAP_CACHE_TTL_MS"
        ]
    );
}
