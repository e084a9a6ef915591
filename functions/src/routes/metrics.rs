//! `GET /metrics`: Prometheus text, global across instances (see [`crate::metrics`]).
//!
//! Cost: one Redis round trip — a pipeline of `HGETALL` × (16 shards + indexer + check-in),
//! plus one `EVALSHA` when this instance had samples waiting to be flushed.

//!
//! With `METRICS_TOKEN` set (do so in production: the counters show traffic, routes and the
//! door's throughput) the scraper must send `Authorization: Bearer <token>`.

use crate::http::{Request, Response};
use crate::metrics;
use crate::services::Services;
use shared::error::Error;

/// 200 with the exposition text; 503 when Redis, which holds the counters, is down.
///
/// # Errors
/// 401 `METRICS_UNAUTHORIZED` without the configured token (checked before Redis is asked);
/// [`Error::Unavailable`] when Redis is unreachable.
pub async fn get<S: Services>(services: &S, request: &Request) -> Result<Response, Error> {
    if let Some(token) = &services.config().metrics_token
        && !request.bearer_matches(token)
    {
        return Err(Error::unauthorized(
            "METRICS_UNAUTHORIZED",
            "/metrics needs the bearer token METRICS_TOKEN",
        ));
    }
    let scrape = metrics::scrape(services).await?;
    let mut text = metrics::render(&scrape.http);
    text.push_str(&metrics::render_indexer(&scrape.indexer));
    text.push_str(&crate::checkin::metrics::render(&scrape.checkin));
    Ok(Response::with_body(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        text.into_bytes(),
    ))
}
