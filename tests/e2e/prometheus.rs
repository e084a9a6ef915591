//! Issue 16 §4–5: the alert rules and the Grafana dashboard, proven by `promtool` and by a
//! real Prometheus scraping the release builds on workerd AND wasmtime after real traffic (a
//! sale paid by card, a scan and its duplicate, a 404, `/ready` before the first index, an
//! indexer tick). Every rule must load healthy and evaluate to series, and every vector
//! selector named by a rule or a panel must return series from BOTH runtimes: a rule or panel
//! naming a series the API does not export fails here.

use e2e::catalog::{EventSpec, publish_event, seat};
use e2e::chain::chain_cmd;
use e2e::door::{code_pair, verifier_key};
use e2e::payments::{buy_seats, now_ms};
use e2e::prometheus::{
    Prometheus, concrete, dashboard_file, label_values, measured, promtool, selectors,
};
use e2e::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const METRICS_TOKEN: &str = "e2e-metrics-token-0123456789abcdef0123";
const HOLDER: &str = "0x0000000000000000000000000000000000003001";
/// The scrape jobs, sorted as [`label_values`] answers them.
const JOBS: [&str; 2] = ["onlineticket-wasmtime", "onlineticket-workerd"];

#[test]
fn promtool_checks_and_unit_tests_the_rules() {
    let (ok, out) = promtool(&["check", "rules", "alerts.yml"]);
    assert!(ok && out.contains("SUCCESS"), "{out}");
    let (ok, out) = promtool(&["test", "rules", "alerts.test.yml"]);
    assert!(ok && out.contains("SUCCESS"), "{out}");
}

/// The dashboard imports: a Prometheus datasource input, and every panel placed on the grid
/// with PromQL targets on that datasource.
#[test]
fn the_dashboard_is_importable_grafana_json() {
    let dashboard = dashboard();
    assert_eq!(dashboard["__inputs"][0]["name"], "DS_PROMETHEUS");
    assert_eq!(dashboard["__inputs"][0]["pluginId"], "prometheus");
    assert!(dashboard["schemaVersion"].as_u64().unwrap_or(0) >= 30);
    assert!(dashboard["uid"].is_string() && dashboard["title"].is_string());
    let panels = dashboard["panels"].as_array().expect("panels");
    for panel in panels {
        let grid = &panel["gridPos"];
        for field in ["h", "w", "x", "y"] {
            assert!(grid[field].is_u64(), "{}: gridPos.{field}", panel["title"]);
        }
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"]["uid"], "${DS_PROMETHEUS}");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for target in targets {
            assert!(target["expr"].as_str().is_some_and(|e| !e.is_empty()));
        }
    }
    assert!(targets(&dashboard).len() >= 20, "every area has panels");
}

fn dashboard() -> Value {
    let text = std::fs::read_to_string(dashboard_file()).expect("dashboard file");
    serde_json::from_str(&text).expect("dashboard JSON")
}

/// `(panel title, expr)` of every target.
fn targets(dashboard: &Value) -> Vec<(String, String)> {
    let panels = dashboard["panels"].as_array().cloned().unwrap_or_default();
    panels
        .iter()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_owned();
            let targets = p["targets"].as_array().cloned().unwrap_or_default();
            targets.into_iter().map(move |t| {
                (
                    title.clone(),
                    t["expr"].as_str().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect()
}

/// Traffic that makes every exported series exist on `app`: public reads, a 404, a sale paid
/// by card, a scan and a duplicate scan, then an indexer tick.
async fn drive(app: &App) {
    assert_eq!(app.get("/health").await.status(), 200);
    assert_eq!(app.get("/v1/events").await.status(), 200);
    assert_eq!(app.get("/v1/nope").await.status(), 404);
    let event = publish_event(
        app,
        &EventSpec {
            starts_at: now_ms() + 3_600_000,
            ..EventSpec::new(2, 0)
        },
    )
    .await;
    let key = verifier_key(app, &event.id, "doors").await;
    let bought = buy_seats(app, &event.id, HOLDER, &[seat(0)]).await;
    let (online, _) = code_pair(app, HOLDER, &bought.tickets[0]).await;
    for (device, expected) in [("dev-1", "ok"), ("dev-2", "already_redeemed")] {
        let nonce = format!("n{}", e2e::unique("scan").replace(['-', '.'], ""));
        let body = json!({"code": online, "gate": "Main", "deviceId": device,
                          "scannedAt": now_ms(), "nonce": nonce});
        let reply = app
            .send(
                Method::POST,
                "/v1/checkin/scan",
                None,
                Some(body),
                &[("x-verifier-key", &key)],
            )
            .await;
        assert_eq!(reply.body["result"], expected, "{}", reply.body);
    }
    // The authenticated HTTP trigger (both runtimes serve it) answers the tick's report.
    let tick = app.trigger_cron_http().await;
    let status = tick.status();
    let report = tick.text().await.unwrap_or_default();
    assert!(status.is_success(), "cron tick {status}: {report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_prometheus_evaluates_every_rule_and_panel_on_both_runtimes() {
    let stack = Stack::start().await;
    let contracts = chain_cmd(&stack.rpc_url, "deploy", &[]).await;
    // The ticket contract alone is enough for the indexer's series.
    let addresses = contracts["ticket"].as_str().expect("address").to_owned();
    let start = contracts["deployBlock"].to_string();
    let env = [
        ("INDEXER_CONTRACTS", addresses.as_str()),
        ("INDEXER_START_BLOCK", start.as_str()),
        ("METRICS_TOKEN", METRICS_TOKEN),
        // Every request flushes its sample: the scrape sees the traffic at once.
        ("METRICS_FLUSH_SECS", "0"),
        ("RATE_LIMIT_WRITE", "100000:100000"),
        ("QR_SECRETS", "k1:door-secret-door-secret-door-secret-01"),
        ("PASS_KEY_SEED", "pass-seed-pass-seed-pass-seed-0123456789"),
    ];
    let workerd = App::spawn(Runtime::Workerd, &stack, &env).await;
    let wasmtime = App::spawn(Runtime::Wasmtime, &stack, &env).await;
    let prometheus = Prometheus::start(
        &[
            (JOBS[1], workerd.base_url.as_str()),
            (JOBS[0], wasmtime.base_url.as_str()),
        ],
        METRICS_TOKEN,
    )
    .await;
    // Before anything is indexed /ready answers 503 ("no block indexed yet"): the 5xx and the
    // dependency-down series. Then the ticks run one after the other: both apps index into
    // the one libSQL database.
    for app in [&workerd, &wasmtime] {
        assert_eq!(app.get("/ready").await.status(), 503, "{:?}", app.runtime);
    }
    drive(&workerd).await;
    drive(&wasmtime).await;

    let within = Duration::from_secs(60);
    // Both targets scraped with the bearer token.
    let up = jobs_with(&prometheus, "up == 1", within).await;
    assert_eq!(
        up,
        JOBS.map(String::from),
        "a target is down (see the prometheus log)"
    );

    // Every rule file group loaded, every rule evaluated healthy.
    let rules_text = std::fs::read_to_string(e2e::prometheus::rules_file()).expect("rules");
    let in_file = rules_text
        .lines()
        .filter(|l| {
            l.trim_start().starts_with("- record:") || l.trim_start().starts_with("- alert:")
        })
        .count();
    let deadline = std::time::Instant::now() + within;
    let rules = loop {
        let groups = prometheus.rule_groups().await;
        let rules: Vec<Value> = groups
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        let healthy = rules.iter().all(|r| r["health"] == "ok");
        if (healthy && rules.len() == in_file) || std::time::Instant::now() > deadline {
            let names: Vec<&str> = groups.iter().filter_map(|g| g["name"].as_str()).collect();
            assert_eq!(names, ["onlineticket"]);
            break rules;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(rules.len(), in_file, "every rule in alerts.yml loaded");
    for rule in &rules {
        assert_eq!(rule["health"], "ok", "{rule}");
    }

    // Each rule's measure returns series; each alert is `<measure> <op> <number>`.
    let mut exprs: Vec<(String, String)> = Vec::new();
    for rule in &rules {
        let name = rule["name"].as_str().unwrap_or_default().to_owned();
        let query = rule["query"].as_str().expect("query").to_owned();
        let measure = if rule["type"] == "alerting" {
            // The whole alert evaluates (healthy: usually to nothing) without error.
            prometheus
                .query(&query)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            measured(&query)
                .unwrap_or_else(|| panic!("{name}: not `<measure> <op> <number>`: {query}"))
                .to_owned()
        } else {
            query.clone()
        };
        exprs.push((format!("rule {name}"), measure));
    }
    for (title, expr) in targets(&dashboard()) {
        exprs.push((format!("panel {title}"), concrete(&expr)));
    }
    for (what, expr) in &exprs {
        let series = prometheus.query_until_series(expr, within).await;
        let series = series.unwrap_or_else(|e| panic!("{what}: {expr}: {e}"));
        assert!(!series.is_empty(), "{what}: {expr} returned no series");
        // Every series it names is exported by both runtimes.
        for selector in selectors(expr) {
            let jobs = jobs_with(&prometheus, &selector, within).await;
            assert_eq!(
                jobs,
                JOBS.map(String::from),
                "{what}: {selector} is not exported by both runtimes"
            );
        }
    }
    println!(
        "prometheus: {} rules and {} expressions evaluated",
        rules.len(),
        exprs.len()
    );
}

/// The jobs `selector` has series in, polled until both runtimes show or `within` passes.
async fn jobs_with(prometheus: &Prometheus, selector: &str, within: Duration) -> Vec<String> {
    let by_job = format!("count by (job) ({selector})");
    let deadline = std::time::Instant::now() + within;
    loop {
        let found = prometheus.query(&by_job).await;
        let jobs = label_values(&found.unwrap_or_else(|e| panic!("{by_job}: {e}")), "job");
        if jobs == JOBS.map(String::from) || std::time::Instant::now() > deadline {
            return jobs;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
