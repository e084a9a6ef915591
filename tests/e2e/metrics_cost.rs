//! Issue 11: what the HTTP metrics cost on Redis, counted by the local Upstash front. `/health`
//! never calls Redis. On workerd an isolate serves many requests, so samples wait in memory
//! until a flush is due; the Spin shell declares an instance per request, so each request's
//! sample goes out after its response as one `EVALSHA`: one request, one billed command. A
//! scrape flushes its own instance and reads the 16 shards, the indexer and the check-in hash
//! in one pipeline.

use e2e::cost::settled;
use e2e::{App, Costs, Runtime, Stack};

async fn metrics_cost_what_the_host_allows(runtime: Runtime) {
    let stack = Stack::start().await;
    // A long flush interval keeps a slow run from making the workerd aggregate due by age.
    let app = App::spawn(runtime, &stack, &[("METRICS_FLUSH_SECS", "600")]).await;
    // The first flush into a fresh Redis finds no script (NOSCRIPT) and sends it by EVAL: one
    // more round trip, once. A first scrape gets that out of the way on both hosts.
    assert_eq!(app.get("/metrics").await.status(), 200);
    let before = settled(&stack).await;

    for _ in 0..5 {
        assert_eq!(app.get("/health").await.status(), 200);
    }
    let spent = settled(&stack).await - before;
    assert_eq!(spent, Costs::default(), "{runtime:?}: /health called out");

    let before = settled(&stack).await;
    for _ in 0..5 {
        // An unmatched route: the handler itself touches nothing, only the metrics can.
        assert_eq!(app.get("/v1/nope").await.status(), 404);
    }
    let spent = settled(&stack).await - before;
    let (requests, commands) = match runtime {
        Runtime::Workerd => (0, 0),
        Runtime::Wasmtime => (5, 5),
    };
    assert_eq!(
        (spent.redis_requests, spent.redis_commands),
        (requests, commands),
        "{runtime:?}: {spent:?}"
    );

    let before = settled(&stack).await;
    let text = app.get("/metrics").await.text().await.expect("text");
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 5"#),
        "{text}"
    );
    let spent = settled(&stack).await - before;
    // workerd: the scrape's pipeline carries this isolate's pending flush (1 + 16 + 2
    // commands); its own sample waits. Spin: nothing pending to carry (18 commands), then the
    // scrape's own sample goes out after its response.
    let expected = match runtime {
        Runtime::Workerd => (1, 19),
        Runtime::Wasmtime => (2, 19),
    };
    assert_eq!(
        (spent.redis_requests, spent.redis_commands),
        expected,
        "{runtime:?}: {spent:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_metrics_cost_what_the_host_allows() {
    metrics_cost_what_the_host_allows(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_metrics_cost_what_the_host_allows() {
    metrics_cost_what_the_host_allows(Runtime::Wasmtime).await;
}
