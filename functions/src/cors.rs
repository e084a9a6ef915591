//! CORS with a configured origin allow-list (`CORS_ALLOWED_ORIGINS`). Bearer tokens, not
//! cookies, carry identity, so credentials are never allowed.

use crate::http::{Request, Response};
use shared::config::Config;
use shared::error::Error;

/// Request headers a browser client may send: identity, JSON, idempotent creates, cache
/// revalidation, and the sale's waiting-room ticket and admission token (without these two a
/// cross-origin shop cannot get through the queue).
const ALLOWED_HEADERS: &str = "authorization, content-type, idempotency-key, if-none-match, \
     x-admission-token, x-queue-ticket, x-request-id";
/// Response headers a browser client may read: caching, its request id, and the rate limit
/// (`Retry-After`, `X-RateLimit-*`) so it can back off instead of retrying blindly.
const EXPOSED_HEADERS: &str = "etag, retry-after, x-request-id, x-ratelimit-limit, \
     x-ratelimit-remaining, x-ratelimit-reset";

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
    let mut response = Response::empty(204);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::Services;
    use shared::http::Method;

    fn config(origins: &[&str]) -> Config {
        let mut config = crate::testing::FakeServices::up().config().clone();
        config.cors_allowed_origins = origins.iter().map(|o| (*o).to_owned()).collect();
        config
    }

    fn from(origin: &str) -> Request {
        let mut request = Request::new("OPTIONS", "/v1/holds");
        request.headers.set("origin", origin);
        request
    }

    fn listed(value: Option<&str>) -> Vec<String> {
        value
            .unwrap_or_default()
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect()
    }

    #[test]
    fn preflight_allows_the_sale_and_idempotency_headers() {
        let config = config(&["https://shop.example"]);
        let response =
            preflight(&config, &from("https://shop.example"), &[Method::Post]).expect("allowed");
        assert_eq!(response.status, 204);
        let allowed = listed(response.headers.get("access-control-allow-headers"));
        for header in [
            "x-admission-token",
            "x-queue-ticket",
            "idempotency-key",
            "authorization",
            "content-type",
        ] {
            assert!(
                allowed.iter().any(|h| h == header),
                "{header} in {allowed:?}"
            );
        }
        assert_eq!(
            response.headers.get("access-control-allow-origin"),
            Some("https://shop.example")
        );
    }

    #[test]
    fn responses_expose_the_rate_limit_headers() {
        let config = config(&["https://shop.example"]);
        let mut response = Response::json(200, &serde_json::json!({}));
        decorate(&config, &from("https://shop.example"), &mut response);
        let exposed = listed(response.headers.get("access-control-expose-headers"));
        for header in [
            "retry-after",
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            "x-request-id",
            "etag",
        ] {
            assert!(
                exposed.iter().any(|h| h == header),
                "{header} in {exposed:?}"
            );
        }
    }

    #[test]
    fn a_foreign_origin_gets_neither() {
        let config = config(&["https://shop.example"]);
        let denied = preflight(&config, &from("https://evil.example"), &[Method::Post]);
        assert!(denied.is_err());
        let mut response = Response::json(200, &serde_json::json!({}));
        decorate(&config, &from("https://evil.example"), &mut response);
        assert_eq!(response.headers.get("access-control-expose-headers"), None);
    }
}
