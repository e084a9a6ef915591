//! `GET /__stats` and `POST /__stats/reset`: the front's counts (see the `stats`
//! module), behind the same token, never counted themselves.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::http::{authorized, unauthorized};

/// `GET /__stats`: the counts so far.
pub(super) async fn stats(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers, &uri) {
        return unauthorized();
    }
    Json(state.meter.read_stats()).into_response()
}

/// `POST /__stats/reset`: the counts so far, which are zeroed.
pub(super) async fn reset_stats(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !authorized(&state, &headers, &uri) {
        return unauthorized();
    }
    Json(state.meter.take_stats()).into_response()
}
