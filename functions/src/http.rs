//! The request and response values the host shells translate to and from.

use futures::Stream;
use serde::Serialize;
use shared::auth::secret::constant_time_eq;
use shared::config::Secret;
use shared::http::Headers;
use std::pin::Pin;

/// An incoming request, as the shells hand it over.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method as sent (may be one we do not know).
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    pub headers: Headers,
    pub body: Vec<u8>,
    /// The client's IP as the platform reports it (Workers: `CF-Connecting-IP`; Spin: the
    /// `X-Forwarded-For` entry `TRUSTED_PROXY_HOPS` from the right, see
    /// [`crate::client_ip`]). `None`: no usable address. Used for rate limits only.
    pub client_ip: Option<String>,
    /// Why the host did not read the body (too large for the route, or undeliverable); the app
    /// answers 413/400 then. See [`crate::body`].
    pub body_refused: Option<crate::body::BodyError>,
}

impl Request {
    /// Builds a request from a method and a path that may carry a query string.
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (path_and_query, None),
        };
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            headers: Headers::new(),
            body: Vec::new(),
            client_ip: None,
            body_refused: None,
        }
    }

    /// Whether `Authorization: Bearer <token>` carries exactly `secret`, compared in constant
    /// time. A missing header or another scheme compares as the empty token.
    pub fn bearer_matches(&self, secret: &Secret) -> bool {
        let presented = self
            .headers
            .get("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("");
        constant_time_eq(presented.as_bytes(), secret.expose().as_bytes())
    }
}

/// A response body sent as it is produced (server-sent events), chunk by chunk.
///
/// Not `Send`: Wasm is single-threaded, and the stream holds `Rc`s to the instance's shared
/// state (see `crate::live::feed`). `'static`: it outlives the request's borrows, so it owns
/// everything it reads through.
pub struct BodyStream(pub Pin<Box<dyn Stream<Item = Vec<u8>>>>);

impl BodyStream {
    /// Wraps a stream of chunks.
    pub fn new(stream: impl Stream<Item = Vec<u8>> + 'static) -> Self {
        BodyStream(Box::pin(stream))
    }
}

impl Stream for BodyStream {
    type Item = Vec<u8>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Vec<u8>>> {
        self.0.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BodyStream")
    }
}

/// An outgoing response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Headers,
    /// The whole body; for a streaming response, what is sent before the stream (usually
    /// nothing).
    pub body: Vec<u8>,
    /// A body that follows `body` as it is produced. `None` for every ordinary response: the
    /// shells then send `body` with its length. With `Some`, they send no length and copy
    /// the chunks as they come (Workers: a `ReadableStream`; Spin: a wasi:http p3 body
    /// stream).
    pub stream: Option<BodyStream>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, body: &impl Serialize) -> Self {
        // Our response types serialise infallibly (string keys only).
        let body = serde_json::to_vec(body).unwrap_or_default();
        Response::with_body(status, "application/json", body)
    }

    /// A response with a body of the given content type.
    pub fn with_body(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        let mut headers = Headers::new();
        headers.set("content-type", content_type);
        Response {
            status,
            headers,
            body,
            stream: None,
        }
    }

    /// A streaming response of the given content type (see [`Response::stream`]).
    pub fn streaming(status: u16, content_type: &str, stream: BodyStream) -> Self {
        let mut response = Response::with_body(status, content_type, Vec::new());
        response.stream = Some(stream);
        response
    }

    /// An empty response (204, 304).
    pub fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Headers::new(),
            body: Vec::new(),
            stream: None,
        }
    }
}
