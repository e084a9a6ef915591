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
/// Fresh tickets scanned once each for the first-admission rate (50 per buyer: one hold).
const FIRST_ADMISSIONS: usize = 200;
/// Requests in flight at once in the first-admission run (and its `/health` baseline).
const IN_FLIGHT: usize = 16;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Runs the check-in benchmark on `runtime` and prints its tables.
pub async fn run(stack: &Stack, runtime: Runtime) {
    let app = App::spawn(
        runtime,
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
            ..EventSpec::new(2 + FIRST_ADMISSIONS, 0)
        },
    )
    .await;
    let key = verifier_key(&app, &event.id, "bench").await;
    let bought = buy_seats(&app, &event.id, HOLDER, &[seat(0), seat(1)]).await;
    let (code, _) = code_pair(&app, HOLDER, &bought.tickets[0]).await;

    println!(
        "## Check-in scans on {runtime:?}: autocannon -c {CONNECTIONS} -d {SECONDS}s, a fresh nonce per scan of one admitted ticket"
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
    println!(
        "duplicate scans/health: {:.2}x (goal >= 0.5x)",
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
    println!("## 500-way contention on one ticket ({runtime:?}, 500 concurrent scans)");
    println!("| ok | already_redeemed | other | wall ms | p50 ms | p99 ms | scans/s |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {ok} | {redeemed} | {other} | {wall:.0} | {:.0} | {:.0} | {:.0} |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        500.0 / (wall / 1000.0)
    );
    println!("(goal: exactly 1 ok, wall < 1000 ms)");
    first_admissions(&app, &event.id, &key).await;
}

/// `count` requests made by `make(i)`, `IN_FLIGHT` at a time: requests per second and the
/// answers' bodies.
async fn paced<F>(count: usize, make: F) -> (f64, Vec<(u16, Value)>)
where
    F: Fn(usize) -> reqwest::RequestBuilder,
{
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..count {
        let request = make(i);
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore");
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or_default())
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    (count as f64 / started.elapsed().as_secs_f64(), answers)
}

/// First admissions: `FIRST_ADMISSIONS` fresh tickets scanned once each (the path that writes
/// the check-in), against `/health` driven the same way.
pub async fn first_admissions(app: &App, event_id: &str, key: &str) {
    let mut codes = Vec::new();
    for buyer in 0..FIRST_ADMISSIONS / 50 {
        let wallet = format!("0x{:040x}", 0x4000 + buyer);
        let seats: Vec<String> = (0..50).map(|i| seat(2 + buyer * 50 + i)).collect();
        let bought = buy_seats(app, event_id, &wallet, &seats).await;
        for ticket in &bought.tickets {
            codes.push(code_pair(app, &wallet, ticket).await.0);
        }
    }
    let (health_rps, _) = paced(FIRST_ADMISSIONS, |_| app.request(Method::GET, "/health")).await;
    let (scan_rps, answers) = paced(codes.len(), |i| {
        app.request(Method::POST, "/v1/checkin/scan")
            .header("x-verifier-key", key)
            .json(
                &json!({"code": codes[i], "gate": "First", "deviceId": "bench",
                          "scannedAt": now_ms(), "nonce": format!("first-{i:04}")}),
            )
    })
    .await;
    let ok = answers
        .iter()
        .filter(|(status, body)| *status == 200 && body["result"] == "ok")
        .count();
    println!();
    println!(
        "## First admissions: {} fresh tickets scanned once, {IN_FLIGHT} in flight",
        codes.len()
    );
    println!("| route | req/s | ok | req/s vs /health (same driver) |");
    println!("|---|---|---|---|");
    println!("| GET /health | {health_rps:.0} | - | 1.00 |");
    println!(
        "| POST /v1/checkin/scan (first) | {scan_rps:.0} | {ok} | {:.2} (goal >= 0.3) |",
        scan_rps / health_rps
    );
}
