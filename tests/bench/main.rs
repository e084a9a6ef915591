//! `make bench`: bundle sizes, and `/health` and `/ready` throughput and latency of the release
//! Wasm on workerd (Miniflare) and on `wasmtime serve`, against the real local stack.
//!
//! Load comes from autocannon on 127.0.0.1, bounded in connections and duration. Figures are
//! meant to be read as ratios within one run (`/ready` vs `/health` on the same runtime, one
//! runtime vs the other), not as absolute numbers: this is a 2-core machine that also runs
//! Redis, the fronts and anvil.

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
}

async fn load(url: &str) -> Load {
    let output = tokio::process::Command::new(root().join("node_modules/.bin/autocannon"))
        .args(["-c", CONNECTIONS, "-d", SECONDS, "--json", url])
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
    }
}

#[tokio::main]
async fn main() {
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
    for runtime in [Runtime::Workerd, Runtime::Wasmtime] {
        let app = App::spawn(runtime, &stack, &[]).await;
        // Warm up (JIT, instance pools, connections).
        let _ = load(&format!("{}/health", app.base_url)).await;
        let mut baseline = None;
        for route in ["/health", "/ready"] {
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
}
