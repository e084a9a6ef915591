//! Typed configuration, read once per request from whatever the platform offers (Workers vars
//! and secrets, Spin/wasmtime environment variables, a native process environment).

use crate::domain::{ChainId, WalletAddress};
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

/// A token bucket: `rate` tokens a second, at most `burst` stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub rate_per_sec: f64,
    pub burst: u32,
}

impl RateLimit {
    /// The default of every route group: 10 req/s, burst 20.
    pub const DEFAULT: RateLimit = RateLimit {
        rate_per_sec: 10.0,
        burst: 20,
    };

    /// The default of scanner routes: 200 req/s, burst 1000 (a venue's doors behind one NAT).
    pub const SCANNER: RateLimit = RateLimit {
        rate_per_sec: 200.0,
        burst: 1_000,
    };

    /// Parses `<rate>:<burst>`, e.g. `10:20` or `0.5:3`.
    pub fn parse(s: &str) -> Option<RateLimit> {
        let (rate, burst) = s.split_once(':')?;
        let rate_per_sec: f64 = rate
            .trim()
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r > 0.0)?;
        let burst: u32 = burst.trim().parse().ok().filter(|b| *b > 0)?;
        Some(RateLimit {
            rate_per_sec,
            burst,
        })
    }
}

/// Rate limits per route group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    pub auth: RateLimit,
    pub read: RateLimit,
    pub write: RateLimit,
    /// Venue scanners: a whole door often shares one IP, so the bucket is much larger.
    pub scanner: RateLimit,
}

/// Ticket codes at the door.
#[derive(Clone)]
pub struct CheckinConfig {
    /// HMAC secrets of online QR codes by key id (`QR_SECRETS`); the first signs.
    pub qr_keyring: crate::checkin::online::Keyring,
    /// Master seed the per-event Ed25519 pass keys are derived from (`PASS_KEY_SEED`).
    pub pass_keys: crate::checkin::pass::PassKeys,
    /// Lifetime of an online code (`QR_CODE_TTL_SECS`, default 60).
    pub code_ttl_secs: u64,
    /// Oldest `scannedAt` an upload may claim, in seconds before it is received
    /// (`OFFLINE_MAX_AGE_SECS`, default 86400).
    pub offline_max_age_secs: u64,
    /// How far ahead of the server's clock an uploaded `scannedAt` may be
    /// (`OFFLINE_CLOCK_SKEW_SECS`, default 120).
    pub offline_clock_skew_secs: u64,
}

impl std::fmt::Debug for CheckinConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CheckinConfig({:?}, ttl {} s, offline window -{} s/+{} s)",
            self.qr_keyring,
            self.code_ttl_secs,
            self.offline_max_age_secs,
            self.offline_clock_skew_secs
        )
    }
}

impl CheckinConfig {
    /// Secrets derived from `JWT_SECRET` when `QR_SECRETS` / `PASS_KEY_SEED` are unset (a
    /// local stack works out of the box; production sets both so they rotate on their own).
    fn derive(jwt_secret: &[u8], purpose: &str) -> Vec<u8> {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(jwt_secret)
            .expect("HMAC accepts keys of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// How the scheduled indexer follows the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexerConfig {
    /// Contracts whose logs are indexed; empty disables indexing (ticks only beat).
    pub contracts: Vec<alloy_primitives::Address>,
    /// First block to index.
    pub start_block: u64,
    /// Blocks behind the head we stay (0 on anvil; 12+ on mainnet L1, see README).
    pub confirmations: u64,
    /// Largest `eth_getLogs` range (halved on provider range errors, regrown when sparse).
    pub max_batch_blocks: u64,
    /// How many recent blocks keep their hashes for reorg detection.
    pub reorg_window: u64,
    /// Budget of one tick: wall time and blocks.
    pub max_tick_ms: u64,
    pub max_blocks_per_tick: u64,
    /// `/ready` reports the indexer unhealthy when it lags more than this many blocks.
    pub max_lag_blocks: u64,
}

/// When an instance sends the HTTP metrics it aggregated (see `functions::metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Flush once the oldest unflushed sample is this old (0: after every request).
    pub flush_secs: u64,
    /// Flush once this many samples are waiting.
    pub flush_samples: u32,
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
    /// Deadline of every outbound call (Redis, libSQL, RPC): a call with no answer by then
    /// fails as the dependency being unavailable (503). Also bounds each `/ready` check.
    pub dependency_timeout_ms: u64,
    pub metrics: MetricsConfig,
    /// How many events' inventories one scheduled upkeep run reconciles (each costs three
    /// subrequests; Workers Free allows 50 per invocation).
    pub reconcile_events_per_run: usize,
    /// Public base URL of this deployment (`https://tickets.example.com`): the SIWE URI, and
    /// its authority is the SIWE domain; also the JWT issuer.
    pub public_url: String,
    /// `aud` of access tokens.
    pub jwt_audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// Wallets that become admins when they log in (bootstrap; `otctl grant-admin` also works).
    pub admin_addresses: Vec<WalletAddress>,
    /// `LOGIN_SIMPLE=on|off` (default on): the simple `personal_sign` login (`/v1/auth/nonce`,
    /// `/v1/auth/verify-sig`). Its message names our domain but, unlike SIWE, no URI, chain or
    /// expiry a wallet can show; turn it off in production if the wallets support SIWE.
    pub login_simple: bool,
    /// Origins allowed by CORS (exact match; `*` allows any).
    pub cors_allowed_origins: Vec<String>,
    /// Spin: how many proxies in front of us append to `X-Forwarded-For`; the client is the
    /// entry this many places from the right (see `functions::client_ip`). Workers ignore it
    /// and use `CF-Connecting-IP`.
    pub trusted_proxy_hops: u32,
    pub rate_limits: RateLimits,
    /// TTL of cached public catalog reads.
    pub cache_ttl_secs: u64,
    /// Enables `/internal/bench/*` (benchmarks only; never in production).
    pub bench_routes: bool,
    pub indexer: IndexerConfig,
    /// Signing secret of the Stripe webhook endpoint (`whsec_…`). Unset: card payments are
    /// disabled (the webhook answers 503).
    pub stripe_webhook_secret: Option<Secret>,
    pub checkin: CheckinConfig,
}

impl Config {
    /// The SIWE domain: the authority (`host[:port]`) of [`Config::public_url`].
    pub fn siwe_domain(&self) -> &str {
        let rest = self
            .public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
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
/// The minimum length of the other secrets we sign with (`QR_SECRETS`, `PASS_KEY_SEED`).
pub const MIN_SECRET_LEN: usize = 32;

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

    fn number(
        &mut self,
        key: &'static str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> i64 {
        match self.optional(key) {
            None => default,
            Some(s) => s
                .parse()
                .ok()
                .filter(|n| range.contains(n))
                .unwrap_or_else(|| {
                    self.problem(key, &format!("must be an integer in {range:?}"));
                    default
                }),
        }
    }

    fn list(&self, key: &'static str) -> Vec<String> {
        self.optional(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `on` or `off` (also `true`/`false`, `1`/`0`); unset: `default`.
    fn switch(&mut self, key: &'static str, default: bool) -> bool {
        match self
            .optional(key)
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None => default,
            Some("on" | "true" | "1") => true,
            Some("off" | "false" | "0") => false,
            Some(_) => {
                self.problem(key, "must be on or off");
                default
            }
        }
    }

    fn rate_limit(&mut self, key: &'static str, default: RateLimit) -> RateLimit {
        match self.optional(key) {
            None => default,
            Some(s) => RateLimit::parse(&s).unwrap_or_else(|| {
                self.problem(key, "must be <rate per second>:<burst>, e.g. 10:20");
                default
            }),
        }
    }

    /// A secret of at least [`MIN_SECRET_LEN`] bytes, or `None` when unset.
    fn secret(&mut self, key: &'static str) -> Option<Vec<u8>> {
        let value = self.optional(key)?;
        if value.len() < MIN_SECRET_LEN {
            self.problem(key, &format!("must be at least {MIN_SECRET_LEN} bytes"));
        }
        Some(value.into_bytes())
    }

    /// `QR_SECRETS`: `kid:secret[,kid:secret…]`, the first one signs.
    fn qr_secrets(&mut self, key: &'static str) -> Vec<(String, Vec<u8>)> {
        let mut keys = Vec::new();
        for entry in self.list(key) {
            let Some((kid, secret)) = entry.split_once(':') else {
                self.problem(key, "must be kid:secret[,kid:secret...]");
                continue;
            };
            let kid = kid.trim();
            if kid.is_empty() || kid.len() > 16 || !kid.bytes().all(|b| b.is_ascii_alphanumeric()) {
                self.problem(key, "key ids must be 1 to 16 letters or digits");
            } else if secret.trim().len() < MIN_SECRET_LEN {
                self.problem(
                    key,
                    &format!("secrets must be at least {MIN_SECRET_LEN} bytes"),
                );
            } else if keys.iter().any(|(k, _)| k == kid) {
                self.problem(key, "key ids must be unique");
            } else {
                keys.push((kid.to_owned(), secret.trim().as_bytes().to_vec()));
            }
        }
        keys
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
        let mut qr_keys = r.qr_secrets("QR_SECRETS");
        if qr_keys.is_empty() {
            qr_keys.push((
                "k0".to_owned(),
                CheckinConfig::derive(jwt_secret.as_bytes(), "ot-qr-hmac"),
            ));
        }
        let pass_seed = r
            .secret("PASS_KEY_SEED")
            .unwrap_or_else(|| CheckinConfig::derive(jwt_secret.as_bytes(), "ot-pass-seed"));
        let code_ttl_secs = r.number("QR_CODE_TTL_SECS", 60, 10..=3_600) as u64;
        let offline_max_age_secs =
            r.number("OFFLINE_MAX_AGE_SECS", 86_400, 60..=30 * 86_400) as u64;
        let offline_clock_skew_secs = r.number("OFFLINE_CLOCK_SKEW_SECS", 120, 0..=3_600) as u64;
        let stripe_webhook_secret = r.optional("STRIPE_WEBHOOK_SECRET").map(Secret::new);
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
        let metrics = MetricsConfig {
            flush_secs: r.number("METRICS_FLUSH_SECS", 10, 0..=3_600) as u64,
            flush_samples: r.number("METRICS_FLUSH_SAMPLES", 100, 1..=100_000) as u32,
        };
        let reconcile_events_per_run = r.number("RECONCILE_EVENTS_PER_RUN", 10, 1..=1_000) as usize;
        let public_url = r
            .url("PUBLIC_URL", &["http", "https"])
            .trim_end_matches('/')
            .to_owned();
        let jwt_audience = r
            .optional("JWT_AUDIENCE")
            .unwrap_or_else(|| "onlineticket-edge".to_owned());
        let access_token_ttl_secs = r.number("ACCESS_TOKEN_TTL_SECS", 900, 60..=86_400);
        let refresh_token_ttl_secs =
            r.number("REFRESH_TOKEN_TTL_SECS", 30 * 86_400, 300..=365 * 86_400);
        let cache_ttl_secs = r.number("CACHE_TTL_SECS", 30, 1..=3_600) as u64;
        let mut admin_addresses = Vec::new();
        for entry in r.list("ADMIN_ADDRESSES") {
            match WalletAddress::parse(&entry) {
                Ok(address) => admin_addresses.push(address),
                Err(e) => r.problem("ADMIN_ADDRESSES", &format!("{entry} {e}")),
            }
        }
        let login_simple = r.switch("LOGIN_SIMPLE", true);
        let cors_allowed_origins = r.list("CORS_ALLOWED_ORIGINS");
        let trusted_proxy_hops = r.number("TRUSTED_PROXY_HOPS", 1, 1..=16) as u32;
        let rate_limits = RateLimits {
            auth: r.rate_limit("RATE_LIMIT_AUTH", RateLimit::DEFAULT),
            read: r.rate_limit("RATE_LIMIT_READ", RateLimit::DEFAULT),
            write: r.rate_limit("RATE_LIMIT_WRITE", RateLimit::DEFAULT),
            scanner: r.rate_limit("RATE_LIMIT_SCANNER", RateLimit::SCANNER),
        };
        let bench_routes = r
            .optional("BENCH_ROUTES")
            .is_some_and(|v| v == "1" || v == "true");
        let mut contracts = Vec::new();
        for entry in r.list("INDEXER_CONTRACTS") {
            match WalletAddress::parse(&entry) {
                Ok(address) => contracts.push(address.inner()),
                Err(e) => r.problem("INDEXER_CONTRACTS", &format!("{entry} {e}")),
            }
        }
        let indexer = IndexerConfig {
            contracts,
            start_block: r.number("INDEXER_START_BLOCK", 0, 0..=i64::MAX) as u64,
            confirmations: r.number("INDEXER_CONFIRMATIONS", 0, 0..=1_000) as u64,
            max_batch_blocks: r.number("INDEXER_BATCH_BLOCKS", 2_000, 1..=100_000) as u64,
            reorg_window: r.number("INDEXER_REORG_WINDOW", 64, 2..=10_000) as u64,
            max_tick_ms: r.number("INDEXER_MAX_TICK_MS", 20_000, 100..=600_000) as u64,
            max_blocks_per_tick: r.number("INDEXER_MAX_BLOCKS_PER_TICK", 100_000, 1..=10_000_000)
                as u64,
            max_lag_blocks: r.number("INDEXER_MAX_LAG_BLOCKS", 50, 0..=1_000_000) as u64,
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
                metrics,
                reconcile_events_per_run,
                public_url,
                jwt_audience,
                access_token_ttl_secs,
                refresh_token_ttl_secs,
                admin_addresses,
                login_simple,
                cors_allowed_origins,
                trusted_proxy_hops,
                rate_limits,
                cache_ttl_secs,
                bench_routes,
                indexer,
                stripe_webhook_secret,
                checkin: CheckinConfig {
                    qr_keyring: crate::checkin::online::Keyring::new(qr_keys)
                        .expect("at least the derived key"),
                    pass_keys: crate::checkin::pass::PassKeys::new(&pass_seed),
                    code_ttl_secs,
                    offline_max_age_secs,
                    offline_clock_skew_secs,
                },
            }),
            _ => Err(ConfigError {
                problems: r.problems,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
