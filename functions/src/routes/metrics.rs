//! `GET /metrics`: Prometheus text, global across instances (see [`crate::metrics`]).
//!
//! Cost: one Redis round trip — a pipeline of `HGETALL` × (16 shards + indexer + check-in),
//! plus one `EVALSHA` when this instance had samples waiting to be flushed.

use crate::http::Response;
use crate::metrics;
use crate::services::Services;
use shared::error::Error;

/// 200 with the exposition text; 503 when Redis, which holds the counters, is down.
///
/// # Errors
/// [`Error::Unavailable`] when Redis is unreachable.
pub async fn get<S: Services>(services: &S) -> Result<Response, Error> {
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
