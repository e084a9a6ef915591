//! CORS with a configured origin allow-list (`CORS_ALLOWED_ORIGINS`). Bearer tokens, not
//! cookies, carry identity, so credentials are never allowed.

use crate::http::{Request, Response};
use shared::config::Config;
use shared::error::Error;

const ALLOWED_HEADERS: &str =
    "authorization, content-type, idempotency-key, if-none-match, x-request-id";
const EXPOSED_HEADERS: &str =
    "etag, retry-after, x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset";

fn allowed_origin<'a>(config: &Config, request: &'a Request) -> Option<&'a str> {
    let origin = request.headers.get("origin")?;
    config
        .cors_allowed_origins
        .iter()
        .any(|allowed| allowed == "*" || allowed == origin)
        .then_some(origin)
}

/// Answers an `OPTIONS` preflight for a route serving `methods`.
///
/// # Errors
/// 403 `CORS_ORIGIN_DENIED` when the origin is not allowed.
pub fn preflight(
    config: &Config,
    request: &Request,
    methods: &[shared::http::Method],
) -> Result<Response, Error> {
    let origin = allowed_origin(config, request).ok_or_else(|| {
        Error::forbidden(
            "CORS_ORIGIN_DENIED",
            "this origin is not allowed to call the API",
        )
    })?;
    let mut response = Response {
        status: 204,
        headers: Default::default(),
        body: Vec::new(),
    };
    let names: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
    response.headers.set("access-control-allow-origin", origin);
    response
        .headers
        .set("access-control-allow-methods", names.join(", "));
    response
        .headers
        .set("access-control-allow-headers", ALLOWED_HEADERS);
    response.headers.set("access-control-max-age", "600");
    response.headers.set("vary", "Origin");
    Ok(response)
}

/// Adds the CORS headers to an actual response when the origin is allowed.
pub fn decorate(config: &Config, request: &Request, response: &mut Response) {
    if let Some(origin) = allowed_origin(config, request) {
        response.headers.set("access-control-allow-origin", origin);
        response
            .headers
            .set("access-control-expose-headers", EXPOSED_HEADERS);
        response.headers.set("vary", "Origin");
    }
}
