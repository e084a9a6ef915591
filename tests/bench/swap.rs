//! Swap quotes against real Uniswap V2 on anvil: single-quote latency (p50/p99, autocannon)
//! with the reserves read from the chain on every request (`SWAP_CACHE_TTL_MS=0`) and from
//! the cache, next to `/health` in the same run; and what a 50-quote batch costs the node,
//! counted at a proxy in front of anvil. Goals (issue 15): cached p99 < 5 ms locally on
//! wasmtime, uncached < 50 ms.

use super::load;
use e2e::proxy::Proxy;
use e2e::swap::{TOKENS, Uniswap};
use e2e::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::json;
use std::io::Write as _;

/// Requests per sequential latency run.
const SEQUENTIAL: usize = 1_000;

/// p50 and p99 in ms of `n` GETs of `path` sent one after the other on one keep-alive
/// connection, straight to the app (not through the tests' contract proxy).
async fn sequential(app: &App, path: &str, n: usize) -> (f64, f64) {
    let client = reqwest::Client::new();
    let url = format!("{}{path}", app.base_url);
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = std::time::Instant::now();
        let response = client.get(&url).send().await.expect("sent");
        assert_eq!(response.status(), 200, "{path}");
        let _ = response.bytes().await.expect("body");
        samples.push(started.elapsed().as_secs_f64() * 1_000.0);
    }
    samples.sort_by(f64::total_cmp);
    (samples[n / 2], samples[(n * 99) / 100])
}

/// One runtime's rows.
pub async fn run(stack: &Stack, runtime: Runtime) {
    let uni = Uniswap::deploy(&stack.rpc_url).await;
    let proxy = Proxy::start(&stack.rpc_url).await;
    let mut env = uni.overrides();
    env.push(("RPC_URL", &proxy.url));
    env.push(("RATE_LIMIT_READ", "1000000:1000000"));
    let spawn = |ttl| {
        let mut overrides = env.clone();
        overrides.push(("SWAP_CACHE_TTL_MS", ttl));
        async move { App::spawn(runtime, stack, &overrides).await }
    };
    // A→B: the direct pair and two one-hop paths, five pairs read per quote.
    let quote = format!(
        "/v1/swap/quote?tokenIn={}&tokenOut={}&amountIn=1000000000000000000",
        uni.token("A"),
        uni.token("B")
    );
    println!(
        "## Swap quotes on {runtime:?}: latency of one client, {SEQUENTIAL} requests in a row"
    );
    println!("| reserves from | route | p50 ms | p99 ms | eth_calls per request |");
    println!("|---|---|---|---|---|");
    for (label, ttl) in [
        ("chain (SWAP_CACHE_TTL_MS=0)", "0"),
        ("cache (SWAP_CACHE_TTL_MS=60000)", "60000"),
    ] {
        let app = spawn(ttl).await;
        for (route, path) in [
            ("GET /health", "/health"),
            ("GET /v1/swap/quote", quote.as_str()),
        ] {
            let _ = sequential(&app, path, 50).await;
            proxy.take_forwarded();
            let (p50, p99) = sequential(&app, path, SEQUENTIAL).await;
            let calls = proxy.take_forwarded().len() as f64 / SEQUENTIAL as f64;
            println!("| {label} | {route} | {p50:.2} | {p99:.2} | {calls:.2} |");
        }
        let _ = std::io::stdout().flush();
    }
    println!();
    println!(
        "## Swap quotes on {runtime:?} (autocannon -c {} -d {}s)",
        super::CONNECTIONS,
        super::SECONDS
    );
    println!(
        "| reserves from | route | req/s | p50 ms | p99 ms | non-2xx | eth_calls per quote | req/s vs /health |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (label, ttl) in [
        ("chain (SWAP_CACHE_TTL_MS=0)", "0"),
        ("cache (SWAP_CACHE_TTL_MS=60000)", "60000"),
    ] {
        let app = spawn(ttl).await;
        let warm = app.send(Method::GET, &quote, None, None, &[]).await;
        assert_eq!(warm.status, 200, "{}", warm.body);
        let _ = load(&format!("{}/health", app.base_url)).await;
        let health = load(&format!("{}/health", app.base_url)).await;
        proxy.take_forwarded();
        let result = load(&format!("{}{quote}", app.base_url)).await;
        let calls = proxy.take_forwarded().len() as f64;
        let served = result.rps * super::SECONDS.parse::<f64>().unwrap_or(1.0);
        println!(
            "| {label} | GET /v1/swap/quote | {:.0} | {} | {} | {} | {:.2} | {:.2} |",
            result.rps,
            result.p50,
            result.p99,
            result.non_2xx,
            calls / served.max(1.0),
            result.rps / health.rps
        );
        println!(
            "| (baseline) | GET /health | {:.0} | {} | {} | {} | 0 | 1.00 |",
            health.rps, health.p50, health.p99, health.non_2xx
        );
        let _ = std::io::stdout().flush();
    }

    // A batch of 50 distinct quotes on a cold cache: one eth_call for every pair they touch.
    let app = spawn("0").await;
    let quotes = uni.all_pairs_batch("1000000");
    proxy.take_forwarded();
    let started = std::time::Instant::now();
    let reply = app
        .send(
            Method::POST,
            "/v1/swap/quotes",
            None,
            Some(json!({"quotes": quotes})),
            &[],
        )
        .await;
    let elapsed = started.elapsed().as_secs_f64() * 1_000.0;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let calls = proxy.take_forwarded();
    println!();
    println!(
        "50-quote batch (every ordered pair of {} tokens, {} pairs read): {} RPC call(s) at the node ({}), {elapsed:.1} ms",
        TOKENS.len(),
        TOKENS.len() * (TOKENS.len() - 1) / 2,
        calls.len(),
        calls.join(", ")
    );
}
