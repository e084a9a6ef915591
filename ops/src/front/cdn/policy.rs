//! What the CDN may store, and for how long: a `200` answer to a `GET` that says
//! `Cache-Control: public, max-age=N` (N > 0), for N seconds, as a shared cache reads it
//! (RFC 9111): `private`, `no-store`, `no-cache` or a `Set-Cookie` keep it out. Other
//! directives (`stale-while-revalidate`, `s-maxage`) are not served here: a stored answer is
//! fresh for `max-age` and then fetched again.

use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode, header};

/// Whether a request may be answered from the cache at all.
pub(super) fn cacheable_request(method: &Method) -> bool {
    method == Method::GET
}

/// How long the answer may be stored; `None`: not at all.
pub(super) fn freshness(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::OK || headers.contains_key(header::SET_COOKIE) {
        return None;
    }
    let mut public = false;
    let mut max_age = None;
    for value in headers.get_all(header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else {
            return None;
        };
        for directive in value.split(',').map(str::trim) {
            let (name, arg) = directive.split_once('=').unwrap_or((directive, ""));
            match name.to_ascii_lowercase().as_str() {
                "public" => public = true,
                "private" | "no-store" | "no-cache" => return None,
                "max-age" => max_age = arg.trim_matches('"').parse::<u64>().ok(),
                _ => {}
            }
        }
    }
    match (public, max_age) {
        (true, Some(secs)) if secs > 0 => Some(Duration::from_secs(secs)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(cache_control: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(cache_control).expect("header"),
        );
        headers
    }

    #[test]
    fn public_max_age_is_stored_for_its_seconds() {
        let ok = StatusCode::OK;
        assert_eq!(
            freshness(ok, &headers("public, max-age=1, stale-while-revalidate=1")),
            Some(Duration::from_secs(1))
        );
        assert_eq!(freshness(ok, &headers("max-age=5")), None, "not public");
        assert_eq!(freshness(ok, &headers("public, max-age=0")), None);
        assert_eq!(freshness(ok, &headers("public, no-store, max-age=5")), None);
        assert_eq!(freshness(ok, &headers("no-cache")), None);
        assert_eq!(
            freshness(StatusCode::CONFLICT, &headers("public, max-age=5")),
            None
        );
        let mut cookie = headers("public, max-age=5");
        cookie.insert(header::SET_COOKIE, HeaderValue::from_static("a=b"));
        assert_eq!(freshness(ok, &cookie), None);
        assert!(cacheable_request(&Method::GET));
        assert!(!cacheable_request(&Method::POST));
    }
}
