//! Issue 11: every outbound call has a deadline. With a dependency that accepts requests and
//! never answers (the fault proxy holds them for a minute), a request costs about
//! `DEPENDENCY_TIMEOUT_MS` and gets 503 with that dependency's code, on both runtimes; `/health`
//! touches no dependency, so it answers whatever hangs.

use e2e::proxy::{Mode, Proxy};
use e2e::{App, Reply, Runtime, Stack};
use reqwest::Method;
use std::future::Future;
use std::time::{Duration, Instant};

const TIMEOUT_MS: &str = "500";
/// How long the proxy holds a request: far beyond the deadline and the client's own timeout.
const HANG: Duration = Duration::from_secs(60);
/// An answer within this (far above the deadline, below the client's 20 s timeout) shows the
/// deadline fired rather than the dependency answering.
const ANSWERED_WITHIN: Duration = Duration::from_secs(10);

async fn timed<T>(request: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = request.await;
    (out, started.elapsed())
}

async fn get(app: &App, path: &str) -> (Reply, Duration) {
    timed(app.send(Method::GET, path, None, None, &[])).await
}

async fn hung_dependencies_answer_503_in_time(runtime: Runtime) {
    let stack = Stack::start().await;
    let redis = Proxy::start(&stack.upstash_url).await;
    let libsql = Proxy::start(&stack.libsql_url).await;
    let rpc = Proxy::start(&stack.rpc_url).await;
    let app = App::spawn(
        runtime,
        &stack,
        &[
            ("UPSTASH_REDIS_REST_URL", redis.url.as_str()),
            ("LIBSQL_URL", libsql.url.as_str()),
            ("RPC_URL", rpc.url.as_str()),
            ("DEPENDENCY_TIMEOUT_MS", TIMEOUT_MS),
            ("READY_CACHE_MS", "1000"),
        ],
    )
    .await;

    // libSQL hangs: a catalog read (Redis, which caches it, answers) gives up on it.
    libsql.set(Mode::Delay(HANG));
    let (reply, took) = get(&app, "/v1/events").await;
    reply.assert_error(503, "LIBSQL_UNAVAILABLE", None);
    assert!(took < ANSWERED_WITHIN, "{runtime:?} took {took:?}");
    libsql.set(Mode::Pass);
    assert_eq!(get(&app, "/v1/events").await.0.status, 200);

    // Redis hangs: the metrics, which live there, give up on it; liveness never asks.
    redis.set(Mode::Delay(HANG));
    let (health, took) = get(&app, "/health").await;
    assert_eq!(health.status, 200);
    assert!(took < ANSWERED_WITHIN, "{runtime:?} /health took {took:?}");
    let (reply, took) = get(&app, "/metrics").await;
    reply.assert_error(503, "REDIS_UNAVAILABLE", None);
    assert!(took < ANSWERED_WITHIN, "{runtime:?} took {took:?}");
    redis.set(Mode::Pass);

    // The chain node hangs: readiness names it, and only it.
    rpc.set(Mode::Delay(HANG));
    let (ready, took) = get(&app, "/ready").await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(
        ready.body["down"],
        serde_json::json!(["rpc"]),
        "{}",
        ready.body
    );
    assert!(took < ANSWERED_WITHIN, "{runtime:?} took {took:?}");
    rpc.set(Mode::Pass);
    // The 503 verdict stands for READY_CACHE_MS (1 s here), then the recovery shows.
    let mut status = 0;
    for _ in 0..50 {
        status = get(&app, "/ready").await.0.status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_hung_dependencies_answer_503_in_time() {
    hung_dependencies_answer_503_in_time(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_hung_dependencies_answer_503_in_time() {
    hung_dependencies_answer_503_in_time(Runtime::Wasmtime).await;
}
