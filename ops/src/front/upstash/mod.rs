//! Upstash-compatible REST front in front of a real `redis-server`.
//!
//! Upstash cannot be run locally, so the edge functions' Redis port (and the
//! official `@upstash/redis` client) talk to this server instead. It speaks the
//! Upstash REST dialect:
//!
//! - `POST /` with a JSON array `["SET","k","v"]` → `200 {"result": …}` or
//!   `400 {"error": "ERR …"}` (the exact Redis error text, so `NOSCRIPT` comes
//!   back verbatim and clients can fall back from EVALSHA to EVAL);
//! - the path form `GET|POST /set/k/v` (URL-encoded segments; query pairs
//!   `?EX=10` become extra arguments; a POST body becomes the last argument);
//! - `POST /pipeline` (not atomic) and `POST /multi-exec` (MULTI/EXEC) with an
//!   array of arrays → `200 [{"result": …} | {"error": …}, …]`;
//! - `Authorization: Bearer <token>` (or `?_token=`), else `401`;
//! - `Upstash-Encoding: base64`: every string in a result is base64-encoded
//!   except a top-level simple-string `OK`, which is what `@upstash/redis`
//!   (and our Rust client) expect; this keeps binary values intact.
//!
//! - `GET /__stats` and `POST /__stats/reset` (same token): the cost counters
//!   (see the `stats` module) and the refusals; a command counts once Redis
//!   answered it.
//!
//! The Redis behind the front is 7.0, Upstash's is documented as 6.2 and its REST
//! API serves less than Redis does: the front refuses, before Redis sees them, the
//! commands, options and scripts Upstash would not run ([`policy`], [`script`]),
//! with the errors Upstash gives — `400 {"error":"ERR …"}` for a single command,
//! the command's own `{"error": …}` slot in a pipeline, a `400` for the whole of a
//! transaction (Upstash discards a transaction with an unsupported command).
//!
//! Files: [`connect`] (the Redis connection), [`http`] (auth and responses),
//! [`single`] (`POST /` and the path form), [`batch`] (`/pipeline`,
//! `/multi-exec`), [`command`] (one command's trip), [`encode`] (replies as JSON),
//! [`guard`] (policy, scripts, refusal count), [`meter`] (`/__stats`).

mod batch;
mod command;
mod connect;
mod encode;
mod guard;
mod http;
mod meter;
mod policy;
mod script;
mod single;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use redis::aio::ConnectionManager;

use super::stats::{STATS_PATH, STATS_RESET_PATH, UpstashMeter};
use super::{FrontError, UpstashConfig};

/// Largest request body accepted (values, scripts and pipelines).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// What every request handler shares.
#[derive(Clone)]
struct AppState {
    redis: ConnectionManager,
    token: Arc<str>,
    /// What the requests served so far would cost on Upstash.
    meter: Arc<UpstashMeter>,
    /// What Upstash would refuse (and the count of refusals, in `meter`).
    guard: Arc<guard::Guard>,
}

/// Connect to Redis and build the REST router.
pub(super) async fn router(cfg: &UpstashConfig) -> Result<Router, FrontError> {
    let redis = connect::connect(&cfg.redis_url).await?;
    let meter = Arc::new(UpstashMeter::default());
    let state = AppState {
        redis,
        token: Arc::from(cfg.token.as_str()),
        guard: Arc::new(guard::Guard::new(meter.clone())),
        meter,
    };
    Ok(Router::new()
        .route(STATS_PATH, get(meter::stats))
        .route(STATS_RESET_PATH, post(meter::reset_stats))
        .route("/", post(single::single_json))
        .route("/pipeline", post(batch::pipeline))
        .route("/multi-exec", post(batch::multi_exec))
        .fallback(single::path_command)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state))
}
