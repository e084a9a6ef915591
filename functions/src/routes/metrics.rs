//! `GET /metrics`: Prometheus text, global across instances (see [`crate::metrics`]).

use crate::http::Response;
use crate::metrics;
use crate::services::Services;
use shared::error::Error;

/// 200 with the exposition text; 503 when Redis, which holds the counters, is down.
///
/// # Errors
/// [`Error::Unavailable`] when Redis is unreachable.
pub async fn get<S: Services>(services: &S) -> Result<Response, Error> {
    let fields = metrics::read(services).await?;
    let mut text = metrics::render(&fields);
    text.push_str(&metrics::render_indexer(
        &metrics::read_indexer(services).await?,
    ));
    text.push_str(&crate::checkin::metrics::render(
        &metrics::read_hash(services, crate::checkin::metrics::key(services)).await?,
    ));
    Ok(Response::with_body(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        text.into_bytes(),
    ))
}
