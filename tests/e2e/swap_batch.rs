//! Swap batches and pairs on both runtimes: 50 quotes read every pair with one `eth_call`
//! (counted at a proxy in front of anvil), the pairs route lists exactly the pools that exist,
//! a node that is down is a 503, and with Redis down the read group's policy decides.

use super::swap_cache::quote_path;
use e2e::proxy::{Mode, Proxy};
use e2e::swap::{TOKENS, Uniswap, pool_rows};
use e2e::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::json;

/// A batch of 50 reads every pair with one `eth_call` (counted at a proxy in front of
/// anvil); the pairs route lists exactly the pools that exist; a node that is down is 503.
async fn batches_cost_one_call(runtime: Runtime) {
    let mut stack = Stack::start().await;
    let uni = Uniswap::deploy(&stack.rpc_url).await;
    let proxy = Proxy::start(&stack.rpc_url).await;
    let mut overrides = uni.overrides();
    overrides.push(("RPC_URL", &proxy.url));
    let app = App::spawn(runtime, &stack, &overrides).await;
    // Before anything is cached: a node that is down is a 503 the client can retry.
    proxy.set(Mode::Down);
    let down = app
        .send(Method::GET, &quote_path(&uni, "777"), None, None, &[])
        .await;
    down.assert_error(503, "RPC_UNAVAILABLE", None);
    proxy.set(Mode::Pass);
    proxy.take_forwarded();

    let quotes = uni.all_pairs_batch("1000");
    let reply = app
        .send(
            Method::POST,
            "/v1/swap/quotes",
            None,
            Some(json!({"quotes": quotes})),
            &[],
        )
        .await;
    assert_eq!(
        (reply.status, reply.body["source"].as_str()),
        (200, Some("chain")),
        "{}",
        reply.body
    );
    assert_eq!(reply.body["quotes"].as_array().map(Vec::len), Some(50));
    assert_eq!(
        proxy.take_forwarded(),
        ["eth_call"],
        "one eth_call for 50 quotes"
    );

    let tokens: Vec<String> = TOKENS.iter().map(|n| uni.token(n).to_string()).collect();
    let pairs = app
        .send(
            Method::GET,
            &format!("/v1/swap/pairs?tokens={}", tokens.join(",")),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(pairs.status, 200, "{}", pairs.body);
    assert_eq!(
        pool_rows(&pairs.body["pairs"]),
        uni.pools(),
        "every pool that exists, none that does not"
    );
    assert!(proxy.take_forwarded().len() <= 1);

    // Redis down: the cache is skipped and the read group's policy decides (open by default:
    // the chain answers; closed: 503).
    let mut closed_overrides = overrides.clone();
    closed_overrides.push(("RATE_LIMIT_ON_REDIS_ERROR", "read=closed"));
    let closed = App::spawn(runtime, &stack, &closed_overrides).await;
    stack.kill_redis();
    let open = app
        .send(Method::GET, &quote_path(&uni, "4242"), None, None, &[])
        .await;
    assert_eq!(
        (open.status, open.body["source"].as_str()),
        (200, Some("chain")),
        "{}",
        open.body
    );
    let refused = closed
        .send(Method::GET, &quote_path(&uni, "4242"), None, None, &[])
        .await;
    refused.assert_error(503, "REDIS_UNAVAILABLE", None);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_swap_batches_cost_one_call() {
    batches_cost_one_call(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_swap_batches_cost_one_call() {
    batches_cost_one_call(Runtime::Wasmtime).await;
}
