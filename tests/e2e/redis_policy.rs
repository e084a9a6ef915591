//! What the API does when Redis cannot be asked on paths that could go on without it, and
//! the two operator endpoints that must not be an open door: `/metrics` behind
//! `METRICS_TOKEN`, and `/ready` reusing its verdict for `READY_CACHE_MS` (issue 12 item 5).
//! On both runtimes.

use e2e::proxy::{Mode, Proxy};
use e2e::{App, Runtime, Stack};
use serde_json::Value;
use std::time::Duration;

const METRICS_TOKEN: &str = "metrics-token-metrics-token-metrics";

/// `GET /v1/events` from a client with an address (wasmtime reads it from the proxy's
/// `X-Forwarded-For`; without one a request has no IP bucket and never asks Redis).
async fn list_events(app: &App) -> reqwest::Response {
    app.request(reqwest::Method::GET, "/v1/events")
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .expect("sent")
}

async fn status_and_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn redis_errors_follow_the_group_policy(runtime: Runtime) {
    let stack = Stack::start().await;
    let proxy = Proxy::start(&stack.upstash_url).await;
    let redis = [
        ("UPSTASH_REDIS_REST_URL", proxy.url.as_str()),
        ("METRICS_TOKEN", METRICS_TOKEN),
    ];
    let open = App::spawn(runtime, &stack, &redis).await;
    let mut closing = redis.to_vec();
    closing.push(("RATE_LIMIT_ON_REDIS_ERROR", "read=closed"));
    let closed = App::spawn(runtime, &stack, &closing).await;
    assert_eq!(list_events(&open).await.status(), 200);

    proxy.set(Mode::Down);
    // `read` fails open by default: the catalog lives in libSQL and keeps answering.
    let (status, body) = status_and_body(list_events(&open).await).await;
    assert_eq!(status, 200, "{body}");
    // A deployment that wants reads limited or nothing refuses them instead.
    let (status, body) = status_and_body(list_events(&closed).await).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error_code"], "REDIS_UNAVAILABLE");
    proxy.set(Mode::Pass);

    // Never swallowed: both runtimes log it; an instance that outlives the request (workerd)
    // also counts it into `/metrics` with its next flush.
    for (app, decision) in [(&open, "let through"), (&closed, "refused")] {
        let log = std::fs::read_to_string(&app.log).unwrap_or_default();
        assert!(
            log.contains("redis error on rate_limit (read)") && log.contains(decision),
            "{runtime:?}: {}",
            app.log.display()
        );
    }
    let unauthorized = open.get("/metrics").await;
    let (status, body) = status_and_body(unauthorized).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_code"], "METRICS_UNAUTHORIZED");
    let wrong = open
        .request(reqwest::Method::GET, "/metrics")
        .bearer_auth("metrics-token-but-not-the-right-one")
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong.status(), 401);
    if runtime == Runtime::Workerd {
        let series = r#"redis_errors_total{path="rate_limit",group="read",decision="open"} 1"#;
        let mut text = String::new();
        for _ in 0..30 {
            let scrape = open
                .request(reqwest::Method::GET, "/metrics")
                .bearer_auth(METRICS_TOKEN)
                .send()
                .await
                .expect("sent");
            assert_eq!(scrape.status(), 200);
            text = scrape.text().await.expect("text");
            if text.contains(series) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(text.contains(series), "{text}");
    }
}

async fn ready_reuses_its_verdict(runtime: Runtime) {
    let stack = Stack::start().await;
    let rpc = Proxy::start(&stack.rpc_url).await;
    let app = App::spawn(
        runtime,
        &stack,
        &[("READY_CACHE_MS", "5000"), ("RPC_URL", rpc.url.as_str())],
    )
    .await;
    stack.reset_stats().await;
    let first: Value = app.get("/ready").await.json().await.expect("json");
    assert_eq!(first["status"], "ready", "{first}");
    // The chain node goes down: inside the window the verdict stands, nobody asks again.
    rpc.set(Mode::Down);
    for _ in 0..20 {
        let ready = app.get("/ready").await;
        assert_eq!(ready.status(), 200);
        let body: Value = ready.json().await.expect("json");
        assert_eq!(body["checkedAt"], first["checkedAt"]);
    }
    let spent = stack.stats().await;
    // 21 readiness probes asked libSQL once (before: one `SELECT 1` each).
    assert_eq!(spent.sql_statements, 1, "{runtime:?}: {spent:?}");
    // Redis: a GET, the first check's PING (and the indexer's hash) and the stored verdict;
    // then workerd answers from memory, while wasmtime's per-request instances each GET the
    // verdict and flush their metrics sample.
    let most = match runtime {
        Runtime::Workerd => 5,
        Runtime::Wasmtime => 5 + 2 * 21,
    };
    assert!(spent.redis_commands <= most, "{runtime:?}: {spent:?}");
    // After the window the outage shows.
    let mut status = 200;
    for _ in 0..80 {
        status = app.get("/ready").await.status().as_u16();
        if status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 503);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_redis_errors_follow_the_group_policy() {
    redis_errors_follow_the_group_policy(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_redis_errors_follow_the_group_policy() {
    redis_errors_follow_the_group_policy(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_ready_reuses_its_verdict() {
    ready_reuses_its_verdict(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_ready_reuses_its_verdict() {
    ready_reuses_its_verdict(Runtime::Wasmtime).await;
}
