//! The stored answers, keyed by path and query, and the origin requests in flight: misses
//! of one key that arrive while its origin request runs wait for that request and share its
//! answer (request collapsing, as CDNs do), so a crowd costs the origin one request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::sync::OnceCell;

/// An answer of the origin, read whole.
#[derive(Debug)]
pub(super) struct Stored {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
    stored_at: Instant,
    /// How long it may be served from the cache; `None`: only to the misses that waited.
    ttl: Option<Duration>,
}

impl Stored {
    pub(super) fn new(
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        ttl: Option<Duration>,
    ) -> Self {
        Stored {
            status,
            headers,
            body,
            stored_at: Instant::now(),
            ttl,
        }
    }

    fn fresh(&self, now: Instant) -> bool {
        self.ttl
            .is_some_and(|ttl| now.duration_since(self.stored_at) < ttl)
    }

    /// The answer to a client, with `X-Cache` (`HIT` or `MISS`) and, for a hit, `Age`.
    pub(super) fn response(&self, hit: bool) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        let headers = response.headers_mut();
        headers.insert(
            "x-cache",
            HeaderValue::from_static(if hit { "HIT" } else { "MISS" }),
        );
        if hit {
            headers.insert("age", self.stored_at.elapsed().as_secs().into());
        }
        response
    }
}

/// An origin request in flight: its answer, once there, or why there is none.
pub(super) type Flight = Arc<OnceCell<Result<Arc<Stored>, String>>>;

/// The cache of one CDN.
#[derive(Debug, Default)]
pub(super) struct Cache {
    entries: Mutex<HashMap<String, Arc<Stored>>>,
    flights: Mutex<HashMap<String, Flight>>,
}

impl Cache {
    /// The fresh answer stored under `key`, if any (a stale one is dropped).
    pub(super) fn fresh(&self, key: &str) -> Option<Arc<Stored>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some(stored) if stored.fresh(Instant::now()) => Some(stored.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// The origin request of `key` in flight, started by this caller (`true`) or joined.
    pub(super) fn flight(&self, key: &str) -> (Flight, bool) {
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(flight) = flights.get(key) {
            return (flight.clone(), false);
        }
        let flight = Flight::default();
        flights.insert(key.to_owned(), flight.clone());
        (flight, true)
    }

    /// Ends `flight` (if it is still the one of `key`) and stores its answer when it may be.
    pub(super) fn land(&self, key: &str, flight: &Flight) {
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        if !flights.get(key).is_some_and(|f| Arc::ptr_eq(f, flight)) {
            return;
        }
        flights.remove(key);
        drop(flights);
        if let Some(Ok(stored)) = flight.get()
            && stored.ttl.is_some()
        {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            entries.insert(key.to_owned(), stored.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(ttl: Option<Duration>) -> Result<Arc<Stored>, String> {
        let body = Bytes::from_static(b"{}");
        Ok(Arc::new(Stored::new(
            StatusCode::OK,
            HeaderMap::new(),
            body,
            ttl,
        )))
    }

    #[tokio::test]
    async fn misses_share_a_flight_and_only_cacheable_answers_are_stored() {
        let cache = Cache::default();
        let (first, leader) = cache.flight("/a");
        let (second, joined) = cache.flight("/a");
        assert!(leader && !joined && Arc::ptr_eq(&first, &second));
        first
            .get_or_init(|| async { stored(Some(Duration::from_secs(60))) })
            .await;
        cache.land("/a", &first);
        cache.land("/a", &second);
        assert!(cache.fresh("/a").is_some());
        let (third, leader) = cache.flight("/b");
        assert!(leader);
        third.get_or_init(|| async { stored(None) }).await;
        cache.land("/b", &third);
        assert!(
            cache.fresh("/b").is_none(),
            "not cacheable: only the waiters got it"
        );
        assert!(cache.flight("/b").1, "the next miss fetches again");
    }
}
