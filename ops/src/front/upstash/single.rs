//! One command per request: `POST /` with a JSON array, and the URL path form
//! `GET|POST /cmd/arg/…`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use redis::RedisError;
use serde_json::Value as Json_;

use super::AppState;
use super::command::{Outcome, parse_command, run_one};
use super::http::{admit, error_response, unauthorized, unavailable, wants_base64};

/// The HTTP response of a single command: a refusal or a Redis error is a 400.
fn render_single(o: Result<Outcome, RedisError>, b64: bool) -> Response {
    match o {
        Ok(Outcome::Error(e)) => error_response(StatusCode::BAD_REQUEST, e),
        Ok(reply) => Json(reply.into_json(b64)).into_response(),
        Err(e) => unavailable(&e),
    }
}

/// `POST /` with a JSON array command.
pub(super) async fn single_json(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !admit(&state, &headers, &uri) {
        return unauthorized();
    }
    let parsed = serde_json::from_slice::<Json_>(&body)
        .map_err(|e| format!("ERR invalid JSON body: {e}"))
        .and_then(|v| parse_command(&v));
    match parsed {
        Ok(args) => render_single(run_one(&state, args).await, wants_base64(&headers)),
        Err(e) => error_response(StatusCode::BAD_REQUEST, e),
    }
}

/// `GET|POST /cmd/arg/...`: the URL path form of a command.
pub(super) async fn path_command(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !admit(&state, &headers, &uri) {
        return unauthorized();
    }
    if method != Method::GET && method != Method::POST {
        return error_response(StatusCode::METHOD_NOT_ALLOWED, "ERR method not allowed");
    }
    let mut args: Vec<Vec<u8>> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).collect())
        .collect();
    if args.is_empty() {
        return error_response(StatusCode::BAD_REQUEST, "ERR no command in the URL path");
    }
    if let Some(q) = uri.query() {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if k == "_token" {
                continue;
            }
            args.push(percent_decode_str(k).collect());
            if !v.is_empty() {
                args.push(percent_decode_str(v).collect());
            }
        }
    }
    if method == Method::POST && !body.is_empty() {
        args.push(body.to_vec());
    }
    render_single(run_one(&state, args).await, wants_base64(&headers))
}
