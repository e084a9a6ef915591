//! The feed's read through the CDN in front of the API (`LIVE_FEED_URL`): instances that share
//! no memory (Spin, `wasmtime serve`) share the CDN's one-second cache of
//! `GET /v1/events/{id}/availability/updates` instead, so however many instances poll, the
//! origin reads the log about once per second and URL.
//!
//! Every instance must ask the *same* URL for the CDN to help: a feed asks for the entries
//! after its own head (`since_seq=<head>&limit=200`), and feeds that follow the same log
//! walk the same heads. Only a feed's first read asks from the cursor of the stream that
//! wakes it (the clients of one crowd connect at the same seq).
//!
//! The URL also names the poll's one-second time bucket (`&bucket=<ms since the epoch / 1000>`,
//! which the route ignores), as the location-cache key does ([`poll_read`]): instances poll
//! at their own phase, and without it each poll that came just after the cached answer
//! expired was a miss, so a crowd of instances spread over the second made about two origin
//! reads per second instead of one (measured: 10 vs 5 in 5 s for 50 vs 2 streams). With it,
//! the first poll of a bucket misses and every other poll of that bucket (at the same head)
//! is a hit or joins that miss: one origin read per bucket and head, whatever the number of
//! instances. The bucket is at least the answer's `max-age` (1 s) wide: a shorter
//! `LIVE_POLL_MS` makes a feed poll more often, not the origin read more often.
//!
//! The answer is mapped onto a [`LogRead`] whose head is the last entry it carries (`toSeq`):
//! the feed's entries must be contiguous up to its head. When the log ran further than one
//! page (`toSeq < headSeq`: more than [`POLL_LIMIT`] changes since the feed's head) the feed
//! jumps to the log's tail with one more read, as a Redis tail read would, and the streams
//! behind fill their gap directly. `409 SEQ_TOO_OLD` (the log no longer holds the entries
//! after the feed's head, or Redis lost it) is [`FeedRead::TooOld`]: the streams at or behind
//! that seq fall back to a gap read, and from there to a snapshot.
//!
//! A stream's own gap read still goes to Redis (see [`super::sse`]): each stream's cursor is
//! its own, so a CDN could not share those reads, and they are rare.

use super::edge_cache::poll_read;
use super::feed::{Backend, POLL_LIMIT};
use super::log::{Entry, LogRead};
use serde_json::Value;
use shared::domain::EventId;
use shared::error::Error;

/// How long the updates route lets a CDN keep an answer (`max-age=1`), in ms.
const CDN_MAX_AGE_MS: u64 = 1_000;

/// What the feed's read found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedRead {
    /// Entries ending at the read's head (contiguous with the feed when they join it).
    Log(LogRead),
    /// The log no longer holds the entries after this seq.
    TooOld(u64),
}

/// The feed's read of `event`'s log at `now`: through the CDN when `LIVE_FEED_URL` is set
/// (after `since`, the feed's head or the waking stream's cursor), else the tail from Redis or
/// the location cache (keyed by poll interval, `poll_ms`).
///
/// # Errors
/// The read's errors (unreachable CDN or Redis, an answer that does not parse).
pub async fn feed_read(
    backend: &dyn Backend,
    event: &EventId,
    since: u64,
    now: u64,
    poll_ms: u64,
) -> Result<FeedRead, Error> {
    let Some(base) = backend.feed_url() else {
        let bucket = now / poll_ms.max(1);
        return poll_read(backend, event, bucket).await.map(FeedRead::Log);
    };
    let at = Poll {
        base,
        event,
        bucket: now / poll_ms.max(CDN_MAX_AGE_MS),
    };
    let page = fetch(backend, &at, since).await?;
    match page {
        Page::Read { read, head_seq } if read.head.is_some_and(|to| to < head_seq) => {
            // More than a page behind: take the tail, as Redis would give it.
            let tail = head_seq.saturating_sub(POLL_LIMIT as u64).max(since);
            match fetch(backend, &at, tail).await? {
                Page::Read { read, .. } => Ok(FeedRead::Log(read)),
                Page::TooOld => Ok(FeedRead::TooOld(tail)),
            }
        }
        Page::Read { read, .. } => Ok(FeedRead::Log(read)),
        Page::TooOld => Ok(FeedRead::TooOld(since)),
    }
}

/// One answer of the updates route, mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// A 200: the entries (head = the last of them, or `since`) and the log's `headSeq`.
    Read { read: LogRead, head_seq: u64 },
    /// A 409 `SEQ_TOO_OLD`.
    TooOld,
}

/// Where and when a feed polls through the CDN.
struct Poll<'a> {
    base: &'a str,
    event: &'a EventId,
    /// The poll's time bucket (see the module's notes).
    bucket: u64,
}

async fn fetch(backend: &dyn Backend, at: &Poll<'_>, since: u64) -> Result<Page, Error> {
    let url = updates_url(at.base, at.event, since, at.bucket);
    let response = backend.get(&url).await?;
    map_answer(since, response.status, &response.body)
}

/// `{base}/v1/events/{id}/availability/updates?since_seq={since}&limit=200&bucket={bucket}`.
pub fn updates_url(base: &str, event: &EventId, since: u64, bucket: u64) -> String {
    format!(
        "{}/v1/events/{}/availability/updates?since_seq={since}&limit={POLL_LIMIT}&bucket={bucket}",
        base.trim_end_matches('/'),
        event.as_str()
    )
}

/// Maps an answer of `GET …/availability/updates?since_seq={since}` onto a [`Page`].
///
/// # Errors
/// Internal, for any other status or a body that is not the route's answer (logged by the
/// feed, which then stays as it was).
pub fn map_answer(since: u64, status: u16, body: &[u8]) -> Result<Page, Error> {
    let snippet = || String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    let failed = |what: &str| {
        Error::Internal(format!(
            "the change log through LIVE_FEED_URL answered {status} ({what}): {}",
            snippet()
        ))
    };
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match status {
        200 => {}
        409 if value["error_code"] == "SEQ_TOO_OLD" => return Ok(Page::TooOld),
        _ => return Err(failed("not an answer of the updates route")),
    }
    let (Some(from), Some(to), Some(head_seq), Some(updates)) = (
        value["fromSeq"].as_u64(),
        value["toSeq"].as_u64(),
        value["headSeq"].as_u64(),
        value["updates"].as_array(),
    ) else {
        return Err(failed("no fromSeq, toSeq, headSeq or updates"));
    };
    if from != since || to > head_seq {
        return Err(failed("seqs that do not fit the request"));
    }
    let mut entries = Vec::with_capacity(updates.len());
    let mut expected = since;
    for update in updates {
        expected += 1;
        if update["seq"].as_u64() != Some(expected) {
            return Err(failed("updates out of seq order"));
        }
        entries.push(Entry {
            seq: expected,
            json: update.to_string(),
        });
    }
    if expected != to {
        return Err(failed("toSeq is not its last update"));
    }
    let read = LogRead {
        head: Some(to),
        oldest: entries.first().map(|e| e.seq),
        entries,
    };
    Ok(Page::Read { read, head_seq })
}

#[cfg(test)]
#[path = "cdn_tests.rs"]
mod tests;
