//! Reading a request body within its route's limit, as it arrives: a declared
//! `Content-Length` over the limit is refused before a byte is read, and a body without one
//! (chunked) is counted chunk by chunk and refused as soon as it passes the limit. A client
//! cannot make an instance buffer megabytes (or wait for a body that never ends) only to be
//! told it was too large.
//!
//! The host shells call [`read`] with their platform's body stream; the app answers a refused
//! body with 413 `BODY_TOO_LARGE` like any other error (request id, CORS, metrics).

use crate::http::Request;
use crate::router::{self, Route};
use futures::{Stream, StreamExt};
use std::fmt::Debug;

/// The default limit: JSON bodies of ordinary routes.
pub const DEFAULT_LIMIT: usize = 1024 * 1024;
/// A seat map (`PUT /v1/events/{id}/seats`): tens of thousands of seats.
pub const SEAT_MAP_LIMIT: usize = 4 * 1024 * 1024;

/// The largest body the route at `path` accepts for `method`.
pub fn limit(method: &str, path: &str) -> usize {
    match router::resolve(path).map(|(route, _)| route) {
        Some(Route::Seats) if method.eq_ignore_ascii_case("PUT") => SEAT_MAP_LIMIT,
        _ => DEFAULT_LIMIT,
    }
}

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than `limit` (declared or counted); the rest was not read.
    TooLarge { limit: usize },
    /// The platform failed to deliver it (client gone, bad framing).
    Unreadable(String),
}

impl BodyError {
    /// The answer: 413 `BODY_TOO_LARGE` or 400 `BODY_UNREADABLE`.
    pub fn error(&self) -> shared::error::Error {
        match self {
            BodyError::TooLarge { limit } => shared::error::Error::Client {
                status: 413,
                code: "BODY_TOO_LARGE",
                message: format!("this body is limited to {limit} bytes"),
            },
            BodyError::Unreadable(why) => shared::error::Error::bad_request(
                "BODY_UNREADABLE",
                format!("the request body could not be read: {why}"),
            ),
        }
    }
}

/// Reads the body of `request` (whose headers are already set) from `chunks`, stopping at the
/// route's limit.
///
/// # Errors
/// [`BodyError::TooLarge`] as soon as the declared or counted length passes the limit;
/// [`BodyError::Unreadable`] when a chunk fails.
pub async fn read<S, B, E>(request: &Request, chunks: S) -> Result<Vec<u8>, BodyError>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: Debug,
{
    let limit = limit(&request.method, &request.path);
    let declared = request
        .headers
        .get("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut chunks = std::pin::pin!(chunks);
    let mut body = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| BodyError::Unreadable(format!("{e:?}")))?;
        let chunk = chunk.as_ref();
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::stream;

    fn post(path: &str, length: Option<usize>) -> Request {
        let mut request = Request::new("POST", path);
        if let Some(n) = length {
            request.headers.set("content-length", n.to_string());
        }
        request
    }

    #[test]
    fn routes_have_their_limits() {
        assert_eq!(limit("PUT", "/v1/events/evt_1/seats"), SEAT_MAP_LIMIT);
        assert_eq!(limit("POST", "/v1/events"), DEFAULT_LIMIT);
        assert_eq!(limit("POST", "/nowhere"), DEFAULT_LIMIT);
    }

    #[test]
    fn a_declared_length_over_the_limit_reads_nothing() {
        let polled = std::cell::Cell::new(0);
        let chunks = stream::poll_fn(|_| {
            polled.set(polled.get() + 1);
            std::task::Poll::Ready(Some(Ok::<_, String>(vec![0u8; 1024])))
        });
        let request = post("/v1/events", Some(DEFAULT_LIMIT + 1));
        assert_eq!(
            block_on(read(&request, chunks)),
            Err(BodyError::TooLarge {
                limit: DEFAULT_LIMIT
            })
        );
        assert_eq!(polled.get(), 0);
    }

    #[test]
    fn a_chunked_body_stops_at_the_first_chunk_past_the_limit() {
        // An endless body: only the counting reader ends it.
        let polled = std::cell::Cell::new(0usize);
        let chunks = stream::poll_fn(|_| {
            polled.set(polled.get() + 1);
            std::task::Poll::Ready(Some(Ok::<_, String>(vec![b'x'; 64 * 1024])))
        });
        let request = post("/v1/events", None);
        assert_eq!(
            block_on(read(&request, chunks)),
            Err(BodyError::TooLarge {
                limit: DEFAULT_LIMIT
            })
        );
        assert_eq!(polled.get(), DEFAULT_LIMIT / (64 * 1024) + 1);
    }

    #[test]
    fn a_body_within_the_limit_is_read_whole() {
        let chunks = stream::iter([Ok::<_, String>(b"{\"a\":".to_vec()), Ok(b"1}".to_vec())]);
        let request = post("/v1/events", Some(7));
        assert_eq!(block_on(read(&request, chunks)), Ok(b"{\"a\":1}".to_vec()));
        let broken = stream::iter([Ok(b"{".to_vec()), Err("reset".to_owned())]);
        assert_eq!(
            block_on(read(&request, broken)),
            Err(BodyError::Unreadable("\"reset\"".into()))
        );
    }
}
