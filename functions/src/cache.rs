//! Public catalog reads cached in Redis for a short TTL, with strong ETags.
//!
//! Entries live in a Redis hash per event (and one for event lists), so an organizer write
//! invalidates with one `DEL` instead of hunting keys. A reader that computed from libSQL just
//! before a write can store a stale entry right after the `DEL`; the TTL (`CACHE_TTL_SECS`,
//! default 30 s) bounds that window. Redis being down never fails a read: we compute instead.

use crate::http::{Request, Response};
use crate::services::Services;
use sha2::{Digest, Sha256};
use shared::error::Error;
use shared::ports::Redis;
use shared::redis::{Command, Value};
use std::future::Future;

/// Stores an entry and gives a new hash its TTL (`scripts/cache_store.lua`); sent as `EVAL`
/// because deferred commands are not retried on `NOSCRIPT`.
const STORE: &str = include_str!("scripts/cache_store.lua");

/// Serves `hash_key[field]` from the cache or from `compute`, honouring `If-None-Match`.
///
/// # Errors
/// Whatever `compute` fails with (errors are never cached).
pub async fn cached_json<S, F, Fut>(
    services: &S,
    request: &Request,
    hash_key: String,
    field: &str,
    compute: F,
) -> Result<Response, Error>
where
    S: Services,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<serde_json::Value, Error>>,
{
    let redis = services.redis();
    let cached = match redis
        .exec(Command::new("HGET").arg(&hash_key).arg(field))
        .await
    {
        Ok(Value::Bytes(body)) => Some(body),
        _ => None,
    };
    let hit = cached.is_some();
    let body = match cached {
        Some(body) => body,
        None => {
            let body = serde_json::to_vec(&compute().await?)
                .map_err(|e| Error::Internal(e.to_string()))?;
            // Stored after the response: a miss costs the reader no extra round trip. A failure
            // reaches the operator's log (see `Services::defer`); the next read computes again.
            services.defer(
                Command::new("EVAL")
                    .arg(STORE)
                    .arg("1")
                    .arg(&hash_key)
                    .arg(field)
                    .arg(String::from_utf8_lossy(&body))
                    .arg(services.config().cache_ttl_secs.to_string()),
            );
            body
        }
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..32]);
    let matches = request.headers.get("if-none-match").is_some_and(|value| {
        value
            .split(',')
            .any(|tag| tag.trim().trim_start_matches("W/") == etag || tag.trim() == "*")
    });
    let mut response = if matches {
        Response::empty(304)
    } else {
        Response::with_body(200, "application/json", body)
    };
    response.headers.set("etag", etag);
    response.headers.set("cache-control", "no-cache");
    response
        .headers
        .set("x-cache", if hit { "hit" } else { "miss" });
    Ok(response)
}

/// Drops the cached reads of an event and every cached list.
pub async fn invalidate<S: Services>(services: &S, event_id: &str) {
    let _ = services
        .redis()
        .exec(
            Command::new("DEL")
                .arg(crate::keys::event_cache(services, event_id))
                .arg(crate::keys::list_cache(services)),
        )
        .await;
}
