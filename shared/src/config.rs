//! Typed configuration, read once per request from whatever the platform offers (Workers vars
//! and secrets, Spin/wasmtime environment variables, a native process environment).

use crate::domain::ChainId;
use std::fmt;

/// A secret string: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where the Upstash-compatible Redis REST endpoint is.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub rest_url: String,
    pub rest_token: Secret,
    /// Prefix of every key we write (lets several deployments or test runs share a Redis).
    pub key_prefix: String,
}

/// Where the libSQL (Hrana over HTTP) database is.
#[derive(Debug, Clone)]
pub struct LibsqlConfig {
    pub url: String,
    pub auth_token: Option<Secret>,
}

/// Everything a function needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub redis: RedisConfig,
    pub libsql: LibsqlConfig,
    pub rpc_url: String,
    pub chain_id: ChainId,
    pub jwt_secret: Secret,
    /// Bearer secret of the HTTP-triggered cron route (Spin has no cron trigger of its own).
    /// Unset: the route is disabled.
    pub cron_secret: Option<Secret>,
    /// Upper bound for one dependency call made by `/ready`.
    pub dependency_timeout_ms: u64,
}

/// One problem with one configuration key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigProblem {
    pub key: &'static str,
    pub problem: String,
}

/// Every problem found, so an operator fixes them all in one go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {}", .problems.iter().map(|p| format!("{} {}", p.key, p.problem)).collect::<Vec<_>>().join("; "))]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

/// The minimum length of `JWT_SECRET` (HS256 keys shorter than the hash are weak).
pub const MIN_JWT_SECRET_LEN: usize = 32;

struct Reader<F> {
    lookup: F,
    problems: Vec<ConfigProblem>,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    fn optional(&self, key: &'static str) -> Option<String> {
        (self.lookup)(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn required(&mut self, key: &'static str) -> String {
        self.optional(key).unwrap_or_else(|| {
            self.problem(key, "is missing");
            String::new()
        })
    }

    fn url(&mut self, key: &'static str, schemes: &[&str]) -> String {
        let value = self.required(key);
        if !value.is_empty()
            && !schemes
                .iter()
                .any(|s| value.starts_with(&format!("{s}://")))
        {
            self.problem(key, &format!("must start with one of {schemes:?}"));
        }
        value
    }

    fn problem(&mut self, key: &'static str, problem: &str) {
        self.problems.push(ConfigProblem {
            key,
            problem: problem.to_owned(),
        });
    }
}

impl Config {
    /// Reads and checks every key through `lookup`.
    ///
    /// # Errors
    /// [`ConfigError`] listing every missing or malformed key.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut r = Reader {
            lookup,
            problems: Vec::new(),
        };
        let redis_url = r.url("UPSTASH_REDIS_REST_URL", &["http", "https"]);
        let redis_token = r.required("UPSTASH_REDIS_REST_TOKEN");
        let key_prefix = r
            .optional("REDIS_KEY_PREFIX")
            .unwrap_or_else(|| "ot:".to_owned());
        let libsql_url = r.url("LIBSQL_URL", &["http", "https", "libsql"]);
        let libsql_token = r.optional("LIBSQL_AUTH_TOKEN").map(Secret::new);
        let rpc_url = r.url("RPC_URL", &["http", "https"]);
        let chain_id = match r.required("CHAIN_ID") {
            s if s.is_empty() => None,
            s => s
                .parse::<ChainId>()
                .map_err(|e| r.problem("CHAIN_ID", &e))
                .ok(),
        };
        let jwt_secret = r.required("JWT_SECRET");
        if !jwt_secret.is_empty() && jwt_secret.len() < MIN_JWT_SECRET_LEN {
            r.problem(
                "JWT_SECRET",
                &format!("must be at least {MIN_JWT_SECRET_LEN} bytes"),
            );
        }
        let cron_secret = r.optional("CRON_SECRET").map(Secret::new);
        let dependency_timeout_ms = match r.optional("DEPENDENCY_TIMEOUT_MS") {
            None => 2_000,
            Some(s) => s
                .parse()
                .ok()
                .filter(|ms| (1..=30_000).contains(ms))
                .unwrap_or_else(|| {
                    r.problem(
                        "DEPENDENCY_TIMEOUT_MS",
                        "must be an integer between 1 and 30000",
                    );
                    2_000
                }),
        };
        match chain_id {
            Some(chain_id) if r.problems.is_empty() => Ok(Config {
                redis: RedisConfig {
                    rest_url: redis_url,
                    rest_token: Secret::new(redis_token),
                    key_prefix,
                },
                libsql: LibsqlConfig {
                    url: libsql_url,
                    auth_token: libsql_token,
                },
                rpc_url,
                chain_id,
                jwt_secret: Secret::new(jwt_secret),
                cron_secret,
                dependency_timeout_ms,
            }),
            _ => Err(ConfigError {
                problems: r.problems,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
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
    ];

    #[test]
    fn reads_a_complete_config_with_defaults() {
        let config = Config::from_lookup(env(GOOD)).expect("valid");
        assert_eq!(config.chain_id.get(), 31337);
        assert_eq!(config.redis.key_prefix, "ot:");
        assert_eq!(config.dependency_timeout_ms, 2000);
        assert!(config.libsql.auth_token.is_none());
        assert!(config.cron_secret.is_none());
        assert!(
            !format!("{config:?}").contains("0123456789abcdef"),
            "secrets must not be printed"
        );
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
                "JWT_SECRET",
                "DEPENDENCY_TIMEOUT_MS"
            ]
        );
    }
}
