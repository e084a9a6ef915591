//! One availability stream: server-sent events framed from the shared [`Feed`], with its own
//! cursor, heartbeat and lifetime.
//!
//! The stream costs Redis nothing of its own while the feed holds what it needs; it reads the
//! log itself only to fill a gap (its cursor older than the feed's first entry). When the log
//! no longer covers its cursor it ends with `retry:`: the client reconnects with its
//! `Last-Event-ID`, and the handler answers that with a new snapshot.

use super::feed::{Feed, Next};
use super::log::{Entry, Range};
use crate::http::BodyStream;
use std::collections::VecDeque;
use std::rc::Rc;

/// Entries a stream reads at most when it fills its gap directly.
pub const GAP_LIMIT: usize = 1_000;
/// What ends every stream: EventSource reconnects after this many ms, with `Last-Event-ID`.
pub const RETRY: &[u8] = b"retry: 1000\n\n";
/// The idle heartbeat (a comment line: EventSource ignores it, proxies see traffic).
pub const HEARTBEAT: &[u8] = b": keep-alive\n\n";

/// An SSE event: `id:`, `event:`, and the data, one `data:` line per line of it.
pub fn frame(id: u64, event: &str, data: &str) -> Vec<u8> {
    let mut out = format!("id: {id}\nevent: {event}\n");
    for line in data.lines() {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out.into_bytes()
}

fn updates(entries: &[Entry]) -> Vec<u8> {
    entries
        .iter()
        .flat_map(|e| frame(e.seq, "update", &e.json))
        .collect()
}

/// One connected stream.
pub struct Watcher {
    feed: Rc<Feed>,
    /// The seq the client's state reflects.
    cursor: u64,
    /// Chunks to send before anything else (the snapshot, the first catch-up).
    queue: VecDeque<Vec<u8>>,
    ends_at: u64,
    heartbeat_ms: u64,
    last_sent: u64,
    /// No direct gap read before this time (the last one failed).
    gap_retry_at: u64,
    done: bool,
}

/// How long a stream lives and how often it says it is alive, in ms.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub lifetime_ms: u64,
    pub heartbeat_ms: u64,
}

impl Watcher {
    /// A stream at `cursor` that first sends `first` (the snapshot or a catch-up; may be
    /// empty).
    pub fn new(feed: Rc<Feed>, cursor: u64, first: Vec<u8>, timing: Timing) -> Self {
        let now = feed.backend().now_ms();
        Watcher {
            feed,
            cursor,
            queue: (!first.is_empty()).then_some(first).into_iter().collect(),
            ends_at: now.saturating_add(timing.lifetime_ms),
            heartbeat_ms: timing.heartbeat_ms.max(1),
            last_sent: now,
            gap_retry_at: 0,
            done: false,
        }
    }

    /// The stream of chunks, for [`crate::http::Response::streaming`].
    pub fn into_body(self) -> BodyStream {
        BodyStream::new(futures::stream::unfold(self, |mut watcher| async move {
            let chunk = watcher.next_chunk().await?;
            Some((chunk, watcher))
        }))
    }

    /// The next chunk to send; `None` once the stream has ended.
    pub async fn next_chunk(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.done {
                return None;
            }
            let now = self.feed.backend().now_ms();
            if let Some(chunk) = self.queue.pop_front() {
                return Some(self.sent(chunk, now));
            }
            if now >= self.ends_at {
                self.done = true;
                return Some(RETRY.to_vec());
            }
            match self.feed.after(self.cursor) {
                Next::Entries(entries) => {
                    if let Some(last) = entries.last() {
                        self.cursor = last.seq;
                        return Some(self.sent(updates(&entries), now));
                    }
                }
                Next::Gap if now >= self.gap_retry_at => {
                    if let Some(chunk) = self.fill_gap(now).await {
                        return Some(chunk);
                    }
                    continue;
                }
                Next::Gap | Next::Nothing => {}
            }
            if now >= self.last_sent.saturating_add(self.heartbeat_ms) {
                return Some(self.sent(HEARTBEAT.to_vec(), now));
            }
            let stale_at = self.feed.stale_at();
            if stale_at <= now {
                self.feed.refresh(self.cursor).await;
                continue;
            }
            let wake = stale_at
                .min(self.last_sent.saturating_add(self.heartbeat_ms))
                .min(self.ends_at);
            self.feed
                .backend()
                .sleep(wake.saturating_sub(now).max(1))
                .await;
        }
    }

    fn sent(&mut self, chunk: Vec<u8>, now: u64) -> Vec<u8> {
        self.last_sent = now;
        chunk
    }

    /// Reads the entries after the cursor directly (one `EVAL`; from Redis even when the feed
    /// reads through a CDN: a cursor of its own would share nothing there). `None`: nothing to
    /// send yet (the read failed, or found nothing new).
    async fn fill_gap(&mut self, now: u64) -> Option<Vec<u8>> {
        let backend = self.feed.backend();
        let read = backend
            .read(self.feed.event(), Range::After(self.cursor), GAP_LIMIT)
            .await;
        match read {
            Err(e) => {
                backend.log(&format!(
                    "live stream of {}: the gap read failed: {e}",
                    self.feed.event().as_str()
                ));
                self.gap_retry_at = now.saturating_add(self.feed.poll_ms());
                None
            }
            Ok(read) if !read.covers(self.cursor) => {
                // Redis lost the log or retention passed the cursor: the client reconnects
                // and gets a snapshot.
                self.done = true;
                Some(RETRY.to_vec())
            }
            Ok(read) => match read.entries.last() {
                Some(last) => {
                    self.cursor = last.seq;
                    Some(self.sent(updates(&read.entries), now))
                }
                None => {
                    // The feed saw more than the log gives now (a newer log in another
                    // isolate's cached read): wait a poll interval rather than spin.
                    self.gap_retry_at = now.saturating_add(self.feed.poll_ms());
                    None
                }
            },
        }
    }
}
