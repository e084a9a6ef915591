//! `make bench`: bundle sizes, and `/health` and `/ready` throughput and latency of the release
//! Wasm on workerd (Miniflare) and on `wasmtime serve`, against the real local stack; seat-hold
//! throughput, the raw `EVALSHA` rate of the hold script and a no-oversell count (`holds.rs`);
//! the Redis cost of 200 vs 2 live-stream watchers (`live.rs`); swap-quote latency from the
//! chain and from the cache, and the RPC calls of a 50-quote batch (`swap.rs`).
//!
//! Load comes from autocannon on 127.0.0.1, bounded in connections and duration. Figures are
//! meant to be read as ratios within one run (`/ready` vs `/health` on the same runtime, one
//! runtime vs the other), not as absolute numbers: this is a 2-core machine that also runs
//! Redis, the fronts and anvil.

mod checkin;
mod holds;
mod live;
mod swap;

use e2e::{App, Runtime, Stack, root};
use std::io::Write as _;
use std::path::Path;

const CONNECTIONS: &str = "16";
const SECONDS: &str = "5";

fn gzip_size(path: &Path) -> u64 {
    let output = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .expect("gzip runs");
    output.stdout.len() as u64
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path)
        .map(|m| m.len())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

struct Load {
    rps: f64,
    p50: f64,
    p99: f64,
    non_2xx: u64,
    errors: u64,
    /// Responses per status code, e.g. `201: 1234`.
    statuses: String,
}

async fn load(url: &str) -> Load {
    load_with(url, &[]).await
}

/// autocannon on `url` with `extra` arguments (method, headers, body).
async fn load_with(url: &str, extra: &[&str]) -> Load {
    let output = tokio::process::Command::new(root().join("node_modules/.bin/autocannon"))
        .args(["-c", CONNECTIONS, "-d", SECONDS, "--json"])
        .args(extra)
        .arg(url)
        .output()
        .await
        .expect("autocannon runs");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("autocannon JSON");
    let num = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    Load {
        rps: num(&report["requests"]["average"]),
        p50: num(&report["latency"]["p50"]),
        p99: num(&report["latency"]["p99"]),
        non_2xx: report["non2xx"].as_u64().unwrap_or(0),
        errors: report["errors"].as_u64().unwrap_or(0),
        statuses: report["statusCodeStats"]
            .as_object()
            .map(|codes| {
                codes
                    .iter()
                    .map(|(code, n)| format!("{code}: {}", n["count"]))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
    }
}

/// A SIWE message for `app`, signed by ethers (a real wallet library, not our code).
async fn signed_siwe(app: &App) -> (String, String) {
    let key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    let address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    let challenge: serde_json::Value = app
        .request(reqwest::Method::POST, "/v1/auth/siwe/challenge")
        .json(&serde_json::json!({"address": address, "chainId": 31337}))
        .send()
        .await
        .expect("challenge")
        .json()
        .await
        .expect("json");
    let message = challenge["message"].as_str().expect("message").to_owned();
    let output = tokio::process::Command::new("node")
        .args(["-e", "const {Wallet}=require('ethers'); new Wallet(process.argv[1]).signMessage(process.argv[2]).then(s=>process.stdout.write(s))", key, &message])
        .current_dir(root())
        .output()
        .await
        .expect("node signs");
    (message, String::from_utf8(output.stdout).expect("utf-8"))
}

/// Wall time of one `/internal/bench/crypto` call.
async fn crypto_call(
    app: &App,
    kind: &str,
    iterations: u32,
    message: &str,
    signature: &str,
) -> f64 {
    let started = std::time::Instant::now();
    let response = app
        .request(reqwest::Method::POST, "/internal/bench/crypto")
        .json(&serde_json::json!({"kind": kind, "iterations": iterations, "message": message, "signature": signature}))
        .send()
        .await
        .expect("bench call");
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body["ok"], iterations,
        "every iteration must verify: {body}"
    );
    elapsed
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Milliseconds of one operation inside the Wasm build: (N iterations - 0 iterations) / N,
/// medians of 7 runs each.
async fn per_op_ms(app: &App, kind: &str, iterations: u32, message: &str, signature: &str) -> f64 {
    let mut empty = Vec::new();
    let mut full = Vec::new();
    for _ in 0..7 {
        empty.push(crypto_call(app, kind, 0, message, signature).await);
        full.push(crypto_call(app, kind, iterations, message, signature).await);
    }
    (median(full) - median(empty)) / f64::from(iterations)
}

/// Backfill through the Wasm build: one tick over 2,000+ blocks / 10,000+ logs per runtime.
async fn indexer_backfill() {
    let stack = Stack::start().await;
    let contracts = e2e::chain::chain_cmd(&stack.rpc_url, "deploy", &[]).await;
    let backfill = e2e::chain::chain_cmd(
        &stack.rpc_url,
        "backfill",
        &["--addresses", &contracts.to_string(), "--events", "10000"],
    )
    .await;
    let addresses = format!(
        "{},{},{}",
        contracts["ticket"].as_str().unwrap_or_default(),
        contracts["market"].as_str().unwrap_or_default(),
        contracts["vault"].as_str().unwrap_or_default()
    );
    let start = contracts["deployBlock"].as_u64().unwrap_or(0);
    let head = e2e::chain::head(&stack.rpc_url).await;
    println!(
        "## Indexer backfill through the Wasm build ({} blocks, {} logs; one tick via the HTTP trigger)",
        head - start + 1,
        backfill["logs"]
    );
    println!(
        "| runtime | wall ms | tick ms | blocks/s | logs/s | batches | RPC % | libSQL % | decode+build % |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let (_, libsql_token) = stack.tokens();
    for runtime in [Runtime::Workerd, Runtime::Wasmtime] {
        ops::indexer::reindex(&stack.libsql_url, Some(libsql_token), 31337, start)
            .await
            .expect("reset");
        let start_text = start.to_string();
        let app = App::spawn(
            runtime,
            &stack,
            &[
                ("INDEXER_CONTRACTS", &addresses),
                ("INDEXER_START_BLOCK", &start_text),
                ("INDEXER_MAX_TICK_MS", "120000"),
            ],
        )
        .await;
        let started = std::time::Instant::now();
        let report: serde_json::Value = app.trigger_cron_http().await.json().await.expect("report");
        let wall = started.elapsed().as_secs_f64() * 1000.0;
        let ms = |field: &str| report[field].as_u64().unwrap_or(0);
        let logs = report["logs"].as_f64().unwrap_or(0.0);
        let blocks = (report["lastBlock"].as_u64().unwrap_or(start) + 1 - start) as f64;
        // The shares of the tick's own duration (the wall time also has the HTTP round trip).
        let tick = ms("durationMs").max(1) as f64;
        let share = |field: &str| ms(field) as f64 / tick * 100.0;
        println!(
            "| {runtime:?} | {wall:.0} | {} | {:.0} | {:.0} | {} | {:.0} | {:.0} | {:.0} |",
            ms("durationMs"),
            blocks / wall * 1000.0,
            logs / wall * 1000.0,
            report["batches"],
            share("rpcMs"),
            share("sqlMs"),
            share("cpuMs"),
        );
        assert_eq!(report["outcome"], "ok", "{report}");
        let _ = std::io::stdout().flush();
    }
}

#[tokio::main]
async fn main() {
    // `bench [load|holds|checkin|live|swap|indexer]` runs one section (sizes and crypto always).
    let only = std::env::args().nth(1);
    let wanted = |section: &str| only.as_deref().is_none_or(|o| o == section);
    let bundle_wasm = root().join("functions/hosts/cloudflare/build/index_bg.wasm");
    let bundle_js = root().join("functions/hosts/cloudflare/build/index.js");
    let component = root().join("target/wasm32-wasip2/release/ot_spin.wasm");
    let worker_raw = size(&bundle_wasm) + size(&bundle_js);
    let worker_gz = gzip_size(&bundle_wasm) + gzip_size(&bundle_js);
    println!("## Sizes");
    println!(
        "Worker bundle (index_bg.wasm + index.js): {} raw, {} gzip (goal <= 1024 KiB gzip)",
        kib(worker_raw),
        kib(worker_gz)
    );
    println!(
        "Spin component (ot_spin.wasm):           {} raw, {} gzip",
        kib(size(&component)),
        kib(gzip_size(&component))
    );
    println!();
    println!("## Load: autocannon -c {CONNECTIONS} -d {SECONDS}s from 127.0.0.1");
    println!("| runtime | route | req/s | p50 ms | p99 ms | non-2xx | errors | req/s vs /health |");
    println!("|---|---|---|---|---|---|---|---|");
    let stack = Stack::start().await;
    let (_, libsql_token) = stack.tokens();
    ops::demo::seed(&stack.libsql_url, Some(libsql_token))
        .await
        .expect("demo data");
    let mut crypto = Vec::new();
    for runtime in [Runtime::Workerd, Runtime::Wasmtime] {
        // Limits high enough not to refuse the load (the bucket check itself still runs).
        let app = App::spawn(
            runtime,
            &stack,
            &[
                ("BENCH_ROUTES", "1"),
                ("RATE_LIMIT_READ", "1000000:1000000"),
                ("RATE_LIMIT_AUTH", "1000000:1000000"),
            ],
        )
        .await;
        let (message, signature) = signed_siwe(&app).await;
        let siwe = per_op_ms(&app, "siwe", 200, &message, &signature).await;
        let jwt = per_op_ms(&app, "jwt", 2000, "", "").await;
        let qr_hmac = per_op_ms(&app, "qr_hmac", 5000, "", "").await;
        let pass_ed25519 = per_op_ms(&app, "pass_ed25519", 500, "", "").await;
        crypto.push((runtime, siwe, jwt, qr_hmac, pass_ed25519));
        if !wanted("load") {
            continue;
        }
        // Warm up (JIT, instance pools, connections).
        let _ = load(&format!("{}/health", app.base_url)).await;
        let mut baseline = None;
        for route in ["/health", "/ready", "/v1/events"] {
            let result = load(&format!("{}{route}", app.base_url)).await;
            let base = *baseline.get_or_insert(result.rps);
            println!(
                "| {runtime:?} | {route} | {:.0} | {} | {} | {} | {} | {:.2} |",
                result.rps,
                result.p50,
                result.p99,
                result.non_2xx,
                result.errors,
                result.rps / base
            );
            let _ = std::io::stdout().flush();
        }
    }
    println!();
    for runtime in [Runtime::Workerd, Runtime::Wasmtime] {
        if wanted("holds") {
            holds::run(&stack, runtime).await;
            println!();
        }
    }
    for runtime in [Runtime::Workerd, Runtime::Wasmtime] {
        if wanted("checkin") {
            checkin::run(&stack, runtime).await;
            println!();
        }
    }
    for runtime in [Runtime::Workerd, Runtime::Wasmtime] {
        let only_runtime = std::env::var("BENCH_RUNTIME").ok();
        if wanted("live") && only_runtime.is_none_or(|r| r == format!("{runtime:?}")) {
            live::run(&stack, runtime).await;
            println!();
        }
    }
    for runtime in [Runtime::Workerd, Runtime::Wasmtime] {
        if wanted("swap") {
            swap::run(&stack, runtime).await;
            println!();
        }
    }
    println!();
    if wanted("indexer") {
        indexer_backfill().await;
        println!();
    }
    println!(
        "## Crypto inside the Wasm build (per operation; goals: SIWE < 2 ms, JWT < 0.2 ms, QR HMAC < 0.2 ms, pass Ed25519 < 0.2 ms)"
    );
    println!(
        "| runtime | SIWE parse + EIP-191 recover | JWT HS256 verify | online code HMAC verify | offline pass Ed25519 verify |"
    );
    println!("|---|---|---|---|---|");
    for (runtime, siwe, jwt, qr_hmac, pass_ed25519) in crypto {
        println!(
            "| {runtime:?} | {siwe:.3} ms | {jwt:.4} ms | {qr_hmac:.4} ms | {pass_ed25519:.4} ms |"
        );
    }
}
