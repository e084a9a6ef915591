//! The scheduled function: Workers' cron trigger on workerd, the authenticated HTTP trigger on
//! Spin; both write the indexer heartbeat to libSQL.

use e2e::{App, Runtime, Stack};
use reqwest::Method;
use shared::ports::Sql;
use shared::sql::Statement;
use std::time::Duration;

async fn heartbeat(stack: &Stack) -> Option<(i64, String)> {
    let rows = stack
        .sql()
        .execute(Statement::new(
            "SELECT runs, last_trigger FROM cron_heartbeats WHERE job = 'indexer'",
        ))
        .await
        .expect("query");
    let row = rows.row(0)?;
    Some((
        row.get("runs").expect("runs"),
        row.get("last_trigger").expect("trigger"),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_cron_trigger_writes_the_heartbeat() {
    let stack = Stack::start().await;
    let app = App::spawn(Runtime::Workerd, &stack, &[]).await;
    assert_eq!(heartbeat(&stack).await, None);
    for _ in 0..2 {
        let response = app.trigger_cron().await;
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap_or_default()
        );
    }
    // The scheduled handler's result is awaited before the trigger answers; allow for slack.
    let mut seen = None;
    for _ in 0..30 {
        seen = heartbeat(&stack).await;
        if seen.as_ref().is_some_and(|(runs, _)| *runs == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, Some((2, "cron".to_owned())));
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_http_cron_trigger_writes_the_heartbeat_and_checks_the_secret() {
    let stack = Stack::start().await;
    let app = App::spawn(Runtime::Wasmtime, &stack, &[]).await;

    let anonymous = app
        .request(Method::POST, "/internal/cron/indexer")
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status(), 401);
    let wrong = app
        .request(Method::POST, "/internal/cron/indexer")
        .bearer_auth("not-the-secret")
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        heartbeat(&stack).await,
        None,
        "rejected triggers must not run the tick"
    );

    let ok = app.trigger_cron().await;
    assert_eq!(ok.status(), 200);
    let report: serde_json::Value = ok.json().await.expect("json");
    assert_eq!(report["trigger"], "http");
    assert_eq!(report["runs"], 1);
    assert_eq!(heartbeat(&stack).await, Some((1, "http".to_owned())));
}

#[tokio::test(flavor = "multi_thread")]
async fn http_cron_trigger_is_disabled_without_a_secret() {
    let stack = Stack::start().await;
    let app = App::spawn(Runtime::Wasmtime, &stack, &[("CRON_SECRET", "")]).await;
    let response = app
        .request(Method::POST, "/internal/cron/indexer")
        .bearer_auth("")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error_code"], "CRON_DISABLED");
}
