//! Typed configuration, read once per request from whatever the platform offers (Workers vars
//! and secrets, Spin/wasmtime environment variables, a native process environment).

pub mod keys;
mod rate;
mod reader;
mod secrets;
mod swap;

pub use keys::{KEYS, Key, Need};
pub use rate::{OnRedisError, RateLimit, RateLimits, RedisErrorPolicy};
pub use secrets::{MIN_JWT_SECRET_LEN, MIN_SECRET_LEN, Secret, is_loopback_url};
pub use swap::{MAX_BASE_TOKENS, SwapConfig};

use crate::domain::{ChainId, WalletAddress};
use reader::Reader;
use secrets::SigningSecrets;

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
    /// Signs the waiting room's queue tickets and admission tokens (`ADMISSION_SECRET`).
    pub admission_secret: Secret,
    /// Bearer token `/metrics` requires when set (`METRICS_TOKEN`); set it in production.
    pub metrics_token: Option<Secret>,
    /// How long an instance answers `/ready` from its last check (`READY_CACHE_MS`, 1000 to
    /// 5000, default 2000), so `/ready` cannot amplify load onto Redis, libSQL and the RPC.
    pub ready_cache_ms: u64,
    /// How many entries each event's availability change log keeps (`LIVE_LOG_MAX_ENTRIES`,
    /// 10 to 1,000,000, default 10,000); a cursor older than that must take a new snapshot.
    pub live_log_max_entries: u32,
    /// How often an instance reads an event's change log for its stream watchers
    /// (`LIVE_POLL_MS`, 200 to 10,000, default 1,000): once per event and interval, whatever
    /// the number of watchers.
    pub live_poll_ms: u64,
    /// How long one availability stream lasts before it ends with `retry:` and the client
    /// reconnects (`LIVE_STREAM_SECS`, 1 to 300, default 55: inside the platforms' limits).
    pub live_stream_secs: u64,
    /// How often an idle stream sends a comment line (`LIVE_HEARTBEAT_SECS`, 1 to 60,
    /// default 15), so proxies keep it open.
    pub live_heartbeat_secs: u64,
    /// Where instances read the change log through a shared HTTP cache (`LIVE_FEED_URL`, the
    /// API's base URL as a CDN in front of it serves it): set, an instance's stream feed
    /// reads `…/availability/updates` there instead of Redis, so the CDN's one-second cache
    /// shares one origin read among all instances (Spin, where instances share no memory).
    pub live_feed_url: Option<String>,
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
    /// Swap quotes (`SWAP_*`, `MULTICALL_ADDRESS`); `None` when `SWAP_FACTORY` is unset.
    pub swap: Option<SwapConfig>,
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
        let public_url = r
            .url("PUBLIC_URL", &["http", "https"])
            .trim_end_matches('/')
            .to_owned();
        let jwt_secret = r.required("JWT_SECRET");
        if !jwt_secret.is_empty() && jwt_secret.len() < MIN_JWT_SECRET_LEN {
            r.problem(
                "JWT_SECRET",
                &format!("must be at least {MIN_JWT_SECRET_LEN} bytes"),
            );
        }
        let cron_secret = r.secret_text("CRON_SECRET");
        // A missing PUBLIC_URL is its own problem; the secrets' rule needs to know it first.
        let local = public_url.is_empty() || is_loopback_url(&public_url);
        let signing = SigningSecrets::read(&mut r, &jwt_secret, local);
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
        let jwt_audience = r
            .optional("JWT_AUDIENCE")
            .unwrap_or_else(|| "onlineticket-edge".to_owned());
        let access_token_ttl_secs = r.number("ACCESS_TOKEN_TTL_SECS", 900, 60..=86_400);
        let refresh_token_ttl_secs =
            r.number("REFRESH_TOKEN_TTL_SECS", 30 * 86_400, 300..=365 * 86_400);
        let cache_ttl_secs = r.number("CACHE_TTL_SECS", 30, 1..=3_600) as u64;
        let admin_addresses = r.addresses("ADMIN_ADDRESSES");
        let login_simple = r.switch("LOGIN_SIMPLE", true);
        let cors_allowed_origins = r.list("CORS_ALLOWED_ORIGINS");
        let trusted_proxy_hops = r.number("TRUSTED_PROXY_HOPS", 1, 1..=16) as u32;
        let rate_limits = RateLimits {
            auth: r.rate_limit("RATE_LIMIT_AUTH", RateLimit::DEFAULT),
            read: r.rate_limit("RATE_LIMIT_READ", RateLimit::DEFAULT),
            write: r.rate_limit("RATE_LIMIT_WRITE", RateLimit::DEFAULT),
            scanner: r.rate_limit("RATE_LIMIT_SCANNER", RateLimit::SCANNER),
            on_redis_error: r.redis_error_policy("RATE_LIMIT_ON_REDIS_ERROR"),
        };
        let metrics_token = r.secret_text("METRICS_TOKEN");
        let ready_cache_ms = r.number("READY_CACHE_MS", 2_000, 1_000..=5_000) as u64;
        let live_log_max_entries = r.number("LIVE_LOG_MAX_ENTRIES", 10_000, 10..=1_000_000) as u32;
        let live_poll_ms = r.number("LIVE_POLL_MS", 1_000, 200..=10_000) as u64;
        let live_stream_secs = r.number("LIVE_STREAM_SECS", 55, 1..=300) as u64;
        let live_heartbeat_secs = r.number("LIVE_HEARTBEAT_SECS", 15, 1..=60) as u64;
        let live_feed_url = r.optional("LIVE_FEED_URL").map(|url| {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                r.problem("LIVE_FEED_URL", "must start with http:// or https://");
            }
            url.trim_end_matches('/').to_owned()
        });
        let bench_routes = r
            .optional("BENCH_ROUTES")
            .is_some_and(|v| v == "1" || v == "true");
        let contracts: Vec<_> = r
            .addresses("INDEXER_CONTRACTS")
            .iter()
            .map(WalletAddress::inner)
            .collect();
        let swap = SwapConfig::read(&mut r);
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
                admission_secret: signing.admission,
                metrics_token,
                ready_cache_ms,
                live_log_max_entries,
                live_poll_ms,
                live_stream_secs,
                live_heartbeat_secs,
                live_feed_url,
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
                    qr_keyring: crate::checkin::online::Keyring::new(signing.qr_keys)
                        .expect("at least the derived key"),
                    pass_keys: crate::checkin::pass::PassKeys::new(&signing.pass_seed),
                    code_ttl_secs,
                    offline_max_age_secs,
                    offline_clock_skew_secs,
                },
                swap,
            }),
            _ => Err(ConfigError {
                problems: r.problems,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
