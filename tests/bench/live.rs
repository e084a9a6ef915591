//! The live stream's fan-out: Redis commands (as the local Upstash front counts them) while 2
//! and then 200 SSE clients watch one event for 10 s with 5 holds in that window, on one App.
//! The holds cost the same in both runs; what grows with the clients is the watchers' share.
//!
//! What to expect: on workerd every stream of the isolate shares one feed, so the watchers
//! cost one log read per `LIVE_POLL_MS` whatever their number (measured: 26 commands for 2
//! clients, 33 for 200). `wasmtime serve` runs a p3 component in several instances and module
//! state is per instance, so the feeds are shared per instance only: the cost is about one
//! read per poll interval per instance. Opening 200 streams at once, it packed about three
//! streams per instance (measured: 16 clients 78 commands, 64 → 247, 200 → 617-709, i.e.
//! ≈ 60-70 instances), so 200 clients cost ~20x what 2 do there, still ~3x less than a read
//! per client. Spin proper instantiates per request: there each stream polls on its own, and
//! what shares reads is a CDN in front of the updates route (`Cache-Control: public,
//! max-age=1`). `BENCH_LIVE_CLIENTS=2,16,200` and `BENCH_RUNTIME=Wasmtime` narrow the run.

use e2e::catalog::{EventSpec, PublishedEvent, publish_event, seat};
use e2e::{App, Runtime, Stack};
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
}

/// Opens `clients` streams on a new event, then counts what the 10 s window costs.
async fn window(app: &App, stack: &Stack, clients: usize) -> Figure {
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
    // Let the connections settle before counting.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = stack.stats().await;
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
    let mut delivered = 0;
    for task in tasks {
        delivered += task.await.unwrap_or(0);
    }
    Figure {
        commands: spent.redis_commands,
        requests: spent.redis_requests,
        delivered,
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

/// The client counts to measure: `BENCH_LIVE_CLIENTS` (comma-separated), else 2 and 200.
fn client_counts() -> Vec<usize> {
    std::env::var("BENCH_LIVE_CLIENTS")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect::<Vec<usize>>()
        })
        .filter(|counts| !counts.is_empty())
        .unwrap_or_else(|| vec![2, 200])
}

/// Prints the 2-client and 200-client figures of `runtime` and their ratio.
pub async fn run(stack: &Stack, runtime: Runtime) {
    let app = App::spawn(
        runtime,
        stack,
        &[
            ("LIVE_STREAM_SECS", "120"),
            ("RATE_LIMIT_WRITE", "100000:100000"),
            ("RATE_LIMIT_READ", "100000:100000"),
        ],
    )
    .await;
    println!(
        "## Live stream fan-out on {runtime:?}: SSE clients on one event for {}s, {HOLDS} holds in the window (LIVE_POLL_MS=1000)",
        WINDOW.as_secs()
    );
    println!(
        "| clients | Redis commands | Upstash requests | updates delivered / expected | commands vs 2 clients |"
    );
    println!("|---|---|---|---|---|");
    let mut base = None;
    for clients in client_counts() {
        let figure = window(&app, stack, clients).await;
        let base = *base.get_or_insert(figure.commands.max(1));
        println!(
            "| {clients} | {} | {} | {} / {} | {:.2} |",
            figure.commands,
            figure.requests,
            figure.delivered,
            clients * HOLDS,
            figure.commands as f64 / base as f64
        );
        let _ = std::io::stdout().flush();
    }
}
