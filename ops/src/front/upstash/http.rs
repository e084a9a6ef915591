//! Request and response plumbing shared by the endpoints: the bearer token (or
//! Upstash's `_token` query parameter), the `Upstash-Encoding` header, and the
//! `{"error": …}` responses.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use redis::RedisError;
use serde_json::json;

use super::super::{bearer_ok, constant_time_eq};
use super::AppState;

pub(super) fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

pub(super) fn unauthorized() -> Response {
    error_response(StatusCode::UNAUTHORIZED, "Unauthorized")
}

/// Redis unreachable (or timed out): not the client's fault.
pub(super) fn unavailable(e: &RedisError) -> Response {
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("ERR redis unavailable: {e}"),
    )
}

/// Authorised by header, or by Upstash's `_token` query parameter.
pub(super) fn authorized(state: &AppState, headers: &HeaderMap, uri: &Uri) -> bool {
    if bearer_ok(headers, &state.token) {
        return true;
    }
    uri.query().is_some_and(|q| {
        q.split('&').any(|pair| {
            pair.strip_prefix("_token=").is_some_and(|t| {
                let t = percent_decode_str(t).collect::<Vec<u8>>();
                constant_time_eq(&t, state.token.as_bytes())
            })
        })
    })
}

/// Authorised, and then counted as a billed request (never for `/__stats`).
pub(super) fn admit(state: &AppState, headers: &HeaderMap, uri: &Uri) -> bool {
    let ok = authorized(state, headers, uri);
    if ok {
        state.meter.requests.add(1);
    }
    ok
}

pub(super) fn wants_base64(headers: &HeaderMap) -> bool {
    headers
        .get("upstash-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("base64"))
}
