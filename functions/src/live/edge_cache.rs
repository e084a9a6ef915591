//! The location cache a host may offer (Workers' Cache API): what lets the instances of one
//! location share a change-log read (see [`super::feed::poll_read`]). Spin has none.

use futures::future::LocalBoxFuture;

/// A cache shared by the instances of a location, keyed by URL. Best effort: a miss, an
/// error or a lost write only costs the read it would have saved.
pub trait EdgeCache {
    /// The bytes stored under `key`, if they are there and fresh.
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Option<Vec<u8>>>;
    /// Stores `body` under `key` for `max_age_secs`.
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>, max_age_secs: u64) -> LocalBoxFuture<'a, ()>;
}
