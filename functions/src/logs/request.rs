//! What a request's log line adds to its metrics sample: the level, the error code and the
//! caller.

use super::{Level, short_wallet};
use crate::http::{Request, Response};
use crate::metrics::Sample;
use crate::router;
use crate::services::Services;
use serde::Serialize;
use shared::http::Method;

/// What one request did: the access-log line.
#[derive(Debug, Serialize)]
pub struct RequestLine {
    pub method: &'static str,
    /// The route template (`/v1/events/{id}`), `unmatched` when none: raw paths carry ids and
    /// would split every dashboard by them.
    pub route: &'static str,
    pub status: u16,
    pub duration_ms: u64,
    /// The authenticated caller, shortened (see [`short_wallet`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    /// Outbound HTTP calls made before the response (Redis, libSQL, RPC, feeds).
    pub subrequests: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

impl RequestLine {
    /// The line of a served request.
    pub fn of(
        sample: &Sample,
        wallet: Option<String>,
        subrequests: u32,
        error_code: Option<String>,
    ) -> Self {
        RequestLine {
            method: sample.method,
            route: sample.route,
            status: sample.status,
            duration_ms: sample.duration_ms,
            wallet,
            subrequests,
            error_code,
        }
    }

    /// The line of a request answered without a configuration (nothing was run).
    pub fn unconfigured(request: &Request, status: u16, error_code: Option<String>) -> Self {
        RequestLine {
            method: Method::parse(&request.method).map_or("OTHER", Method::as_str),
            route: router::resolve(&request.path).map_or("unmatched", |(r, _)| r.template()),
            status,
            duration_ms: 0,
            wallet: None,
            subrequests: 0,
            error_code,
        }
    }
}

/// 5xx answers are error lines (`console.error` on Workers), the rest info.
pub fn level_of(status: u16) -> Level {
    if status >= 500 {
        Level::Error
    } else {
        Level::Info
    }
}

/// The `error_code` of an error a handler answered itself (an `Ok` 4xx/5xx with the usual
/// error body, like the cron route's 503 report).
pub fn body_error_code(response: &Response) -> Option<String> {
    if response.status < 400 || response.stream.is_some() {
        return None;
    }
    let body: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    body.get("error_code")?.as_str().map(str::to_owned)
}

/// The shortened wallet of a request that carried a valid access token and was not refused
/// for it (401). Checked again here, without Redis: the handlers do not hand their caller back.
pub fn caller_wallet<S: Services>(services: &S, request: &Request, status: u16) -> Option<String> {
    if status == 401 || crate::extract::bearer_token(request).is_none() {
        return None;
    }
    let caller = crate::extract::authenticate_token(services, request).ok()?;
    Some(short_wallet(&caller.wallet.to_string()))
}
