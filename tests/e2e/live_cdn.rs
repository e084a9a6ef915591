//! `LIVE_FEED_URL` on `wasmtime serve`: with the app behind the local CDN, the stream feeds of
//! all its instances read the change log through the CDN's one-second cache, so what the
//! watchers cost Redis does not grow with their number. 2 and then 50 streams watch an event
//! for the same window with 2 holds in it: every stream gets every update, in seq order, and
//! the 50 cost no more Redis commands than the 2 plus a slack that does not depend on the
//! stream count (see [`SLACK`]).
//!
//! Each count gets an app (and CDN) of its own: a stream whose client left goes on until its
//! next write (a heartbeat), and with it its feed's polling, which would be counted in the
//! next count's window.

use e2e::catalog::{EventSpec, availability, publish_event, seat};
use e2e::cdn::BehindCdn;
use e2e::live::hold;
use e2e::sse::{self, SseReader};
use e2e::{Runtime, Stack};
use ops::front::cdn::CdnStats;
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

/// How long each count is measured (holds at its start).
const WINDOW: Duration = Duration::from_secs(5);
const HOLDS: usize = 2;
/// What 50 streams may cost more than 2, in commands. Through the CDN the feeds of every
/// instance ask one URL per head and one-second bucket, so the origin reads the log once per
/// head and bucket, whatever the number of instances. What the count can change: whether the
/// window's first and last buckets hold a poll (a feed polls every poll interval plus its
/// read's latency, so a single instance now and then skips a bucket that a crowd spread over
/// the second does not), and, in the second of each hold, whether some instances still ask
/// the old head's URL while others already ask the new one: at most two reads at the edges
/// and one per hold, each an `EVAL` plus the metrics flush of its request (x2). Without the
/// CDN the 50 streams spread over ~17 instances cost ~17 reads a second (~85 in the window).
const SLACK: u64 = 2 * (2 + HOLDS as u64);

struct Spent {
    commands: u64,
    cdn: CdnStats,
}

async fn watch(stack: &Stack, streams: usize) -> Spent {
    let settings = [
        ("LIVE_STREAM_SECS", "60"),
        ("RATE_LIMIT_READ", "100000:100000"),
        ("RATE_LIMIT_WRITE", "100000:100000"),
    ];
    let behind = BehindCdn::spawn(Runtime::Wasmtime, stack, &settings).await;
    let app = &behind.app;
    let event = publish_event(app, &EventSpec::new(HOLDS, 0)).await;
    let head = availability(app, &event.id).await["seq"]
        .as_u64()
        .expect("snapshot seq");
    let url = format!(
        "{}/v1/events/{}/availability/stream",
        app.base_url, event.id
    );
    let opening: Vec<_> = (0..streams)
        .map(|_| {
            let url = url.clone();
            let cursor = head.to_string();
            tokio::spawn(async move { sse::open(&url, &[("last-event-id", &cursor)]).await })
        })
        .collect();
    let mut readers: Vec<SseReader> = Vec::with_capacity(streams);
    for task in opening {
        match task.await.expect("opening task") {
            Ok(reader) => readers.push(reader),
            Err(refused) => panic!("stream refused: {}", refused.status()),
        }
    }
    // Connecting reads the log once per instance (before the window): let it settle.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before = stack.stats().await;
    let cdn_before = behind.cdn.stats();
    let end = Instant::now() + WINDOW;
    let following: Vec<_> = readers
        .into_iter()
        .map(|mut reader| {
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                while seqs.len() < HOLDS {
                    let event = reader
                        .next(Duration::from_secs(15))
                        .await
                        .expect("the stream ended early");
                    if event.event.as_deref() == Some("update") {
                        seqs.push(event.seq().expect("an update has a seq"));
                    }
                }
                seqs
            })
        })
        .collect();
    for n in 0..HOLDS {
        hold(app, &event, n, json!({"seats": [seat(n)]})).await;
    }
    let expected: Vec<u64> = (1..=HOLDS as u64).map(|k| head + k).collect();
    for task in following {
        assert_eq!(
            task.await.expect("stream task"),
            expected,
            "every update, in order"
        );
    }
    tokio::time::sleep_until(end).await;
    let commands = stack.stats().await.delta(before).redis_commands;
    let after = behind.cdn.stats();
    Spent {
        commands,
        cdn: CdnStats {
            hits: after.hits - cdn_before.hits,
            misses: after.misses - cdn_before.misses,
            collapsed: after.collapsed - cdn_before.collapsed,
            origin_requests: after.origin_requests - cdn_before.origin_requests,
            passed: after.passed - cdn_before.passed,
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_live_cdn_50_streams_cost_what_2_cost() {
    let stack = Stack::start().await;
    let two = watch(&stack, 2).await;
    let fifty = watch(&stack, 50).await;
    eprintln!(
        "2 streams: {} commands, CDN {:?}; 50 streams: {} commands, CDN {:?}",
        two.commands, two.cdn, fifty.commands, fifty.cdn
    );
    assert!(
        fifty.cdn.origin_requests > 0 && two.cdn.origin_requests > 0,
        "the feeds read through the CDN"
    );
    assert_eq!(fifty.cdn.passed, 0, "the feeds only GET");
    assert!(
        fifty.commands <= two.commands + SLACK,
        "50 streams cost {} commands, 2 cost {} (slack {SLACK})",
        fifty.commands,
        two.commands
    );
}
