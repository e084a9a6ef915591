//! The fan-out against an in-memory log and a virtual clock: one read however many streams
//! refresh at once, what a stream at a cursor takes, gaps, and the location cache.

use super::*;
use crate::live::edge_cache::poll_read;
use crate::live::sse::{HEARTBEAT, RETRY, Timing, Watcher, frame};
use futures::FutureExt;
use futures::executor::block_on;
use futures::future::join_all;
use std::cell::Cell;
use std::task::Poll;

/// A log in memory; reads yield once (so concurrent refreshes overlap) and are counted.
/// Time is virtual (see `sleep`).
#[derive(Default)]
pub(crate) struct FakeBackend {
    pub(crate) log: RefCell<Vec<u64>>,
    /// The oldest seq still kept (older entries were trimmed).
    pub(crate) oldest: Cell<u64>,
    pub(crate) reads: Cell<usize>,
    pub(crate) now: Cell<u64>,
    pub(crate) cache: Option<FakeCache>,
    /// Set: the feed reads through this "CDN" ([`Backend::get`] answers as the updates route).
    pub(crate) feed_url: Option<String>,
    /// The URLs asked through [`Backend::get`].
    pub(crate) urls: RefCell<Vec<String>>,
    /// Every [`Backend::get`] answers 503.
    pub(crate) cdn_down: Cell<bool>,
    /// The key space (empty: `test`): another one stands for another instance.
    pub(crate) space: String,
}

#[derive(Default)]
pub(crate) struct FakeCache {
    stored: RefCell<HashMap<String, Vec<u8>>>,
}

impl EdgeCache for FakeCache {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Option<Vec<u8>>> {
        let hit = self.stored.borrow().get(key).cloned();
        async move { hit }.boxed_local()
    }
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>, _: u64) -> LocalBoxFuture<'a, ()> {
        self.stored.borrow_mut().insert(key.to_owned(), body);
        async {}.boxed_local()
    }
}

pub(crate) fn entry(seq: u64) -> Entry {
    Entry {
        seq,
        json: format!(r#"{{"seq":{seq},"kind":"hold"}}"#),
    }
}

impl FakeBackend {
    pub(crate) fn with_log(seqs: std::ops::RangeInclusive<u64>) -> Rc<Self> {
        Rc::new(Self::log_of(seqs))
    }

    pub(crate) fn log_of(seqs: std::ops::RangeInclusive<u64>) -> Self {
        let backend = FakeBackend::default();
        backend.oldest.set(*seqs.start());
        *backend.log.borrow_mut() = seqs.collect();
        backend
    }

    pub(crate) fn append(&self, seq: u64) {
        self.log.borrow_mut().push(seq);
    }

    /// What `live_read.lua` would answer now.
    pub(crate) fn read_now(&self, range: Range, limit: usize) -> LogRead {
        let log = self.log.borrow();
        let kept: Vec<u64> = log
            .iter()
            .copied()
            .filter(|s| *s >= self.oldest.get())
            .collect();
        let entries: Vec<Entry> = match range {
            Range::Tail => kept[kept.len().saturating_sub(limit)..].iter(),
            Range::After(since) => kept[kept.partition_point(|s| *s <= since)..].iter(),
        }
        .take(limit)
        .map(|s| entry(*s))
        .collect();
        LogRead {
            head: log.last().copied(),
            oldest: kept.first().copied(),
            entries,
        }
    }
}

impl Backend for FakeBackend {
    fn read<'a>(
        &'a self,
        _: &'a EventId,
        range: Range,
        limit: usize,
    ) -> LocalBoxFuture<'a, Result<LogRead, Error>> {
        self.reads.set(self.reads.get() + 1);
        let read = self.read_now(range, limit);
        let mut yielded = false;
        futures::future::poll_fn(move |cx| {
            if yielded {
                Poll::Ready(Ok(read.clone()))
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .boxed_local()
    }
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
    /// Virtual time: the clock moves when a sleep ends. A sleep takes three polls, a read
    /// two, so a read outruns the budget raced against it, as it does in real time.
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()> {
        let mut polls = 0;
        futures::future::poll_fn(move |cx| {
            polls += 1;
            if polls < 3 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                self.now.set(self.now.get() + ms);
                Poll::Ready(())
            }
        })
        .boxed_local()
    }
    fn cache(&self) -> Option<&dyn EdgeCache> {
        self.cache.as_ref().map(|c| c as &dyn EdgeCache)
    }
    fn feed_url(&self) -> Option<&str> {
        self.feed_url.as_deref()
    }
    fn get<'a>(&'a self, url: &'a str) -> LocalBoxFuture<'a, Result<HttpResponse, Error>> {
        self.urls.borrow_mut().push(url.to_owned());
        let answer = if self.cdn_down.get() {
            (503, serde_json::json!({"error_code": "REDIS_UNAVAILABLE"}))
        } else {
            updates_answer(self, url)
        };
        let response = HttpResponse {
            status: answer.0,
            headers: shared::http::Headers::new(),
            body: answer.1.to_string().into_bytes(),
        };
        async move { Ok(response) }.boxed_local()
    }
    fn key_space(&self) -> &str {
        if self.space.is_empty() {
            "test"
        } else {
            &self.space
        }
    }
    fn log(&self, _: &str) {}
}

/// What `GET …/availability/updates?since_seq=&limit=` answers for the fake's log.
fn updates_answer(backend: &FakeBackend, url: &str) -> (u16, serde_json::Value) {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let param = |name: &str| -> u64 {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse().ok())
            .expect("a numeric query parameter")
    };
    let (since, limit) = (param("since_seq"), param("limit"));
    let read = backend.read_now(Range::After(since), limit as usize);
    let too_old = serde_json::json!({"error_code": "SEQ_TOO_OLD"});
    let Some(head) = read.head else {
        return (409, too_old);
    };
    if since > head {
        return (400, serde_json::json!({"error_code": "SEQ_AHEAD"}));
    }
    if !read.covers(since) {
        return (409, too_old);
    }
    let updates: Vec<serde_json::Value> = read
        .entries
        .iter()
        .map(|e| serde_json::from_str(&e.json).expect("entry JSON"))
        .collect();
    let body = serde_json::json!({
        "eventId": "evt",
        "fromSeq": since,
        "toSeq": read.entries.last().map_or(since, |e| e.seq),
        "headSeq": head,
        "updates": updates,
    });
    (200, body)
}

pub(crate) fn event(n: u8) -> EventId {
    EventId::parse(&format!("evt_{:020x}", n)).expect("event id")
}

fn feed_of(backend: &Rc<FakeBackend>, n: u8) -> Rc<Feed> {
    feed(backend.clone(), &event(n), 1_000, 5_000)
}

#[test]
fn concurrent_refreshes_share_one_read() {
    let backend = FakeBackend::with_log(1..=5);
    let feed = feed_of(&backend, 1);
    block_on(join_all((0..200).map(|_| feed.refresh(0))));
    assert_eq!(backend.reads.get(), 1, "200 streams, one read");
    assert_eq!(feed.after(3), Next::Entries(vec![entry(4), entry(5)]));
    assert_eq!(feed.after(5), Next::Nothing);
    assert_eq!(feed.stale_at(), 1_000);
}

#[test]
fn a_stream_older_than_the_feed_reads_its_gap() {
    let backend = FakeBackend::with_log(1..=500);
    let feed = feed_of(&backend, 2);
    block_on(feed.refresh(0));
    // The tail read holds the last POLL_LIMIT entries.
    assert!(matches!(feed.after(301), Next::Entries(e) if e.len() == 199));
    assert!(matches!(feed.after(300), Next::Entries(e) if e.len() == 200));
    assert_eq!(feed.after(299), Next::Gap);
}

#[test]
fn later_reads_append_and_an_older_cached_view_is_ignored() {
    let backend = FakeBackend::with_log(1..=3);
    let feed = feed_of(&backend, 3);
    block_on(feed.refresh(0));
    backend.append(4);
    backend.append(5);
    block_on(feed.refresh(0));
    assert_eq!(backend.reads.get(), 1, "a fresh feed does not read");
    backend.now.set(1_000);
    block_on(feed.refresh(0));
    assert_eq!(
        feed.after(0),
        Next::Entries((1..=5).map(entry).collect()),
        "contiguous from the first read"
    );
    let mut state = feed.state.borrow_mut();
    merge(
        &mut state,
        LogRead {
            head: Some(4),
            oldest: Some(1),
            entries: vec![entry(4)],
        },
    );
    assert_eq!(state.head, Some(5));
}

#[test]
fn the_registry_shares_a_feed_per_event_while_streams_hold_it() {
    let backend = FakeBackend::with_log(1..=1);
    let a = feed_of(&backend, 4);
    assert!(Rc::ptr_eq(&a, &feed_of(&backend, 4)));
    assert!(!Rc::ptr_eq(&a, &feed_of(&backend, 5)));
    let weak = Rc::downgrade(&a);
    drop(a);
    assert!(weak.upgrade().is_none(), "no stream, no feed");
}

#[test]
fn the_location_cache_serves_a_bucket_once() {
    let backend = Rc::new(FakeBackend {
        cache: Some(FakeCache::default()),
        ..FakeBackend::default()
    });
    *backend.log.borrow_mut() = vec![1, 2];
    let first = block_on(poll_read(&*backend, &event(6), 7)).expect("read");
    let second = block_on(poll_read(&*backend, &event(6), 7)).expect("cached");
    assert_eq!(backend.reads.get(), 1);
    assert_eq!(first, second);
    block_on(poll_read(&*backend, &event(6), 8)).expect("next bucket");
    assert_eq!(backend.reads.get(), 2);
}

const TIMING: Timing = Timing {
    lifetime_ms: 10_000,
    heartbeat_ms: 3_000,
};

fn text(chunk: Option<Vec<u8>>) -> String {
    String::from_utf8(chunk.expect("a chunk")).expect("utf-8")
}

#[test]
fn a_watcher_sends_its_first_chunk_updates_heartbeats_and_ends_with_retry() {
    let backend = FakeBackend::with_log(1..=2);
    let feed = feed_of(&backend, 7);
    let mut watcher = Watcher::new(feed, 2, b"first".to_vec(), TIMING);
    assert_eq!(text(block_on(watcher.next_chunk())), "first");
    backend.append(3);
    let update = text(block_on(watcher.next_chunk()));
    assert_eq!(update.as_bytes(), frame(3, "update", &entry(3).json));
    assert_eq!(backend.reads.get(), 1, "the feed's read, no more");
    assert_eq!(text(block_on(watcher.next_chunk())).as_bytes(), HEARTBEAT);
    assert!(backend.now.get() >= 3_000);
    let mut rest = Vec::new();
    while let Some(chunk) = block_on(watcher.next_chunk()) {
        rest.push(chunk);
    }
    assert_eq!(rest.last().map(Vec::as_slice), Some(RETRY));
    assert!(backend.now.get() >= 10_000);
    // One read per poll interval over the stream's life, none of them its own.
    assert!(backend.reads.get() <= 11, "{} reads", backend.reads.get());
}

#[test]
fn a_watcher_behind_the_feed_reads_its_gap_once_and_a_lost_log_ends_it() {
    let backend = FakeBackend::with_log(1..=400);
    let feed = feed_of(&backend, 8);
    block_on(feed.refresh(0));
    let mut watcher = Watcher::new(feed.clone(), 10, Vec::new(), TIMING);
    let caught_up = text(block_on(watcher.next_chunk()));
    assert_eq!(caught_up.matches("event: update").count(), 390);
    assert_eq!(backend.reads.get(), 2, "the feed's read and the gap read");
    // Retention passes a second watcher's cursor: it ends, and reconnects for a snapshot.
    backend.oldest.set(300);
    let mut late = Watcher::new(feed, 5, Vec::new(), TIMING);
    assert_eq!(block_on(late.next_chunk()).as_deref(), Some(RETRY));
    assert_eq!(block_on(late.next_chunk()), None);
}

#[test]
fn frames_put_each_data_line_on_its_own() {
    assert_eq!(
        frame(7, "update", "{\"a\":1}"),
        b"id: 7\nevent: update\ndata: {\"a\":1}\n\n"
    );
    assert_eq!(
        frame(1, "x", "a\nb"),
        b"id: 1\nevent: x\ndata: a\ndata: b\n\n"
    );
}
