//! Transport-neutral HTTP values: what the [`crate::ports::HttpClient`] port sends and receives,
//! and what the host shells translate platform requests into.

use serde::Serialize;
use std::fmt;

/// The HTTP methods the API and its clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

impl Method {
    /// Parses a method name as it appears on the wire (case-sensitive, as HTTP says).
    pub fn parse(name: &str) -> Option<Method> {
        Some(match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => return None,
        })
    }

    /// The wire name of the method.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ordered header list with case-insensitive lookup (names are stored lower-case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// An empty header list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a header (keeps earlier ones with the same name).
    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_ascii_lowercase(), value.into()));
    }

    /// Replaces every header of this name with one value.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let name = name.to_ascii_lowercase();
        self.0.retain(|(n, _)| *n != name);
        self.0.push((name, value.into()));
    }

    /// The first value of the header, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All `(name, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

impl<K: AsRef<str>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut headers = Headers::new();
        for (k, v) in iter {
            headers.append(k.as_ref(), v);
        }
        headers
    }
}

/// An outbound request.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A `POST` with a JSON body and `content-type: application/json`.
    pub fn post_json(url: impl Into<String>, body: &impl Serialize) -> Self {
        // Serialising our own request types cannot fail (no maps with non-string keys).
        let body = serde_json::to_vec(body).unwrap_or_default();
        let mut headers = Headers::new();
        headers.set("content-type", "application/json");
        HttpRequest {
            method: Method::Post,
            url: url.into(),
            headers,
            body,
        }
    }

    /// Adds `authorization: Bearer <token>`.
    pub fn bearer(mut self, token: &str) -> Self {
        self.headers.set("authorization", format!("Bearer {token}"));
        self
    }

    /// Sets a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.set(name, value);
        self
    }
}

/// A response to an outbound request.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as text, lossily, cut to `max` bytes: for error messages.
    pub fn body_snippet(&self, max: usize) -> String {
        let end = self.body.len().min(max);
        String::from_utf8_lossy(&self.body[..end]).into_owned()
    }
}

/// Why an outbound request got no HTTP response at all. Always transient from the caller's
/// point of view: the peer may come back.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TransportError {
    /// Could not connect or the connection broke.
    #[error("connection failed: {0}")]
    Connect(String),
    /// No response within the deadline.
    #[error("no response within {0} ms")]
    Timeout(u64),
    /// The platform refused the request (bad URL, host not allowed, …).
    #[error("request refused by the platform: {0}")]
    Refused(String),
}
