//! The HTTP face of the front: authorization, pipeline bodies and the status
//! codes and bodies `sqld` answers with (tag `libsql-server-v0.24.33`):
//!
//! - 401 `{"error":"Unauthorized: `<AuthError>`"}` (`Error::AuthError` in
//!   `error.rs`, texts from `auth/errors.rs`, chosen as the JWT strategy in
//!   `auth/user_auth_strategies/jwt.rs` chooses them);
//! - 400 `text/plain` with the `ProtocolError` text for a body that is not a
//!   pipeline request ("Cannot deserialize client message from JSON: …", which
//!   covers an unknown request type), a bad baton ("Received an invalid
//!   baton") and protocol errors inside the pipeline
//!   (`protocol_error_response` in `hrana/http/mod.rs`);
//! - 400 JSON `{"message","code":"STREAM_EXPIRED"}` for an expired stream
//!   (`stream_error_response`);
//! - 403 `{"error":"Authorization forbidden: …"}` for `ATTACH`.
//!
//! Front-only failures (too many open streams, a crashed worker) use the
//! same `{"error": …}` shape as `sqld`'s other errors.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use libsql_hrana::proto::{PipelineReqBody, PipelineRespBody};
use serde_json::json;

use super::AppState;
use super::errors::{Failure, protocol, sql_error};
use super::exec::{self, SqlStream};
use super::streams::Taken;
use crate::front::bearer_ok;

pub(super) async fn health() -> &'static str {
    "ok"
}

/// `GET /v2`, `GET /v3`: `sqld`'s `handle_index` text (no token needed).
pub(super) async fn version() -> &'static str {
    "Hello, this is HTTP API v2 (Hrana over HTTP)"
}

/// `sqld`'s error body for non-protocol failures.
fn error_body(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// A protocol error: HTTP 400, the text as `text/plain`.
fn protocol_error(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(CONTENT_TYPE, "text/plain")],
        message,
    )
        .into_response()
}

/// Why `headers` do not authorize a request, in `sqld`'s words; `None` when
/// they do.
fn auth_refusal(headers: &HeaderMap, token: &str) -> Option<&'static str> {
    // A header that is not ASCII counts as absent, as in `sqld`'s
    // `build_context`.
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Some("Expected authorization header but none given");
    };
    let Some((scheme, _)) = value.split_once(' ') else {
        return Some("Auth string does not conform to '<scheme> <token>' form");
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Some(
            "The authentication scheme in the `Authorization` HTTP header is not supported",
        );
    }
    (!bearer_ok(headers, token)).then_some("The JWT is invalid")
}

/// 401 unless `headers` carry the token.
fn unauthorized(headers: &HeaderMap, token: &str) -> Option<Response> {
    auth_refusal(headers, token).map(|reason| {
        error_body(
            StatusCode::UNAUTHORIZED,
            &format!("Unauthorized: `{reason}`"),
        )
    })
}

/// `GET /__stats`: the counts so far.
pub(super) async fn stats(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(refused) = unauthorized(&headers, &state.token) {
        return refused;
    }
    Json(state.meter.read()).into_response()
}

/// `POST /__stats/reset`: the counts so far, which are zeroed.
pub(super) async fn reset_stats(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(refused) = unauthorized(&headers, &state.token) {
        return refused;
    }
    Json(state.meter.take()).into_response()
}

/// `POST /v2/pipeline` (Hrana 2).
pub(super) async fn pipeline_v2(
    state: State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    pipeline(state, headers, body, false).await
}

/// `POST /v3/pipeline` (Hrana 3).
pub(super) async fn pipeline_v3(
    state: State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    pipeline(state, headers, body, true).await
}

/// How a pipeline ended on its worker thread.
enum Outcome {
    Done(PipelineRespBody),
    Failed(Failure),
    /// The front's own limit, not `sqld`'s.
    TooManyStreams,
}

async fn pipeline(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
    hrana3: bool,
) -> Response {
    if let Some(refused) = unauthorized(&headers, &state.token) {
        return refused;
    }
    // Every authorized pipeline is a billed request, even one that fails.
    state.meter.requests.add(1);
    let req: PipelineReqBody = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return protocol_error(protocol::json(&e)),
    };
    let existing = match &req.baton {
        Some(baton) => match state.take(baton) {
            Taken::Stream(stream) => Some(stream),
            Taken::Expired => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({
                        "message": "The stream has expired due to inactivity",
                        "code": "STREAM_EXPIRED",
                    })),
                )
                    .into_response();
            }
            Taken::Invalid => return protocol_error(protocol::BATON_INVALID.into()),
        },
        None => None,
    };
    let worker_state = state.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut stream = match existing {
            Some(s) => s,
            None => match worker_state.connection() {
                Ok(conn) => SqlStream::new(conn, worker_state.meter.clone()),
                Err(e) => return Outcome::Failed(Failure::Stmt(sql_error(e))),
            },
        };
        // On a failure the stream is dropped, which closes it (and rolls
        // back), as `sqld` closes a stream whose guard is not released.
        let results = match exec::run_requests(&mut stream, req.requests, hrana3) {
            Ok(results) => results,
            Err(failure) => return Outcome::Failed(failure),
        };
        let baton = if stream.closed {
            // Closing the connection rolls back a transaction left open.
            drop(stream);
            None
        } else {
            match worker_state.park(stream) {
                Some(baton) => Some(baton),
                None => return Outcome::TooManyStreams,
            }
        };
        Outcome::Done(PipelineRespBody {
            baton,
            base_url: None,
            results,
        })
    })
    .await;
    match joined {
        Ok(Outcome::Done(resp)) => Json(resp).into_response(),
        Ok(Outcome::Failed(Failure::Protocol(message))) => protocol_error(message),
        Ok(Outcome::Failed(Failure::Forbidden(message))) => error_body(
            StatusCode::FORBIDDEN,
            &format!("Authorization forbidden: {message}"),
        ),
        Ok(Outcome::Failed(Failure::Stmt(e))) => error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("Could not open a connection: {}", e.message),
        ),
        Ok(Outcome::TooManyStreams) => {
            error_body(StatusCode::SERVICE_UNAVAILABLE, "Too many open streams")
        }
        Err(e) => error_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("Internal Error: `Pipeline execution failed: {e}`"),
        ),
    }
}
