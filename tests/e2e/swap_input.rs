//! Swap-quote input errors on both runtimes: each bad field is a 400 naming it, before any
//! store or chain call; a deployment without `SWAP_FACTORY` says so.

use e2e::swap::Uniswap;
use e2e::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::json;

async fn refuses_bad_input(runtime: Runtime) {
    let stack = Stack::start().await;
    let uni = Uniswap::deploy(&stack.rpc_url).await;
    let overrides = uni.overrides();
    let app = App::spawn(runtime, &stack, &overrides).await;
    let (a, b) = (uni.token("A").to_string(), uni.token("B").to_string());
    let max = "5192296858534827628530496329220095"; // 2^112 - 1
    let cases = [
        (format!("tokenIn={a}&tokenOut={a}&amountIn=1"), "tokenOut"),
        (format!("tokenIn=0x12&tokenOut={b}&amountIn=1"), "tokenIn"),
        (format!("tokenIn={a}&amountIn=1"), "tokenOut"),
        (format!("tokenIn={a}&tokenOut={b}&amountIn=0"), "amountIn"),
        (format!("tokenIn={a}&tokenOut={b}&amountIn=-5"), "amountIn"),
        (format!("tokenIn={a}&tokenOut={b}&amountIn=1.5"), "amountIn"),
        (
            format!("tokenIn={a}&tokenOut={b}&amountIn={max}6"),
            "amountIn",
        ),
        (
            format!("tokenIn={a}&tokenOut={b}&amountOut=1{}", "0".repeat(80)),
            "amountOut",
        ),
        (
            format!("tokenIn={a}&tokenOut={b}&amountIn=1&amountOut=1"),
            "amountOut",
        ),
        (format!("tokenIn={a}&tokenOut={b}"), "amountIn"),
        (
            format!("tokenIn={a}&tokenOut={b}&amountIn=1&slippageBps=5001"),
            "slippageBps",
        ),
        (
            format!("tokenIn={a}&tokenOut={b}&amountIn=1&slippageBps=-1"),
            "slippageBps",
        ),
    ];
    for (query, field) in &cases {
        let reply = app
            .send(
                Method::GET,
                &format!("/v1/swap/quote?{query}"),
                None,
                None,
                &[],
            )
            .await;
        reply.assert_error(400, "VALIDATION_FAILED", Some(field));
    }
    // The largest amount a pair can hold is accepted (and is more than the pool holds).
    let reply = app
        .send(
            Method::GET,
            &format!("/v1/swap/quote?tokenIn={a}&tokenOut={b}&amountOut={max}"),
            None,
            None,
            &[],
        )
        .await;
    reply.assert_error(422, "INSUFFICIENT_LIQUIDITY", None);

    let item = json!({"tokenIn": a, "tokenOut": b, "amountIn": "1"});
    let too_many = json!({"quotes": vec![item.clone(); 51]});
    let reply = app
        .send(Method::POST, "/v1/swap/quotes", None, Some(too_many), &[])
        .await;
    reply.assert_error(400, "VALIDATION_FAILED", Some("quotes"));
    let bad_item = json!({"quotes": [item, {"tokenIn": a, "tokenOut": b, "amountIn": -3}]});
    let reply = app
        .send(Method::POST, "/v1/swap/quotes", None, Some(bad_item), &[])
        .await;
    reply.assert_error(400, "VALIDATION_FAILED", Some("quotes[1].amountIn"));
    let reply = app
        .send(
            Method::POST,
            "/v1/swap/quotes",
            None,
            Some(json!({"quotes": []})),
            &[],
        )
        .await;
    reply.assert_error(400, "VALIDATION_FAILED", Some("quotes"));
    let reply = app
        .send(
            Method::GET,
            &format!("/v1/swap/pairs?tokens={a}"),
            None,
            None,
            &[],
        )
        .await;
    reply.assert_error(400, "VALIDATION_FAILED", Some("tokens"));
    let reply = app
        .send(
            Method::GET,
            &format!("/v1/swap/pairs?tokens={a},{a}"),
            None,
            None,
            &[],
        )
        .await;
    reply.assert_error(400, "VALIDATION_FAILED", Some("tokens[1]"));

    let off = App::spawn(runtime, &stack, &[]).await;
    let reply = off
        .send(
            Method::GET,
            &format!("/v1/swap/quote?tokenIn={a}&tokenOut={b}&amountIn=1"),
            None,
            None,
            &[],
        )
        .await;
    reply.assert_error(503, "SWAP_DISABLED", None);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_swap_refuses_bad_input() {
    refuses_bad_input(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_swap_refuses_bad_input() {
    refuses_bad_input(Runtime::Wasmtime).await;
}
