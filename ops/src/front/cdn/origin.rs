//! The trip to the origin: the client's request with its path and query on the origin's base
//! URL, hop-by-hop headers dropped and the client appended to `X-Forwarded-For` (as a CDN
//! does, so the origin's per-client rate limits see the client, not the CDN).

use std::net::SocketAddr;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::response::Response;

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// Where the CDN forwards to; set once the origin listens (see [`super::RunningCdn`]).
#[derive(Debug)]
pub(super) struct Origin {
    client: reqwest::Client,
    base: RwLock<Option<String>>,
}

/// One request as the CDN forwards it.
pub(super) struct Forward<'a> {
    pub(super) method: Method,
    pub(super) path_and_query: &'a str,
    pub(super) headers: &'a HeaderMap,
    pub(super) client: SocketAddr,
    pub(super) body: Bytes,
}

impl Origin {
    pub(super) fn new(base: Option<String>) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Origin {
            client,
            base: RwLock::new(base),
        })
    }

    pub(super) fn set(&self, base: &str) {
        let mut slot = self.base.write().unwrap_or_else(PoisonError::into_inner);
        *slot = Some(base.trim_end_matches('/').to_owned());
    }

    /// Sends `request` to the origin; the answer's body is still to be read.
    pub(super) async fn send(&self, request: Forward<'_>) -> Result<reqwest::Response, String> {
        let base = self
            .base
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or("the CDN has no origin yet")?;
        let mut headers = without_hop_by_hop(request.headers);
        let forwarded = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(earlier) => format!("{earlier}, {}", request.client.ip()),
            None => request.client.ip().to_string(),
        };
        if let Ok(value) = HeaderValue::from_str(&forwarded) {
            headers.insert("x-forwarded-for", value);
        }
        self.client
            .request(request.method, format!("{base}{}", request.path_and_query))
            .headers(headers)
            .body(request.body)
            .send()
            .await
            .map_err(|e| format!("origin request failed: {e}"))
    }
}

/// `headers` without the hop-by-hop ones (and those `Connection` names).
pub(super) fn without_hop_by_hop(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !HOP_BY_HOP.contains(&name) && !named.iter().any(|n| n == name)
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect::<HeaderMap<HeaderValue>>()
}

/// The origin's answer passed on as it streams (server-sent events pass through live).
pub(super) fn streamed(response: reqwest::Response) -> Response {
    let status = response.status();
    let mut headers = without_hop_by_hop(response.headers());
    headers.remove(HeaderName::from_static("content-length"));
    let chunks = futures::stream::unfold(Some(response), |response| async move {
        let mut response = response?;
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut out = Response::new(Body::from_stream(chunks));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}
