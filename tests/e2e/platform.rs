//! `/health`, `/ready`, `/metrics`, `/openapi.json` and the error bodies, on both runtimes.

use e2e::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

async fn json(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON body")
}

/// Polls `/metrics` until `series` shows `expected` (a scrape flushes its own instance's
/// samples, but on wasmtime every request flushes after its response, so it may lag).
async fn metric_value(app: &App, series: &str, expected: u64) -> Option<u64> {
    let mut last = None;
    for _ in 0..50 {
        let text = app
            .get("/metrics")
            .await
            .text()
            .await
            .expect("metrics text");
        last = text
            .lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse::<u64>().ok());
        if last == Some(expected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

async fn serves_the_platform_routes(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[]).await;

    let health = app.get("/health").await;
    assert_eq!(health.status(), 200);
    assert!(health.headers().get("x-request-id").is_some());
    assert_eq!(json(health).await["status"], "ok");

    let ready = app.get("/ready").await;
    assert_eq!(ready.status(), 200);
    let ready = json(ready).await;
    assert_eq!(ready["status"], "ready");
    for dependency in ["redis", "libsql", "rpc"] {
        assert_eq!(
            ready["checks"][dependency]["status"], "up",
            "{dependency}: {ready}"
        );
    }
    assert_eq!(ready["checks"]["rpc"]["detail"]["chainId"], 31337);

    let missing = app.get("/v1/nope").await;
    assert_eq!(missing.status(), 404);
    let header_id = missing.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let missing = json(missing).await;
    assert_eq!(missing["error_code"], "ROUTE_NOT_FOUND");
    assert_eq!(missing["request_id"], header_id.as_str());
    assert!(
        missing["message"]
            .as_str()
            .is_some_and(|m| m.contains("/v1/nope"))
    );

    let wrong_method = app
        .request(Method::POST, "/health")
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(wrong_method.headers()["allow"], "GET, HEAD");
    assert_eq!(json(wrong_method).await["error_code"], "METHOD_NOT_ALLOWED");

    let traced = app
        .request(Method::GET, "/health")
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .expect("sent");
    assert_eq!(traced.headers()["x-request-id"], "trace-abc-123");

    let openapi = app.get("/openapi.json").await;
    assert_eq!(openapi.status(), 200);
    let openapi = json(openapi).await;
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/ready"]["get"].is_object());

    // Exact counts: this app has its own Redis key prefix.
    let not_found = r#"http_requests_total{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(metric_value(&app, not_found, 1).await, Some(1));
    let ready_count = r#"http_request_duration_seconds_count{method="GET",route="/ready"}"#;
    assert_eq!(metric_value(&app, ready_count, 1).await, Some(1));
    let text = app.get("/metrics").await;
    assert!(
        text.headers()["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("text/plain"))
    );
    let text = text.text().await.expect("text");
    assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
    // `/health` (any method) never calls Redis. On workerd the isolate keeps its samples for
    // the next flush: three successful calls (the harness's start-up probe and the two above)
    // and the 405. The Spin shell declares an instance per request, where a `/health` sample
    // could not be flushed, so it is not counted.
    let health_ok = r#"http_requests_total{method="GET",route="/health",status="200"}"#;
    let not_allowed = r#"http_requests_total{method="POST",route="/health",status="405"}"#;
    let health_inf =
        r#"http_request_duration_seconds_bucket{method="GET",route="/health",le="+Inf"} 3"#;
    match app.runtime {
        Runtime::Workerd => {
            assert!(text.contains(&format!("{health_ok} 3\n")), "{text}");
            assert!(text.contains(&format!("{not_allowed} 1\n")), "{text}");
            assert!(text.contains(health_inf), "{text}");
        }
        Runtime::Wasmtime => {
            assert!(!text.contains(health_ok), "{text}");
            assert!(!text.contains(not_allowed), "{text}");
        }
    }
}

async fn ready_names_redis_when_it_is_down(runtime: Runtime) {
    let mut stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[]).await;
    stack.kill_redis();

    let ready = app.get("/ready").await;
    assert_eq!(ready.status(), 503);
    let ready = json(ready).await;
    assert_eq!(ready["error_code"], "DEPENDENCY_DOWN");
    assert_eq!(ready["down"], serde_json::json!(["redis"]));
    assert_eq!(ready["checks"]["redis"]["status"], "down");
    assert_eq!(ready["checks"]["libsql"]["status"], "up");
    assert_eq!(ready["checks"]["rpc"]["status"], "up");
    assert!(
        ready["message"]
            .as_str()
            .is_some_and(|m| m.contains("redis"))
    );

    // Liveness does not depend on Redis; metrics, which live in Redis, say so.
    assert_eq!(app.get("/health").await.status(), 200);
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), 503);
    assert_eq!(json(metrics).await["error_code"], "REDIS_UNAVAILABLE");
}

async fn a_misconfigured_deployment_explains_itself(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(
        runtime,
        &stack,
        &[("JWT_SECRET", "short"), ("CHAIN_ID", "")],
    )
    .await;
    assert_eq!(app.get("/health").await.status(), 200);
    let ready = app.get("/ready").await;
    assert_eq!(ready.status(), 503);
    let body = json(ready).await;
    assert_eq!(body["error_code"], "CONFIG_INVALID");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("CHAIN_ID is missing") && message.contains("JWT_SECRET"),
        "{message}"
    );
    assert!(
        !message.contains("short"),
        "secret values must not be echoed"
    );
}

/// Off a loopback `PUBLIC_URL` the signing secrets must be set, each its own (issue 12
/// item 8): derived from `JWT_SECRET` they would fall with it.
async fn a_public_deployment_needs_its_own_signing_secrets(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(
        runtime,
        &stack,
        &[
            ("PUBLIC_URL", "https://tickets.example.com"),
            ("CRON_SECRET", "too-short"),
            // The harness sets it for every app: unset it here (empty removes a variable).
            ("ADMISSION_SECRET", ""),
        ],
    )
    .await;
    let events = app.get("/v1/events").await;
    assert_eq!(events.status(), 503);
    let body = json(events).await;
    assert_eq!(body["error_code"], "CONFIG_INVALID");
    let message = body["message"].as_str().unwrap_or_default();
    for key in [
        "QR_SECRETS",
        "PASS_KEY_SEED",
        "ADMISSION_SECRET",
        "CRON_SECRET",
    ] {
        assert!(message.contains(key), "{key}: {message}");
    }
    assert!(message.contains("not a loopback address"), "{message}");
    assert!(
        !message.contains("too-short"),
        "secret values must not be echoed"
    );

    let secrets = [
        ("PUBLIC_URL", "https://tickets.example.com"),
        ("QR_SECRETS", "k1:qr-secret-qr-secret-qr-secret-qr-secret"),
        ("PASS_KEY_SEED", "pass-seed-pass-seed-pass-seed-pass-seed"),
        (
            "ADMISSION_SECRET",
            "admission-admission-admission-admission",
        ),
    ];
    let configured = App::spawn(runtime, &stack, &secrets).await;
    assert_eq!(configured.get("/v1/events").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_a_public_deployment_needs_its_own_signing_secrets() {
    a_public_deployment_needs_its_own_signing_secrets(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_a_public_deployment_needs_its_own_signing_secrets() {
    a_public_deployment_needs_its_own_signing_secrets(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_serves_the_platform_routes() {
    serves_the_platform_routes(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_serves_the_platform_routes() {
    serves_the_platform_routes(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_ready_names_redis_when_it_is_down() {
    ready_names_redis_when_it_is_down(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_ready_names_redis_when_it_is_down() {
    ready_names_redis_when_it_is_down(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_misconfigured_deployment_explains_itself() {
    a_misconfigured_deployment_explains_itself(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_misconfigured_deployment_explains_itself() {
    a_misconfigured_deployment_explains_itself(Runtime::Wasmtime).await;
}
