//! The fan-out behind the availability stream: per instance and per event, one [`Feed`] reads
//! the change log at most once per `LIVE_POLL_MS`, however many streams watch the event.
//!
//! - Single flight: the first stream that finds the feed stale reads; the others wait for that
//!   read to land in the feed, so 200 watchers cost what one costs.
//! - Each stream keeps its own cursor and takes the entries after it from what the feed holds
//!   ([`Feed::after`]); a stream whose cursor is older than the feed's first entry reads its
//!   gap directly, once ([`Next::Gap`]).
//! - Where the host has a location cache (Workers' Cache API), the feed's read goes through it
//!   keyed by event and poll-time bucket ([`super::edge_cache::poll_read`]), so the isolates
//!   of a location share one Redis read per bucket too.
//! - With `LIVE_FEED_URL` set, the feed reads the updates route through the CDN in front of
//!   the API instead ([`super::cdn`]): every instance of every host shares the CDN's cache.
//!
//! The registry is module state (`thread_local!`: Wasm has one thread). It is shared by every
//! request an instance serves: on workerd that is every request of the isolate; on Spin each
//! instance serves one request (or, under `wasmtime serve`, up to 16 at once; 200 streams
//! opened together landed about three to an instance, see `tests/bench/live.rs`), so there
//! the sharing is per instance and the Redis cost grows with instances, not with watchers.

use super::cdn::{FeedRead, feed_read};
use super::feed_state::{State, merge};
use super::log::{Entry, LogRead, Range};
use crate::EdgeCache;
use futures::future::LocalBoxFuture;
use shared::domain::EventId;
use shared::error::Error;
use shared::http::HttpResponse;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

/// Entries one poll reads (the log's tail): more changes than this in one poll interval make
/// the streams that are behind read their gap directly.
pub const POLL_LIMIT: usize = 200;

/// What the feed needs from the platform, owned (a stream outlives its request's borrows) and
/// object-safe (the stream is one type whatever the host).
pub trait Backend {
    /// Reads the log of `event` (one `EVAL`).
    fn read<'a>(
        &'a self,
        event: &'a EventId,
        range: Range,
        limit: usize,
    ) -> LocalBoxFuture<'a, Result<LogRead, Error>>;
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> u64;
    /// Resolves after `ms`.
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()>;
    /// The location cache, when the host has one.
    fn cache(&self) -> Option<&dyn EdgeCache>;
    /// `LIVE_FEED_URL`: the API's base URL through the CDN in front of it, where the feed
    /// reads the log instead of Redis (see [`super::cdn`]).
    fn feed_url(&self) -> Option<&str>;
    /// `GET url` over the platform's HTTP client (any status is an `Ok`).
    fn get<'a>(&'a self, url: &'a str) -> LocalBoxFuture<'a, Result<HttpResponse, Error>>;
    /// Names the Redis database and key prefix: feeds of different deployments never mix.
    fn key_space(&self) -> &str;
    /// An operator-facing error line.
    fn log(&self, line: &str);
}

/// What a stream at some cursor can take from the feed.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// The entries after the cursor (in seq order, none missing).
    Entries(Vec<Entry>),
    /// The feed does not hold every entry after the cursor: read them directly.
    Gap,
    /// Nothing newer than the cursor, as far as the feed knows.
    Nothing,
}

/// Marks a read in flight; dropped with the reading stream, it frees the feed for another.
struct Reading<'a> {
    feed: &'a Feed,
    generation: u64,
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        let mut state = self.feed.state.borrow_mut();
        if state.reading == Some(self.generation) {
            state.reading = None;
        }
    }
}

/// One event's shared view of its log on this instance.
pub struct Feed {
    event: EventId,
    backend: Rc<dyn Backend>,
    poll_ms: u64,
    /// How long a stream waits for a read another stream started before giving up on it.
    read_budget_ms: u64,
    state: RefCell<State>,
}

thread_local! {
    static FEEDS: RefCell<HashMap<String, Weak<Feed>>> = RefCell::default();
}

/// The instance's feed of `event`, made if no stream watches it yet. Streams hold it; it goes
/// away with the last of them.
pub fn feed(backend: Rc<dyn Backend>, event: &EventId, poll_ms: u64, budget_ms: u64) -> Rc<Feed> {
    let key = format!("{} {}", backend.key_space(), event.as_str());
    FEEDS.with(|feeds| {
        let mut feeds = feeds.borrow_mut();
        if let Some(feed) = feeds.get(&key).and_then(Weak::upgrade) {
            return feed;
        }
        feeds.retain(|_, feed| feed.strong_count() > 0);
        let feed = Rc::new(Feed {
            event: event.clone(),
            backend,
            poll_ms: poll_ms.max(1),
            read_budget_ms: budget_ms,
            state: RefCell::default(),
        });
        feeds.insert(key, Rc::downgrade(&feed));
        feed
    })
}

impl Feed {
    /// The event this feed follows.
    pub fn event(&self) -> &EventId {
        &self.event
    }

    /// The platform pieces the feed reads through.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// The poll interval.
    pub fn poll_ms(&self) -> u64 {
        self.poll_ms
    }

    /// The last seq the feed has seen, if it has read the log yet.
    pub fn head(&self) -> Option<u64> {
        self.state.borrow().head
    }

    /// What a stream whose state reflects `cursor` can take now.
    pub fn after(&self, cursor: u64) -> Next {
        let state = self.state.borrow();
        let Some(head) = state.head else {
            return match state.lost_after {
                Some(lost) if cursor <= lost => Next::Gap,
                _ => Next::Nothing,
            };
        };
        if cursor >= head {
            return Next::Nothing;
        }
        match state.entries.front() {
            Some(first) if first.seq <= cursor.saturating_add(1) => Next::Entries(
                state
                    .entries
                    .iter()
                    .filter(|e| e.seq > cursor)
                    .cloned()
                    .collect(),
            ),
            _ => Next::Gap,
        }
    }

    /// When the feed's view gets older than one poll interval (0: it never read).
    pub fn stale_at(&self) -> u64 {
        self.state
            .borrow()
            .polled_at
            .map_or(0, |at| at.saturating_add(self.poll_ms))
    }

    /// Brings the feed up to date: starts a read when the feed is stale and none is in
    /// flight, or waits for the one in flight (a fresh feed is left as it is). Never fails: a
    /// failed read is logged and the feed stays as it was for another interval. `cursor` is
    /// the calling stream's: where a read through the CDN starts while the feed has no head.
    ///
    /// Waiting is polling a flag on the stream's own timer, not awaiting the other stream's
    /// future: a wakeup from another request's task panics a wasi:http p3 instance (wit-bindgen
    /// without `inter-task-wakeup`, which traps under `wasmtime serve` 49), and workerd warns
    /// about promises settled from another request's context.
    pub async fn refresh(&self, cursor: u64) {
        let now = self.backend.now_ms();
        let fresh = self.stale_at() > now;
        let started = {
            let mut state = self.state.borrow_mut();
            if state.reading.is_some() {
                None
            } else if fresh {
                return;
            } else {
                state.generation += 1;
                state.reading = Some(state.generation);
                Some((state.generation, state.head.unwrap_or(cursor)))
            }
        };
        match started {
            Some((generation, since)) => {
                // Clears the flag if this stream goes away mid-read (its client left).
                let _guard = Reading {
                    feed: self,
                    generation,
                };
                let read = feed_read(&*self.backend, &self.event, since, now, self.poll_ms).await;
                self.settle(read);
            }
            None => self.join(now).await,
        }
    }

    async fn join(&self, since: u64) {
        let pause = (self.poll_ms / 20).clamp(5, 50);
        loop {
            self.backend.sleep(pause).await;
            let now = self.backend.now_ms();
            let mut state = self.state.borrow_mut();
            if state.reading.is_none() {
                return;
            }
            if now >= since.saturating_add(self.read_budget_ms) {
                // The reader never finished (on workerd a read dies with its request): the
                // next stream to look starts another after an interval.
                state.reading = None;
                state.polled_at = Some(now);
                return;
            }
        }
    }

    fn settle(&self, read: Result<FeedRead, Error>) {
        let now = self.backend.now_ms();
        let mut state = self.state.borrow_mut();
        state.reading = None;
        state.polled_at = Some(now);
        match read {
            Ok(FeedRead::Log(read)) => merge(&mut state, read),
            Ok(FeedRead::TooOld(since)) => {
                // Not knowing the log's head any more, the feed starts again from the cursor
                // of the next stream that wakes it; the streams behind go to their gap reads.
                state.head = None;
                state.entries.clear();
                state.lost_after = Some(since);
            }
            Err(e) => self.backend.log(&format!(
                "live feed of {}: the log read failed: {e}",
                self.event.as_str()
            )),
        }
    }
}

#[cfg(test)]
#[path = "feed_tests.rs"]
pub(crate) mod tests;
