//! `GET /v1/events/{id}/availability/stream`: the change log as server-sent events.

use crate::call::Call;
use crate::http::Response;
use crate::services::Services;
use shared::error::Error;

/// `GET /v1/events/{id}/availability/stream`.
///
/// # Errors
/// 404 `ROUTE_NOT_FOUND` until the stream exists.
pub async fn get<S: Services>(_services: &S, _call: &Call<'_>) -> Result<Response, Error> {
    Err(Error::not_found(
        "ROUTE_NOT_FOUND",
        "the availability stream is not served yet",
    ))
}
