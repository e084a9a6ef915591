//! The CDN's own counters, answered at `GET /__stats` (never counted themselves):
//! `{"hits":9,"misses":2,"collapsed":5,"originRequests":3,"passed":1}`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// What the CDN served so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CdnStats {
    /// Cacheable requests answered from a fresh stored response.
    pub hits: u64,
    /// Cacheable requests that found no fresh response (each waited for an origin request).
    pub misses: u64,
    /// Misses that joined another miss's origin request instead of making their own.
    pub collapsed: u64,
    /// Requests sent to the origin (misses that fetched, and passed-through requests).
    pub origin_requests: u64,
    /// Requests passed through uncached (anything but a `GET`).
    pub passed: u64,
}

/// The live counters behind [`CdnStats`].
#[derive(Debug, Default)]
pub(super) struct Meter {
    pub(super) hits: AtomicU64,
    pub(super) misses: AtomicU64,
    pub(super) collapsed: AtomicU64,
    pub(super) origin_requests: AtomicU64,
    pub(super) passed: AtomicU64,
}

impl Meter {
    pub(super) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn read(&self) -> CdnStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CdnStats {
            hits: get(&self.hits),
            misses: get(&self.misses),
            collapsed: get(&self.collapsed),
            origin_requests: get(&self.origin_requests),
            passed: get(&self.passed),
        }
    }
}
