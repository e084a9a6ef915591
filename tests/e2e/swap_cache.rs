//! The swap cache on both runtimes: within `SWAP_CACHE_TTL_MS` the cache answers (and says
//! so) even after a swap moved the reserves; after it, the next quote reads the chain again.
//! And the routes' budgets: a hit is one Redis round trip and command and no RPC call; a miss
//! adds one `eth_call` and one deferred command.

use alloy_primitives::U256;
use e2e::cost::settled;
use e2e::proxy::Proxy;
use e2e::swap::{RouterQuestion, Uniswap, amount, router_amounts};
use e2e::{App, Reply, Runtime, Stack};
use reqwest::Method;

pub fn quote_path(uni: &Uniswap, amount_in: &str) -> String {
    format!(
        "/v1/swap/quote?tokenIn={}&tokenOut={}&amountIn={amount_in}",
        uni.token("A"),
        uni.token("B")
    )
}

/// Within the TTL the cache answers (and says so) even after a swap moved the reserves; after
/// it, the next quote reads the chain again and reflects the swap.
async fn cache_follows_the_ttl(runtime: Runtime) {
    let stack = Stack::start().await;
    let uni = Uniswap::deploy(&stack.rpc_url).await;
    let mut overrides = uni.overrides();
    overrides.push(("SWAP_CACHE_TTL_MS", "4000"));
    let app = App::spawn(runtime, &stack, &overrides).await;
    let path = quote_path(&uni, "1000000000000000000");
    let first = app.send(Method::GET, &path, None, None, &[]).await;
    assert_eq!(
        (first.status, first.body["source"].as_str()),
        (200, Some("chain")),
        "{}",
        first.body
    );
    let read_at = first.body["readAt"].as_u64().expect("readAt");
    assert_eq!(first.body["validUntil"].as_u64(), Some(read_at + 4_000));
    // The cache write goes out after the response: wait for it to land.
    let second = until_cached(&app, &path).await;
    assert_eq!(second.body["blockNumber"], first.body["blockNumber"]);
    assert_eq!(second.body["amountOut"], first.body["amountOut"]);
    assert_eq!(second.body["validUntil"], first.body["validUntil"]);

    let traded_at = uni
        .trade(&stack.rpc_url, "A,B", "3000000000000000000")
        .await;
    let stale = app.send(Method::GET, &path, None, None, &[]).await;
    let now = now_ms();
    if now < read_at + 4_000 {
        assert_eq!(
            stale.body["source"], "cache",
            "inside the TTL: {}",
            stale.body
        );
        assert_eq!(stale.body["amountOut"], first.body["amountOut"]);
        assert!(
            stale.body["validUntil"]
                .as_u64()
                .is_some_and(|v| v > now - 100)
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(
        (read_at + 4_100).saturating_sub(now_ms()),
    ))
    .await;
    let fresh = app.send(Method::GET, &path, None, None, &[]).await;
    assert_eq!(fresh.body["source"], "chain", "{}", fresh.body);
    let block = fresh.body["blockNumber"].as_u64().expect("block");
    assert!(
        block >= traded_at,
        "{} read before the swap's block {traded_at}",
        fresh.body
    );
    assert_ne!(
        fresh.body["amountOut"], first.body["amountOut"],
        "the swap moved the price"
    );
    let router = router_amounts(
        &stack.rpc_url,
        uni.router,
        block,
        &[RouterQuestion {
            path: e2e::swap::path(&fresh.body["path"]),
            exact_in: true,
            amount: U256::from(10u64.pow(18)),
        }],
    )
    .await;
    let expected = router[0].as_ref().expect("router quotes");
    assert_eq!(
        amount(&fresh.body["amountOut"]),
        expected[expected.len() - 1]
    );
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn until_cached(app: &App, path: &str) -> Reply {
    for _ in 0..40 {
        let reply = app.send(Method::GET, path, None, None, &[]).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        if reply.body["source"] == "cache" {
            return reply;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the cache never answered");
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_swap_cache_follows_the_ttl() {
    cache_follows_the_ttl(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_swap_cache_follows_the_ttl() {
    cache_follows_the_ttl(Runtime::Wasmtime).await;
}

/// (Redis round trips, Redis commands, libSQL round trips, RPC calls) of one quote, after-
/// response work included.
type Budget = (u64, u64, u64, usize);

async fn measure(stack: &Stack, proxy: &Proxy, app: &App, path: &str) -> (Budget, String) {
    let before = settled(stack).await;
    proxy.take_forwarded();
    let reply = app.send(Method::GET, path, None, None, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let after = settled(stack).await;
    let budget = (
        after.redis_requests - before.redis_requests,
        after.redis_commands - before.redis_commands,
        after.sql_requests - before.sql_requests,
        proxy.take_forwarded().len(),
    );
    (
        budget,
        reply.body["source"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The counted budgets of a miss and a hit. On wasmtime serve every request is a new
/// instance whose metrics sample is flushed after the response: one more command, in the
/// deferred pipeline when there is one, else one more round trip.
async fn budgets(runtime: Runtime) {
    let stack = Stack::start().await;
    let uni = Uniswap::deploy(&stack.rpc_url).await;
    let proxy = Proxy::start(&stack.rpc_url).await;
    let mut overrides = uni.overrides();
    overrides.push(("RPC_URL", &proxy.url));
    overrides.push(("METRICS_FLUSH_SECS", "3600"));
    overrides.push(("SWAP_CACHE_TTL_MS", "60000"));
    let app = App::spawn(runtime, &stack, &overrides).await;
    // Warm the scripts into Redis with a quote on other pairs (a partial hit is a miss).
    let warm = format!(
        "/v1/swap/quote?tokenIn={}&tokenOut={}&amountIn=5000",
        uni.token("C"),
        uni.token("A")
    );
    measure(&stack, &proxy, &app, &warm).await;
    let path = quote_path(&uni, "123456789");
    let (miss, hit) = match runtime {
        Runtime::Workerd => ((2, 2, 0, 1), (1, 1, 0, 0)),
        Runtime::Wasmtime => ((2, 3, 0, 1), (2, 2, 0, 0)),
    };
    assert_eq!(
        measure(&stack, &proxy, &app, &path).await,
        (miss, "chain".to_owned())
    );
    assert_eq!(
        measure(&stack, &proxy, &app, &path).await,
        (hit, "cache".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_swap_budgets_are_counted() {
    budgets(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_swap_budgets_are_counted() {
    budgets(Runtime::Wasmtime).await;
}
