//! Every configuration key [`super::Config::from_lookup`] reads, in one list, so deploy files
//! (`.env.example`, `spin.toml`, `wrangler.toml`, the SpinKube `SpinApp`) can be checked
//! against it. The config tests observe which keys `from_lookup` asks for and fail when this
//! list, `.env.example` or the README's configuration table is missing one, or lists a stale one.

/// When a key must be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Always: the configuration is refused without it.
    Always,
    /// When `PUBLIC_URL` is not a loopback address; a local stack derives it from `JWT_SECRET`.
    Production,
    /// Never: unset (or empty) takes the default.
    Optional,
}

/// One configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The environment / Workers name (`UPSTASH_REDIS_REST_URL`); Spin variables use
    /// [`Key::spin_name`].
    pub name: &'static str,
    /// Delivered as a secret (Workers secret, Spin `secret = true`, Kubernetes Secret), never
    /// as a plain value in a file. Besides the tokens, the three provider URLs are secrets:
    /// RPC providers (Alchemy, Infura, …) put the API key in the URL's path, and the Redis and
    /// libSQL URLs name the database their token opens, so they live and rotate with it.
    pub secret: bool,
    pub need: Need,
    /// The value used when unset, as it would be written (`None`: no value, e.g. an empty
    /// list, or the feature stays off). An empty value counts as unset, so a platform that
    /// must declare a default (Spin) can declare `""` and leave the default to the config.
    pub default: Option<&'static str>,
    /// What it is and its format, one line.
    pub doc: &'static str,
}

impl Key {
    /// Required whatever the deployment (`Need::Always`).
    pub const fn required(&self) -> bool {
        matches!(self.need, Need::Always)
    }

    /// The Spin variable name: lower case (Spin allows only `[a-z0-9_]`).
    pub fn spin_name(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

/// Looks a key up by its environment name.
pub fn key(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

const fn k(
    name: &'static str,
    secret: bool,
    need: Need,
    default: Option<&'static str>,
    doc: &'static str,
) -> Key {
    Key {
        name,
        secret,
        need,
        default,
        doc,
    }
}

use Need::{Always, Optional, Production};

/// Every key, grouped as in `.env.example`.
#[rustfmt::skip]
pub const KEYS: &[Key] = &[
    // Stores.
    k("UPSTASH_REDIS_REST_URL", true, Always, None, "Upstash-compatible Redis REST endpoint, http(s)://"),
    k("UPSTASH_REDIS_REST_TOKEN", true, Always, None, "bearer token of the Redis REST endpoint"),
    k("REDIS_KEY_PREFIX", false, Optional, Some("ot:"), "prefix of every Redis key"),
    k("LIBSQL_URL", true, Always, None, "libSQL database (Hrana over HTTP): libsql://, http:// or https://"),
    k("LIBSQL_AUTH_TOKEN", true, Optional, None, "libSQL (Turso) database token"),
    k("DEPENDENCY_TIMEOUT_MS", false, Optional, Some("2000"), "deadline of every outbound call, ms (1-30000)"),
    // Chain.
    k("RPC_URL", true, Always, None, "EVM JSON-RPC endpoint, http(s)://"),
    k("CHAIN_ID", false, Always, None, "chain id the RPC must report"),
    // Auth.
    k("PUBLIC_URL", false, Always, None, "public base URL: SIWE URI and domain, JWT issuer"),
    k("JWT_SECRET", true, Always, None, "HS256 key of access tokens, >= 32 bytes"),
    k("JWT_AUDIENCE", false, Optional, Some("onlineticket-edge"), "aud of access tokens"),
    k("ACCESS_TOKEN_TTL_SECS", false, Optional, Some("900"), "access token lifetime, s (60-86400)"),
    k("REFRESH_TOKEN_TTL_SECS", false, Optional, Some("2592000"), "refresh token lifetime, s (300-31536000)"),
    k("ADMIN_ADDRESSES", false, Optional, None, "comma-separated wallets made admin at login"),
    k("LOGIN_SIMPLE", false, Optional, Some("on"), "on|off: the simple personal_sign login"),
    k("CORS_ALLOWED_ORIGINS", false, Optional, None, "comma-separated allowed origins (* for any)"),
    k("TRUSTED_PROXY_HOPS", false, Optional, Some("1"), "Spin: proxies appending to X-Forwarded-For (1-16)"),
    // Other secrets.
    k("ADMISSION_SECRET", true, Production, None, "signs queue tickets and admission tokens, >= 32 bytes"),
    k("CRON_SECRET", true, Optional, None, "bearer of POST /internal/cron/indexer, >= 32 bytes; unset: route off"),
    k("STRIPE_WEBHOOK_SECRET", true, Optional, None, "whsec_... of the Stripe endpoint; unset: card payments off"),
    // Door.
    k("QR_SECRETS", true, Production, None, "kid:secret[,kid:secret...] (>= 32 bytes each), first signs"),
    k("PASS_KEY_SEED", true, Production, None, "seed of the per-event Ed25519 pass keys, >= 32 bytes"),
    k("QR_CODE_TTL_SECS", false, Optional, Some("60"), "online code lifetime, s (10-3600)"),
    k("OFFLINE_MAX_AGE_SECS", false, Optional, Some("86400"), "oldest scannedAt an upload may claim, s (60-2592000)"),
    k("OFFLINE_CLOCK_SKEW_SECS", false, Optional, Some("120"), "how far ahead scannedAt may be, s (0-3600)"),
    // Sale and catalog.
    k("CACHE_TTL_SECS", false, Optional, Some("30"), "TTL of cached public catalog reads, s (1-3600)"),
    k("RECONCILE_EVENTS_PER_RUN", false, Optional, Some("10"), "events reconciled per scheduled run (1-1000)"),
    // Live availability.
    k("LIVE_LOG_MAX_ENTRIES", false, Optional, Some("10000"), "change-log entries kept per event (10-1000000)"),
    k("LIVE_POLL_MS", false, Optional, Some("1000"), "change-log read interval per instance and event, ms (200-10000)"),
    k("LIVE_STREAM_SECS", false, Optional, Some("55"), "length of one availability stream, s (1-300)"),
    k("LIVE_HEARTBEAT_SECS", false, Optional, Some("15"), "idle stream heartbeat, s (1-60)"),
    k("LIVE_FEED_URL", false, Optional, None, "API base URL through the CDN; stream feeds read the log there"),
    // Swap quotes.
    k("SWAP_FACTORY", false, Optional, None, "Uniswap V2 factory address; unset: swap routes off"),
    k("SWAP_BASE_TOKENS", false, Optional, None, "comma-separated hop tokens, at most 4"),
    k("MULTICALL_ADDRESS", false, Optional, Some("0xcA11bde05977b3631167028862bE2a173976CA11"), "Multicall3 address"),
    k("SWAP_INIT_CODE_HASH", false, Optional, Some("0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"), "pair init code hash (0x + 32 bytes hex)"),
    k("SWAP_CACHE_TTL_MS", false, Optional, Some("5000"), "reserves cache TTL, ms (0-60000; 0: off)"),
    // Indexer.
    k("INDEXER_CONTRACTS", false, Optional, None, "comma-separated contract addresses; empty: ticks only beat"),
    k("INDEXER_START_BLOCK", false, Optional, Some("0"), "first block to index"),
    k("INDEXER_CONFIRMATIONS", false, Optional, Some("0"), "blocks behind the head (0-1000)"),
    k("INDEXER_BATCH_BLOCKS", false, Optional, Some("2000"), "largest eth_getLogs range (1-100000)"),
    k("INDEXER_REORG_WINDOW", false, Optional, Some("64"), "blocks whose hashes are kept (2-10000)"),
    k("INDEXER_MAX_TICK_MS", false, Optional, Some("20000"), "wall-time budget of one tick, ms (100-600000)"),
    k("INDEXER_MAX_BLOCKS_PER_TICK", false, Optional, Some("100000"), "block budget of one tick (1-10000000)"),
    k("INDEXER_MAX_LAG_BLOCKS", false, Optional, Some("50"), "/ready fails beyond this lag, blocks (0-1000000)"),
    // Limits.
    k("RATE_LIMIT_AUTH", false, Optional, Some("10:20"), "auth routes, <per second>:<burst>"),
    k("RATE_LIMIT_READ", false, Optional, Some("10:20"), "read routes, <per second>:<burst>"),
    k("RATE_LIMIT_WRITE", false, Optional, Some("10:20"), "write routes, <per second>:<burst>"),
    k("RATE_LIMIT_SCANNER", false, Optional, Some("200:1000"), "check-in routes, <per second>:<burst>"),
    k("RATE_LIMIT_ON_REDIS_ERROR", false, Optional, Some("auth=closed,read=open,write=closed,scanner=open"), "open|closed, or group=open|closed,..."),
    // Metrics and operations.
    k("METRICS_TOKEN", true, Optional, None, "bearer /metrics requires when set (set it in production), >= 32 bytes"),
    k("METRICS_FLUSH_SECS", false, Optional, Some("10"), "flush metrics once the oldest sample is this old, s (0-3600)"),
    k("METRICS_FLUSH_SAMPLES", false, Optional, Some("100"), "flush metrics once this many samples wait (1-100000)"),
    k("READY_CACHE_MS", false, Optional, Some("2000"), "how long /ready reuses its verdict, ms (1000-5000)"),
    k("BENCH_ROUTES", false, Optional, None, "1|true enables /internal/bench/* (never in production)"),
];
