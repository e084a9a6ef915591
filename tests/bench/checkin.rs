//! Tickets at the door on workerd: `POST /v1/checkin/scan` throughput and latency next to
//! `/health` on the same App (every scan a fresh nonce of an already admitted ticket: the
//! door's duplicate path, which still verifies the HMAC, reads the ticket, takes the lock and
//! writes the audit row), and a 500-way contention burst on one fresh ticket.

use crate::{CONNECTIONS, SECONDS, load, load_with};
use e2e::catalog::{EventSpec, publish_event, seat};
use e2e::door::{code_pair, verifier_key};
use e2e::payments::{buy_seats, now_ms};
use e2e::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write as _;

const HOLDER: &str = "0x0000000000000000000000000000000000003001";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Runs the check-in benchmark and prints its tables.
pub async fn run(stack: &Stack) {
    let app = App::spawn(
        Runtime::Workerd,
        stack,
        &[
            ("RATE_LIMIT_WRITE", "1000000:1000000"),
            ("RATE_LIMIT_SCANNER", "1000000:1000000"),
            ("QR_CODE_TTL_SECS", "3600"),
        ],
    )
    .await;
    let event = publish_event(
        &app,
        &EventSpec {
            title: "Bench doors",
            starts_at: now_ms() + 3_600_000,
            ..EventSpec::new(2, 0)
        },
    )
    .await;
    let key = verifier_key(&app, &event.id, "bench").await;
    let bought = buy_seats(&app, &event.id, HOLDER, &[seat(0), seat(1)]).await;
    let (code, _) = code_pair(&app, HOLDER, &bought.tickets[0]).await;

    println!(
        "## Check-in scans on workerd: autocannon -c {CONNECTIONS} -d {SECONDS}s, a fresh nonce per scan of one admitted ticket"
    );
    println!("| route | req/s | p50 ms | p99 ms | statuses | req/s vs /health |");
    println!("|---|---|---|---|---|---|");
    let _ = load(&format!("{}/health", app.base_url)).await;
    let health = load(&format!("{}/health", app.base_url)).await;
    println!(
        "| GET /health | {:.0} | {} | {} | 200: all | 1.00 |",
        health.rps, health.p50, health.p99
    );
    let body = json!({"code": code, "gate": "Bench", "deviceId": "autocannon",
                      "scannedAt": now_ms(), "nonce": "bench-[<id>]"})
    .to_string();
    let header = format!("x-verifier-key: {key}");
    let scans = load_with(
        &format!("{}/v1/checkin/scan", app.base_url),
        &[
            "-m",
            "POST",
            "-H",
            "content-type: application/json",
            "-H",
            &header,
            "-I",
            "-b",
            &body,
        ],
    )
    .await;
    println!(
        "| POST /v1/checkin/scan | {:.0} | {} | {} | {} | {:.2} |",
        scans.rps,
        scans.p50,
        scans.p99,
        scans.statuses,
        scans.rps / health.rps
    );
    let _ = std::io::stdout().flush();

    // 500 devices scan one fresh ticket at once.
    let (fresh, _) = code_pair(&app, HOLDER, &bought.tickets[1]).await;
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..500 {
        let request = app
            .request(Method::POST, "/v1/checkin/scan")
            .header("x-verifier-key", &key)
            .json(
                &json!({"code": fresh, "gate": format!("G{}", i % 7), "deviceId": format!("d{i}"),
                          "scannedAt": now_ms(), "nonce": format!("contention-{i:04}")}),
            );
        tasks.push(tokio::spawn(async move {
            let sent = std::time::Instant::now();
            let response = request.send().await.expect("scan");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or_default();
            (status, body, sent.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut latencies = Vec::new();
    let (mut ok, mut redeemed, mut other) = (0, 0, 0);
    for task in tasks {
        let (status, body, ms) = task.await.expect("task");
        latencies.push(ms);
        match (status, body["result"].as_str()) {
            (200, Some("ok")) => ok += 1,
            (200, Some("already_redeemed")) => redeemed += 1,
            _ => other += 1,
        }
    }
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    latencies.sort_by(f64::total_cmp);
    println!();
    println!("## 500-way contention on one ticket (workerd, 500 concurrent scans)");
    println!("| ok | already_redeemed | other | wall ms | p50 ms | p99 ms | scans/s |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {ok} | {redeemed} | {other} | {wall:.0} | {:.0} | {:.0} | {:.0} |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        500.0 / (wall / 1000.0)
    );
}
