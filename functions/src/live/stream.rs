//! `GET /v1/events/{id}/availability/stream`: the change log as server-sent events.
//!
//! Protocol: each entry is `id: <seq>` / `event: update` / `data: <entry JSON>`. A client
//! resumes after `Last-Event-ID` (EventSource sends it on reconnect) or `?since_seq=`; with
//! neither, or with a cursor the log no longer covers, the stream opens with `event: snapshot`
//! (`id:` the snapshot's seq, data the body of `GET /v1/events/{id}/availability`). An idle
//! stream sends `: keep-alive` every `LIVE_HEARTBEAT_SECS`; after `LIVE_STREAM_SECS` it ends
//! with `retry: 1000`, and EventSource reconnects with its `Last-Event-ID`.
//!
//! Cost: no rate limiter (a limiter call per connection would cost what the fan-out saves).
//! Connecting costs nothing when this instance's feed already covers the cursor, else one
//! `EVAL` (plus the snapshot's reads when one is sent). While connected a stream costs no
//! command of its own: per instance and event one read per `LIVE_POLL_MS` serves every
//! stream ([`super::feed`]); with `LIVE_FEED_URL` that read goes through the CDN in front of
//! the API, which shares it among all instances ([`super::cdn`]). Errors (400, 404) are
//! answered before the stream starts.
//!
//! Workers' subrequest cap counts per invocation, and the feed's read is made by whichever
//! stream wakes first: a stream that watches alone makes about one read (plus a Cache API
//! get and put) per poll interval of its life. With the defaults (55 s, 1 s) that passes the
//! Free plan's 50; there, keep `LIVE_STREAM_SECS / (LIVE_POLL_MS / 1000) * 3` under 50 (e.g.
//! `LIVE_POLL_MS=3500`). Paid's 10,000 is far off.

use super::feed::{self, Feed, Next};
use super::log::{self, Range};
use super::sse::{self, GAP_LIMIT, Timing, Watcher};
use super::updates::check_cursor;
use crate::call::Call;
use crate::http::Response;
use crate::routes::holds::availability;
use crate::services::Services;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::Clock;
use std::rc::Rc;

fn not_found(id: &str) -> Error {
    Error::not_found("EVENT_NOT_FOUND", format!("there is no event {id:?}"))
}

/// `GET /v1/events/{id}/availability/stream`.
///
/// # Errors
/// 400 `VALIDATION_FAILED` (`Last-Event-ID`, `since_seq`) / `SEQ_AHEAD`; 404
/// `EVENT_NOT_FOUND`; 503 `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE`.
pub async fn get<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let raw = call.params.get("id");
    let id = EventId::parse(raw).map_err(|_| not_found(raw))?;
    let since = cursor(call)?;
    let backend = services
        .live_backend()
        .ok_or_else(|| Error::Internal("this host cannot stream responses".into()))?;
    let config = services.config();
    // A read another stream started is given its own deadline and a poll interval more.
    let budget_ms = config
        .dependency_timeout_ms
        .saturating_add(config.live_poll_ms);
    let feed = feed::feed(backend, &id, config.live_poll_ms, budget_ms);
    let resumed = match since {
        Some(since) => resume(services, &feed, since).await?,
        None => None,
    };
    let (cursor, first) = match resumed {
        Some(resumed) => resumed,
        None => {
            let snapshot = availability::snapshot(services, &id).await?;
            let seq = snapshot["seq"]
                .as_u64()
                .ok_or_else(|| Error::Internal("the availability snapshot has no seq".into()))?;
            (seq, sse::frame(seq, "snapshot", &snapshot.to_string()))
        }
    };
    let timing = Timing {
        lifetime_ms: config.live_stream_secs.saturating_mul(1_000),
        heartbeat_ms: config.live_heartbeat_secs.saturating_mul(1_000),
    };
    let body = Watcher::new(feed, cursor, first, timing).into_body();
    let mut response = Response::streaming(200, "text/event-stream", body);
    // Never cached (each stream has its own cursor); proxies that buffer (nginx) must not.
    response.headers.set("cache-control", "no-cache");
    response.headers.set("x-accel-buffering", "no");
    Ok(response)
}

/// The client's cursor: `Last-Event-ID` wins over `?since_seq=`; an empty header is none.
fn cursor(call: &Call<'_>) -> Result<Option<u64>, Error> {
    match call.request.headers.get("last-event-id").map(str::trim) {
        Some("") | None => call.query.parse_opt::<u64>("since_seq"),
        Some(id) => id.parse().map(Some).map_err(|_| {
            Error::invalid(
                "Last-Event-ID",
                format!("{id:?} is not a seq this stream sent"),
            )
        }),
    }
}

/// Where a client at `since` resumes: `Some((cursor, catch-up chunk))`, or `None` when the
/// log no longer covers `since` (the client gets a snapshot).
///
/// # Errors
/// 400 `SEQ_AHEAD`; 503 `REDIS_UNAVAILABLE`.
async fn resume<S: Services>(
    services: &S,
    feed: &Rc<Feed>,
    since: u64,
) -> Result<Option<(u64, Vec<u8>)>, Error> {
    // A fresh feed that holds everything after `since` answers without a read: a crowd
    // reconnecting at the end of its streams' lifetime costs nothing.
    let fresh = feed.stale_at() > services.clock().now_ms();
    if fresh && feed.head().is_some_and(|head| since <= head) {
        match feed.after(since) {
            Next::Nothing => return Ok(Some((since, Vec::new()))),
            Next::Entries(entries) => return Ok(Some(catch_up(since, &entries))),
            Next::Gap => {}
        }
    }
    let prefix = &services.config().redis.key_prefix;
    let read = log::read(
        services.redis(),
        prefix,
        feed.event(),
        Range::After(since),
        GAP_LIMIT,
    )
    .await?;
    // No log: Redis lost it (the snapshot reloads it), or the event does not exist (the
    // snapshot answers 404).
    let Some(head) = read.head else {
        return Ok(None);
    };
    if since <= head && !read.covers(since) {
        return Ok(None);
    }
    check_cursor(&read, since, head)?;
    Ok(Some(catch_up(since, &read.entries)))
}

fn catch_up(since: u64, entries: &[log::Entry]) -> (u64, Vec<u8>) {
    let cursor = entries.last().map_or(since, |e| e.seq);
    let chunk = entries
        .iter()
        .flat_map(|e| sse::frame(e.seq, "update", &e.json))
        .collect();
    (cursor, chunk)
}
