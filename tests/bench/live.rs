//! The live stream's fan-out: Redis commands (as the local Upstash front counts them) while 0,
//! 2 and then 200 SSE clients watch one event for 10 s with 5 holds in that window, on one App.
//! The 0-client row is the baseline (the holds, and whatever else the app does in 10 s); the
//! watchers' commands are a row's total minus it, and the figure to read is their ratio
//! between 200 and 2 clients.
//!
//! What to expect: on workerd every stream of the isolate shares one feed, so the watchers
//! cost one log read per `LIVE_POLL_MS` whatever their number. `wasmtime serve` runs a p3
//! component in several instances and module state is per instance, so without a CDN the
//! feeds are shared per instance only: opening 200 streams at once packed about three streams
//! per instance (≈ 60-80 instances), each instance's feed polling Redis. Spin proper
//! instantiates per request: there each stream polls on its own. What shares reads there is a
//! CDN in front of the updates route (`Cache-Control: public, max-age=1`): the "behind the
//! CDN" rows run the same component with `LIVE_FEED_URL` pointing at the local CDN
//! (`ops::front::cdn`), so every instance's feed asks the CDN the same URL per second and the
//! origin reads the log once per second. `BENCH_LIVE_CLIENTS=0,2,16,200` and
//! `BENCH_RUNTIME=Wasmtime` narrow the run.
//!
//! Measured (watchers' commands in 10 s, 2 → 200 clients): workerd 8 → 8; wasmtime direct
//! 11 → 602; wasmtime behind the CDN 20 → 20 (10 origin reads either way; each costs two
//! commands there, the gated read and the metrics flush that ends every request on Spin).
//!
//! Each window drains the previous one first: a stream whose client left only notices at
//! its next write, so with 15 s heartbeats the 2-client window's feed went on polling through
//! the 200-client window (the ~9 commands by which 200 clients used to cost more than 2 on
//! workerd). The bench sends heartbeats every second and waits 3 s before counting.

use e2e::catalog::{EventSpec, PublishedEvent, publish_event, seat};
use e2e::cdn::BehindCdn;
use e2e::{App, Runtime, Stack};
use ops::front::cdn::{CdnStats, RunningCdn};
use reqwest::Method;
use serde_json::json;
use shared::domain::Role;
use std::io::Write as _;
use std::time::Duration;
use tokio::time::Instant;

const WINDOW: Duration = Duration::from_secs(10);
const HOLDS: usize = 5;

struct Figure {
    commands: u64,
    requests: u64,
    delivered: usize,
    /// What the CDN served in the window, when the app reads through one.
    cdn: Option<CdnStats>,
}

/// Opens `clients` streams on a new event, then counts what the 10 s window costs.
async fn window(app: &App, stack: &Stack, cdn: Option<&RunningCdn>, clients: usize) -> Figure {
    let event = publish_event(app, &EventSpec::new(HOLDS, 0)).await;
    let snapshot = e2e::catalog::availability(app, &event.id).await;
    let head = snapshot["seq"].as_u64().expect("snapshot seq").to_string();
    let url = format!(
        "{}/v1/events/{}/availability/stream",
        app.base_url, event.id
    );
    let opening: Vec<_> = (0..clients)
        .map(|_| {
            let (url, head) = (url.clone(), head.clone());
            tokio::spawn(async move {
                e2e::sse::open(&url, &[("last-event-id", &head)])
                    .await
                    .map_err(|refused| refused.status())
            })
        })
        .collect();
    let mut readers = Vec::with_capacity(clients);
    for task in opening {
        let opened = task.await.expect("opening task");
        readers.push(opened.unwrap_or_else(|status| panic!("stream refused: {status}")));
    }
    // Let the connections settle before counting, and the previous window's streams end: a
    // stream whose client left only notices at its next write (a heartbeat, every second
    // here), and until then its feed goes on polling, which this window would count.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = stack.stats().await;
    let cdn_before = cdn.map(RunningCdn::stats);
    let end = Instant::now() + WINDOW;
    let tasks: Vec<_> = readers
        .into_iter()
        .map(|mut reader| {
            tokio::spawn(async move {
                let mut updates = 0;
                while let Ok(Some(event)) =
                    tokio::time::timeout_at(end, reader.next(Duration::from_secs(60))).await
                {
                    updates += usize::from(event.event.as_deref() == Some("update"));
                }
                updates
            })
        })
        .collect();
    hold_every_two_seconds(app, &event).await;
    tokio::time::sleep_until(end).await;
    let spent = stack.stats().await.delta(before);
    let cdn = cdn.zip(cdn_before).map(|(cdn, before)| {
        let after = cdn.stats();
        CdnStats {
            hits: after.hits - before.hits,
            misses: after.misses - before.misses,
            collapsed: after.collapsed - before.collapsed,
            origin_requests: after.origin_requests - before.origin_requests,
            passed: after.passed - before.passed,
        }
    });
    let mut delivered = 0;
    for task in tasks {
        delivered += task.await.unwrap_or(0);
    }
    Figure {
        commands: spent.redis_commands,
        requests: spent.redis_requests,
        delivered,
        cdn,
    }
}

async fn hold_every_two_seconds(app: &App, event: &PublishedEvent) {
    for n in 0..HOLDS {
        let wallet = format!("0x{:040x}", n + 1);
        let token = app.token_for(&wallet, Role::User);
        let body = json!({"eventId": event.id, "seats": [seat(n)]});
        let reply = app
            .send(Method::POST, "/v1/holds", Some(&token), Some(body), &[])
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The client counts to measure: `BENCH_LIVE_CLIENTS` (comma-separated), else 0, 2 and 200;
/// 0 (the baseline) always comes first.
fn client_counts() -> Vec<usize> {
    let mut counts = std::env::var("BENCH_LIVE_CLIENTS")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect::<Vec<usize>>()
        })
        .filter(|counts| !counts.is_empty())
        .unwrap_or_else(|| vec![0, 2, 200]);
    counts.retain(|n| *n != 0);
    counts.insert(0, 0);
    counts
}

const SETTINGS: [(&str, &str); 4] = [
    ("LIVE_STREAM_SECS", "120"),
    // Heartbeats cost no command; they end a left client's stream within a second.
    ("LIVE_HEARTBEAT_SECS", "1"),
    ("RATE_LIMIT_WRITE", "100000:100000"),
    ("RATE_LIMIT_READ", "100000:100000"),
];

/// Prints the figures of `runtime` with the feeds reading Redis directly and, on `wasmtime
/// serve`, through the local CDN.
pub async fn run(stack: &Stack, runtime: Runtime) {
    let app = App::spawn(runtime, stack, &SETTINGS).await;
    table(stack, &app, None, &format!("{runtime:?}")).await;
    drop(app);
    if runtime == Runtime::Wasmtime {
        println!();
        let behind = BehindCdn::spawn(runtime, stack, &SETTINGS).await;
        let label = format!("{runtime:?} behind the CDN (LIVE_FEED_URL)");
        table(stack, &behind.app, Some(&behind.cdn), &label).await;
    }
}

async fn table(stack: &Stack, app: &App, cdn: Option<&RunningCdn>, label: &str) {
    println!(
        "## Live stream fan-out on {label}: SSE clients on one event for {}s, {HOLDS} holds in the window (LIVE_POLL_MS=1000)",
        WINDOW.as_secs()
    );
    println!(
        "| clients | Redis commands | watchers' commands (total - 0 clients) | Upstash requests | CDN origin requests / hits / collapsed | updates delivered / expected |"
    );
    println!("|---|---|---|---|---|---|");
    let mut baseline = None;
    let mut watchers = Vec::new();
    for clients in client_counts() {
        let figure = window(app, stack, cdn, clients).await;
        let baseline = *baseline.get_or_insert(figure.commands);
        let own = figure.commands.saturating_sub(baseline);
        watchers.push((clients, own));
        let cdn = figure.cdn.map_or_else(
            || "-".to_owned(),
            |s| format!("{} / {} / {}", s.origin_requests, s.hits, s.collapsed),
        );
        println!(
            "| {clients} | {} | {own} | {} | {cdn} | {} / {} |",
            figure.commands,
            figure.requests,
            figure.delivered,
            clients * HOLDS,
        );
        let _ = std::io::stdout().flush();
    }
    let of = |n: usize| watchers.iter().find(|(c, _)| *c == n).map(|(_, own)| *own);
    if let (Some(two), Some(many)) = (of(2), of(200)) {
        println!(
            "\nWatchers' commands, 200 vs 2 clients on {label}: {many} vs {two} = {:.2}x",
            many as f64 / two.max(1) as f64
        );
    }
}
