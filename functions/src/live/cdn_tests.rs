//! The feed through a CDN (`LIVE_FEED_URL`) against the fake log of `feed_tests.rs`, whose
//! `get` answers as the updates route: the answer's mapping, the URL every instance asks,
//! truncated pages, `SEQ_TOO_OLD` and failures.

use super::*;
use crate::live::feed::tests::{FakeBackend, event};
use crate::live::feed::{Feed, Next, feed};
use crate::live::sse::{RETRY, Timing, Watcher};
use futures::executor::block_on;
use futures::future::join_all;
use serde_json::json;
use std::rc::Rc;

const CDN: &str = "http://cdn.test";

fn through_cdn(seqs: std::ops::RangeInclusive<u64>) -> Rc<FakeBackend> {
    let mut backend = FakeBackend::log_of(seqs);
    backend.feed_url = Some(CDN.to_owned());
    Rc::new(backend)
}

fn feed_of(backend: &Rc<FakeBackend>, n: u8) -> Rc<Feed> {
    feed(backend.clone(), &event(n), 1_000, 5_000)
}

/// The URL a feed of event `n` asks at `now_ms` (1 s buckets).
fn url(n: u8, since: u64, now_ms: u64) -> String {
    format!(
        "{CDN}/v1/events/{}/availability/updates?since_seq={since}&limit=200&bucket={}",
        event(n).as_str(),
        now_ms / 1_000
    )
}

/// The seqs a stream at `cursor` takes (entries through the CDN are the route's JSON, keys
/// in its order).
fn taken(feed: &Feed, cursor: u64) -> Vec<u64> {
    match feed.after(cursor) {
        Next::Entries(entries) => entries.iter().map(|e| e.seq).collect(),
        other => panic!("{other:?}"),
    }
}

fn body(value: &serde_json::Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

#[test]
fn an_answer_maps_onto_a_read_ending_at_its_last_update() {
    let answer = json!({
        "eventId": "evt", "fromSeq": 7, "toSeq": 9, "headSeq": 12,
        "updates": [{"seq": 8, "kind": "hold"}, {"seq": 9, "kind": "sold"}],
    });
    let Ok(Page::Read { read, head_seq }) = map_answer(7, 200, &body(&answer)) else {
        panic!("a page");
    };
    assert_eq!(head_seq, 12);
    assert_eq!(read.head, Some(9), "the feed holds what it got, no further");
    assert_eq!(
        read.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [8, 9]
    );
    let json: serde_json::Value = serde_json::from_str(&read.entries[1].json).expect("JSON");
    assert_eq!(json, json!({"seq": 9, "kind": "sold"}));

    let none = json!({"fromSeq": 9, "toSeq": 9, "headSeq": 9, "updates": []});
    let Ok(Page::Read { read, .. }) = map_answer(9, 200, &body(&none)) else {
        panic!("an empty page");
    };
    assert_eq!((read.head, read.entries.len()), (Some(9), 0));
}

#[test]
fn too_old_is_its_own_outcome_and_anything_else_an_error() {
    let too_old = json!({"error_code": "SEQ_TOO_OLD", "message": "…"});
    assert_eq!(map_answer(3, 409, &body(&too_old)).ok(), Some(Page::TooOld));
    let conflict = json!({"error_code": "OTHER"});
    assert!(map_answer(3, 409, &body(&conflict)).is_err());
    assert!(map_answer(3, 503, b"<html>bad gateway</html>").is_err());
    assert!(map_answer(3, 200, b"not json").is_err());
    let gap = json!({"fromSeq": 3, "toSeq": 5, "headSeq": 5, "updates": [{"seq": 5}]});
    assert!(map_answer(3, 200, &body(&gap)).is_err(), "a missing seq");
    let other = json!({"fromSeq": 2, "toSeq": 2, "headSeq": 5, "updates": []});
    assert!(
        map_answer(3, 200, &body(&other)).is_err(),
        "another cursor's answer"
    );
}

#[test]
fn concurrent_refreshes_share_one_get_and_instances_ask_the_same_url() {
    let a = through_cdn(1..=5);
    let feed_a = feed_of(&a, 21);
    block_on(join_all((0..200).map(|_| feed_a.refresh(3))));
    assert_eq!(
        a.urls.borrow().as_slice(),
        [url(21, 3, 0)],
        "one GET, from the cursor"
    );
    assert_eq!(a.reads.get(), 0, "no Redis read");
    assert_eq!(taken(&feed_a, 3), [4, 5]);
    // Another instance whose first stream was further on reaches the same head, and from
    // there both ask the same URL, which the CDN serves from its cache.
    let b = Rc::new(FakeBackend {
        feed_url: Some(CDN.to_owned()),
        space: "another instance".into(),
        ..FakeBackend::log_of(1..=5)
    });
    let feed_b = feed_of(&b, 21);
    block_on(feed_b.refresh(5));
    // Polls at another phase of the same second ask the same URL.
    a.now.set(1_000);
    b.now.set(1_900);
    block_on(feed_a.refresh(0));
    block_on(feed_b.refresh(0));
    assert_eq!(a.urls.borrow().last(), Some(&url(21, 5, 1_000)));
    assert_eq!(b.urls.borrow().last(), Some(&url(21, 5, 1_000)));
    // A new entry moves the feed on.
    a.append(6);
    a.now.set(2_000);
    block_on(feed_a.refresh(0));
    assert_eq!(taken(&feed_a, 5), [6]);
    assert_eq!(feed_a.head(), Some(6));
}

#[test]
fn a_feed_more_than_a_page_behind_jumps_to_the_tail() {
    let backend = through_cdn(1..=10);
    let feed = feed_of(&backend, 22);
    block_on(feed.refresh(10));
    (11..=600).for_each(|seq| backend.append(seq));
    backend.now.set(1_000);
    block_on(feed.refresh(10));
    assert_eq!(
        backend.urls.borrow()[1..],
        [url(22, 10, 1_000), url(22, 400, 1_000)],
        "the page after the head, then the tail"
    );
    assert_eq!(feed.head(), Some(600));
    assert!(matches!(feed.after(400), Next::Entries(e) if e.len() == 200));
    assert_eq!(
        feed.after(10),
        Next::Gap,
        "the streams behind read their gap"
    );
}

#[test]
fn too_old_sends_the_streams_behind_to_their_gap_reads_and_a_snapshot() {
    let backend = through_cdn(1..=10);
    let feed = feed_of(&backend, 23);
    block_on(feed.refresh(10));
    // Retention passes the feed's head before its next read.
    (11..=30).for_each(|seq| backend.append(seq));
    backend.oldest.set(20);
    backend.now.set(1_000);
    block_on(feed.refresh(10));
    assert_eq!(feed.head(), None);
    assert_eq!(feed.after(10), Next::Gap);
    assert_eq!(
        feed.after(11),
        Next::Nothing,
        "newer cursors wait for the next read"
    );
    // A stream at the lost cursor reads its gap (Redis), finds it gone, and ends with retry:
    // (its client reconnects and gets a snapshot).
    let timing = Timing {
        lifetime_ms: 10_000,
        heartbeat_ms: 3_000,
    };
    let mut behind = Watcher::new(feed.clone(), 10, Vec::new(), timing);
    assert_eq!(block_on(behind.next_chunk()).as_deref(), Some(RETRY));
    assert_eq!(backend.reads.get(), 1, "the stream's own gap read");
    // A stream from a new snapshot restarts the feed from its cursor.
    backend.now.set(2_000);
    block_on(feed.refresh(28));
    assert_eq!(backend.urls.borrow().last(), Some(&url(23, 28, 2_000)));
    assert_eq!(taken(&feed, 28), [29, 30]);
}

#[test]
fn a_failed_get_leaves_the_feed_as_it_was_for_an_interval() {
    let backend = through_cdn(1..=4);
    let feed = feed_of(&backend, 24);
    block_on(feed.refresh(2));
    backend.append(5);
    backend.cdn_down.set(true);
    backend.now.set(1_000);
    block_on(feed.refresh(2));
    assert_eq!(feed.head(), Some(4));
    assert_eq!(taken(&feed, 2), [3, 4]);
    assert_eq!(feed.stale_at(), 2_000, "no retry before the next interval");
    backend.cdn_down.set(false);
    backend.now.set(2_000);
    block_on(feed.refresh(2));
    assert_eq!(feed.head(), Some(5));
}
