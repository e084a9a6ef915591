//! Structured logs on both runtimes: the release Wasm serves a real SIWE login (an ethers
//! signature), an authenticated read, a 404, a 400, 429s and the indexer's cron trigger; then
//! its log (`app.log`: Spin's stderr, Workers' console through Miniflare) must hold exactly one
//! JSON request line per request with the route template, status, error code, shortened wallet
//! and subrequest count, one line per step of the scheduled runs, and none of the deployment's
//! secrets, the tokens the test received, the signature it sent or the full wallet.

use e2e::chain::{DEV_ADDRESSES, DEV_KEYS, chain_cmd};
use e2e::wallet::signature;
use e2e::{ADMISSION_SECRET, App, CRON_SECRET, JWT_SECRET, Reply, Runtime, STRIPE_WEBHOOK_SECRET};
use e2e::{Stack, unique};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const QR_SECRET: &str = "logs-qr-secret-logs-qr-secret-0123456789";
const PASS_SEED: &str = "logs-pass-seed-logs-pass-seed-0123456789";
const METRICS_TOKEN: &str = "logs-metrics-token-0123456789abcdef";

/// One request the test sent, and what its log line must say.
struct Sent {
    id: String,
    route: &'static str,
    reply: Reply,
    wallet: Option<&'static str>,
}

/// Sends a request under a fresh `x-request-id` (the app reuses a plain one) so its line can
/// be found.
async fn send(
    app: &App,
    (method, path, route): (Method, &str, &'static str),
    token: Option<&str>,
    body: Option<Value>,
) -> Sent {
    let id: String = unique("logs")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let reply = app
        .send(method, path, token, body, &[("x-request-id", &id)])
        .await;
    Sent {
        id,
        route,
        reply,
        wallet: None,
    }
}

/// The app's JSON lines in `log`, waiting (up to 10 s) until `done` holds for them: Miniflare
/// forwards the Worker's console asynchronously.
async fn json_lines(
    log: &std::path::Path,
    done: impl Fn(&[Value]) -> bool,
) -> (String, Vec<Value>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .filter_map(|l| l.find("{\"ts\":").map(|at| &l[at..]))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        if done(&lines) || Instant::now() > deadline {
            return (text, lines);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn with_id<'a>(lines: &'a [Value], id: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["request_id"] == id).collect()
}

async fn logs_are_structured_and_hold_no_secret(runtime: Runtime) {
    let stack = Stack::start().await;
    let contracts = chain_cmd(&stack.rpc_url, "deploy", &[]).await;
    let addresses = ["ticket", "market", "vault"]
        .map(|c| contracts[c].as_str().expect("contract address").to_owned())
        .join(",");
    let start = contracts["deployBlock"].to_string();
    let qr = format!("k1:{QR_SECRET}");
    let app = App::spawn(
        runtime,
        &stack,
        &[
            ("INDEXER_CONTRACTS", &addresses),
            ("INDEXER_START_BLOCK", &start),
            ("QR_SECRETS", &qr),
            ("PASS_KEY_SEED", PASS_SEED),
            ("METRICS_TOKEN", METRICS_TOKEN),
            // Two reads in a burst, then 429s.
            ("RATE_LIMIT_READ", "0.01:2"),
        ],
    )
    .await;
    let (key, wallet) = (DEV_KEYS[0], DEV_ADDRESSES[0]);
    let mut sent = Vec::new();

    // A SIWE login with a real signature, then an authenticated request.
    let challenge = send(
        &app,
        (
            Method::POST,
            "/v1/auth/siwe/challenge",
            "/v1/auth/siwe/challenge",
        ),
        None,
        Some(json!({"address": wallet, "chainId": 31337})),
    )
    .await;
    assert_eq!(challenge.reply.status, 200, "{}", challenge.reply.body);
    let message = challenge.reply.body["message"]
        .as_str()
        .expect("message")
        .to_owned();
    sent.push(challenge);
    let signed = signature(key, &message).await;
    let verify = (Method::POST, "/v1/auth/siwe/verify", "/v1/auth/siwe/verify");
    let login = send(
        &app,
        verify,
        None,
        Some(json!({"message": message, "signature": signed})),
    )
    .await;
    assert_eq!(login.reply.status, 200, "{}", login.reply.body);
    let access = login.reply.body["accessToken"]
        .as_str()
        .expect("access")
        .to_owned();
    let refresh = login.reply.body["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    sent.push(login);
    let mut me = send(
        &app,
        (Method::GET, "/v1/auth/me", "/v1/auth/me"),
        Some(&access),
        None,
    )
    .await;
    assert_eq!(me.reply.status, 200, "{}", me.reply.body);
    me.wallet = Some("0xf39F…2266");
    sent.push(me);
    let forged = format!("{access}x");
    let me_route = (Method::GET, "/v1/auth/me", "/v1/auth/me");
    sent.push(send(&app, me_route, Some(&forged), None).await);

    // A 404 (no route), a 400 (invalid input), and the read limiter's 429s.
    sent.push(
        send(
            &app,
            (Method::GET, "/v1/no-such-route", "unmatched"),
            None,
            None,
        )
        .await,
    );
    let challenge = (
        Method::POST,
        "/v1/auth/siwe/challenge",
        "/v1/auth/siwe/challenge",
    );
    sent.push(
        send(
            &app,
            challenge,
            None,
            Some(json!({"address": "nope", "chainId": 31337})),
        )
        .await,
    );
    // Keyed on the wallet: the local runtimes see no client address.
    for _ in 0..4 {
        let events = (Method::GET, "/v1/events", "/v1/events");
        let mut read = send(&app, events, Some(&access), None).await;
        read.wallet = Some("0xf39F…2266");
        sent.push(read);
    }
    let statuses: Vec<u16> = sent.iter().map(|s| s.reply.status).collect();
    for status in [401, 404, 400, 429] {
        assert!(
            statuses.contains(&status),
            "{runtime:?}: no {status} in {statuses:?}"
        );
    }

    // The HTTP cron route: its steps log under its request id.
    let cron_id = format!("logs-cron-{}", statuses.len());
    let cron = app
        .request(Method::POST, "/internal/cron/indexer")
        .bearer_auth(CRON_SECRET)
        .header("x-request-id", &cron_id)
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .expect("cron sent");
    let cron_status = cron.status().as_u16();
    assert_eq!(
        cron_status,
        200,
        "{}",
        cron.text().await.unwrap_or_default()
    );
    let (text, lines) = json_lines(&app.log, |lines| {
        sent.iter().all(|s| !with_id(lines, &s.id).is_empty())
            && with_id(lines, &cron_id)
                .iter()
                .any(|l| l["msg"] == "request")
    })
    .await;
    let where_ = format!("{runtime:?}: see {}", app.log.display());

    for s in &sent {
        let mine = with_id(&lines, &s.id);
        let requests: Vec<_> = mine.iter().filter(|l| l["msg"] == "request").collect();
        assert_eq!(
            requests.len(),
            1,
            "{where_}: {} lines for {}",
            requests.len(),
            s.id
        );
        let line = requests[0];
        assert!(
            line["ts"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{where_}: {line}"
        );
        assert_eq!(line["level"], "info", "{where_}: {line}");
        assert_eq!(line["route"], s.route, "{where_}: {line}");
        assert_eq!(line["status"], s.reply.status, "{where_}: {line}");
        assert!(line["duration_ms"].is_u64(), "{where_}: {line}");
        assert!(line["subrequests"].is_u64(), "{where_}: {line}");
        let code = &s.reply.body["error_code"];
        assert_eq!(
            line.get("error_code").unwrap_or(&Value::Null),
            code,
            "{where_}: {line}"
        );
        let logged = line.get("wallet").and_then(Value::as_str);
        assert_eq!(logged, s.wallet, "{where_}: {line}");
    }
    // Counted: no route costs nothing; a login and an authenticated read reach Redis/libSQL.
    let count = |i: usize| with_id(&lines, &sent[i].id)[0]["subrequests"].as_u64();
    assert_eq!(count(4), Some(0), "{where_}: 404");
    assert!(
        count(1) >= Some(1) && count(2) >= Some(1),
        "{where_}: login, me"
    );

    let cron_lines = with_id(&lines, &cron_id);
    check_steps(&cron_lines, &where_);
    let request = cron_lines
        .iter()
        .find(|l| l["msg"] == "request")
        .expect("cron request line");
    assert_eq!(request["route"], "/internal/cron/indexer", "{where_}");
    assert_eq!(request["status"], cron_status, "{where_}");

    let secrets = [
        ("JWT_SECRET", JWT_SECRET),
        ("ADMISSION_SECRET", ADMISSION_SECRET),
        ("CRON_SECRET", CRON_SECRET),
        ("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET),
        ("UPSTASH_REDIS_REST_TOKEN", stack.tokens().0),
        ("LIBSQL_AUTH_TOKEN", stack.tokens().1),
        ("QR_SECRETS", QR_SECRET),
        ("PASS_KEY_SEED", PASS_SEED),
        ("METRICS_TOKEN", METRICS_TOKEN),
        ("access token", &access),
        ("refresh token", &refresh),
        ("signature", &signed),
        ("wallet", wallet),
        ("wallet (lower case)", &wallet.to_lowercase()),
    ];
    for (name, secret) in secrets {
        assert!(!text.contains(secret), "{where_}: the log holds the {name}");
    }
}

/// One run's step lines: the indexer's steps and tick, and each upkeep step.
fn check_steps(lines: &[&Value], where_: &str) {
    let steps: Vec<_> = lines
        .iter()
        .filter(|l| l["msg"] == "indexer step")
        .collect();
    // A batch indexed, or the chain already indexed (the second run): a step either way.
    assert!(!steps.is_empty(), "{where_}: no indexer step line");
    for step in &steps {
        let named = ["advanced", "nothing_new", "rolled_back", "retry"]
            .iter()
            .any(|n| step["step"] == *n);
        assert!(named && step["duration_ms"].is_u64(), "{where_}: {step}");
    }
    let tick: Vec<_> = lines
        .iter()
        .filter(|l| l["msg"] == "indexer tick")
        .collect();
    assert_eq!(tick.len(), 1, "{where_}: {tick:?}");
    assert_eq!(tick[0]["outcome"], "ok", "{where_}");
    let upkeep: Vec<_> = lines
        .iter()
        .filter(|l| l["msg"] == "upkeep step")
        .map(|l| {
            (
                l["step"].as_str().unwrap_or_default(),
                l["level"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        upkeep,
        ["deposits", "expiry", "reconcile", "scan audit drain"].map(|s| (s, "info")),
        "{where_}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_logs_are_structured_and_hold_no_secret() {
    logs_are_structured_and_hold_no_secret(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_logs_are_structured_and_hold_no_secret() {
    logs_are_structured_and_hold_no_secret(Runtime::Wasmtime).await;
}
