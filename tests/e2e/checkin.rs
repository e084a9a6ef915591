//! Tickets at the door on the release Wasm: holder codes, 500 concurrent scans of one ticket
//! (exactly one `ok`), libSQL still refusing after Redis is flushed, nonce replay, forged /
//! altered / expired / wrong-event / wrong-key / revoked codes, offline uploads from two
//! devices, the sync routes and the stats, Redis and libSQL faults; the scan's bill (a duplicate
//! at one Redis command, a first admission at one Redis + one Hrana round trip), an upload of
//! 500 offline scans in at most 20 subrequests and two devices uploading at once, a revoked
//! verifier key refused at once, buffered audit rows drained by the cron; and the scanner page
//! in headless Chromium.

use e2e::catalog::{EventSpec, ORGANIZER, PublishedEvent, publish_event, seat};
use e2e::door::{code_pair, codes, verifier_key};
use e2e::payments::{buy_seats, now_ms};
use e2e::proxy::{Mode, Proxy};
use e2e::{App, Costs, Reply, Runtime, Stack, root, run_node_tests};
use reqwest::Method;
use serde_json::{Value, json};
use shared::checkin::online::Keyring;
use shared::checkin::pass::{Pass, PassKeys};
use shared::domain::Role;
use std::collections::HashMap;

const QR_SECRET: &str = "k1:door-secret-door-secret-door-secret-01";
const PASS_SEED: &str = "pass-seed-pass-seed-pass-seed-0123456789";
const HOLDER: &str = "0x0000000000000000000000000000000000002001";
const OTHER: &str = "0x0000000000000000000000000000000000002002";

fn overrides(ttl: &str) -> Vec<(&'static str, String)> {
    vec![
        ("RATE_LIMIT_WRITE", "100000:100000".to_owned()),
        ("QR_SECRETS", QR_SECRET.to_owned()),
        ("PASS_KEY_SEED", PASS_SEED.to_owned()),
        ("QR_CODE_TTL_SECS", ttl.to_owned()),
    ]
}

async fn spawn(runtime: Runtime, stack: &Stack, ttl: &str) -> App {
    spawn_with(runtime, stack, ttl, Vec::new()).await
}

/// [`spawn`] with `extra` settings after the door's (a later entry wins).
async fn spawn_with(
    runtime: Runtime,
    stack: &Stack,
    ttl: &str,
    extra: Vec<(&'static str, String)>,
) -> App {
    let mut owned = overrides(ttl);
    owned.extend(extra);
    let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    App::spawn(runtime, stack, &pairs).await
}

/// An event that starts in an hour (so passes are valid now) with `seats` seats.
async fn door_event(app: &App, seats: usize) -> PublishedEvent {
    publish_event(
        app,
        &EventSpec {
            starts_at: now_ms() + 3_600_000,
            ..EventSpec::new(seats, 0)
        },
    )
    .await
}

/// The deployment's online-code keyring (`QR_SECRETS`), to sign codes as the app would.
fn qr_keyring() -> Keyring {
    Keyring::new(vec![(
        "k1".to_owned(),
        QR_SECRET
            .split_once(':')
            .expect("kid")
            .1
            .as_bytes()
            .to_vec(),
    )])
    .expect("keyring")
}

fn scan_body(code: &str, gate: &str, device: &str, at: i64, nonce: &str) -> Value {
    json!({"code": code, "gate": gate, "deviceId": device, "scannedAt": at, "nonce": nonce})
}

async fn scan(app: &App, key: &str, body: Value) -> Reply {
    app.send(
        Method::POST,
        "/v1/checkin/scan",
        None,
        Some(body),
        &[("x-verifier-key", key)],
    )
    .await
}

async fn scan_code(app: &App, key: &str, code: &str) -> Reply {
    let nonce = format!("n{}", e2e::unique("scan").replace(['-', '.'], ""));
    let reply = scan(app, key, scan_body(code, "Main", "dev-1", now_ms(), &nonce)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

/// An offline upload of `scans` with verifier key `key`: 200, the per-scan results.
async fn upload(app: &App, key: &str, scans: Vec<Value>) -> Vec<Value> {
    let reply = app
        .send(
            Method::POST,
            "/v1/checkin/upload",
            None,
            Some(json!({"scans": scans})),
            &[("x-verifier-key", key)],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["results"].as_array().expect("results").clone()
}

async fn scanner_get(app: &App, key: &str, path: &str) -> Reply {
    app.send(Method::GET, path, None, None, &[("x-verifier-key", key)])
        .await
}

async fn refund(app: &App, order_id: &str) {
    let organizer = app.token_for(ORGANIZER, Role::Organizer);
    let refunded = app
        .send(
            Method::POST,
            &format!("/v1/orders/{order_id}/refund"),
            Some(&organizer),
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!(refunded.status, 200, "{}", refunded.body);
}

async fn sql_count(stack: &Stack, sql: &str, arg: &str) -> i64 {
    use shared::ports::Sql as _;
    let rows = stack
        .sql()
        .execute(shared::sql::Statement::new(sql).bind(arg))
        .await
        .expect("query");
    rows.row(0).expect("row").get::<i64>("n").expect("n")
}

/// Runs `redis` commands on the stack's Redis.
/// `replayed` is the first answer to the same nonce, labelled as a replay (issue 13).
fn assert_replay(replayed: &Value, first: &Value) {
    assert_eq!(replayed["replayed"], true, "{replayed}");
    let mut unlabelled = replayed.clone();
    if let Some(fields) = unlabelled.as_object_mut() {
        fields.remove("replayed");
        fields.remove("answeredAt");
    }
    assert_eq!(&unlabelled, first);
}

async fn redis(stack: &Stack, command: shared::redis::Command) -> shared::redis::Value {
    shared::ports::Redis::exec(&stack.redis(), command)
        .await
        .expect("redis")
}

/// The one key matching `pattern` (each test's stack has one app, one key prefix).
async fn only_key(stack: &Stack, pattern: &str) -> String {
    match redis(stack, shared::redis::Command::new("KEYS").arg(pattern)).await {
        shared::redis::Value::Array(keys) if keys.len() == 1 => {
            keys[0].as_str().expect("key").to_owned()
        }
        other => panic!("{pattern}: {other:?}"),
    }
}

/// The audit rows still buffered in Redis (not yet drained to libSQL).
async fn buffered(stack: &Stack) -> Vec<Value> {
    let command = shared::redis::Command::new("KEYS").arg("*scans:buffer");
    let shared::redis::Value::Array(keys) = redis(stack, command).await else {
        return Vec::new();
    };
    let Some(key) = keys.first().and_then(|k| k.as_str()) else {
        return Vec::new();
    };
    let rows = redis(
        stack,
        shared::redis::Command::new("LRANGE")
            .arg(key)
            .arg(0)
            .arg(-1),
    )
    .await;
    match rows {
        shared::redis::Value::Array(rows) => rows
            .iter()
            .map(|r| serde_json::from_str(r.as_str().expect("text")).expect("a JSON row"))
            .collect(),
        _ => Vec::new(),
    }
}

/// Polls `check` (for work that lands after the response) for up to 5 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match check().await {
            Ok(()) => return,
            Err(last) if std::time::Instant::now() > deadline => panic!("{what}: {last}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

/// `/metrics` eventually holds every line of `lines` (scan metrics of admissions are counted
/// after the response).
async fn metrics_show(app: &App, lines: &[&str]) {
    eventually("metrics", || async {
        let text = app.get("/metrics").await.text().await.expect("metrics");
        match lines.iter().find(|l| !text.contains(*l)) {
            None => Ok(()),
            Some(missing) => Err(format!("no {missing:?} in\n{text}")),
        }
    })
    .await;
}

/// The fronts' counters once nothing has changed for 150 ms (after-response work landed).
async fn settled(stack: &Stack) -> Costs {
    let mut last = stack.stats().await;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let now = stack.stats().await;
        if now == last {
            return now;
        }
        last = now;
    }
}

/// 500 scans of one ticket from 500 devices at once: exactly one `ok`; every other answer is
/// `already_redeemed` naming the winner's gate; after Redis is flushed libSQL still refuses.
async fn stampede(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = spawn(runtime, &stack, "60").await;
    let event = door_event(&app, 2).await;
    let key = verifier_key(&app, &event.id, "doors").await;
    let bought = buy_seats(&app, &event.id, HOLDER, &[seat(0)]).await;
    let ticket = &bought.tickets[0];
    let (online, _) = code_pair(&app, HOLDER, ticket).await;

    let requests = (0..500)
        .map(|i| {
            let body = scan_body(
                &online,
                &format!("G{}", i % 7),
                &format!("dev-{i}"),
                now_ms(),
                &format!("stampede-{i:04}"),
            );
            app.request(Method::POST, "/v1/checkin/scan")
                .header("x-verifier-key", &key)
                .json(&body)
        })
        .collect();
    let mut by_result: HashMap<String, Vec<Value>> = HashMap::new();
    // All 500 in flight at once.
    for (status, body) in app.burst(requests, 500).await {
        assert_eq!(status, 200, "{body}");
        by_result
            .entry(body["result"].as_str().unwrap_or("?").to_owned())
            .or_default()
            .push(body);
    }
    let counts: HashMap<&str, usize> = by_result
        .iter()
        .map(|(k, v)| (k.as_str(), v.len()))
        .collect();
    assert_eq!(counts.get("ok"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("already_redeemed"), Some(&499), "{counts:?}");
    let winner = &by_result["ok"][0];
    let gate = winner["gate"].as_str().expect("gate");
    assert_eq!(winner["ticket"]["holder"], "0x0000…2001");
    for loser in &by_result["already_redeemed"] {
        assert_eq!(loser["firstScan"]["gate"], gate, "{loser}");
        assert_eq!(
            loser["firstScan"]["deviceId"], winner["deviceId"],
            "{loser}"
        );
    }
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE ticket_id = ?",
            ticket
        )
        .await,
        1
    );
    // The admission's row is in libSQL; the duplicates' wait in the buffer for the drain.
    let in_libsql = sql_count(
        &stack,
        "SELECT count(*) AS n FROM scans WHERE ticket_id = ?",
        ticket,
    )
    .await;
    let waiting = buffered(&stack)
        .await
        .iter()
        .filter(|r| r["ticketId"] == ticket.as_str())
        .count();
    assert_eq!(in_libsql, 1);
    assert_eq!(
        in_libsql + waiting as i64,
        500,
        "every scan is an audit row"
    );
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM tickets WHERE id = ? AND status = 'used'",
            ticket
        )
        .await,
        1
    );

    // Redis loses everything: libSQL's unique check-in row still refuses the next scan.
    shared::ports::Redis::exec(&stack.redis(), shared::redis::Command::new("FLUSHALL"))
        .await
        .expect("flush");
    let after = scan_code(&app, &key, &online).await;
    assert_eq!(after.body["result"], "already_redeemed", "{}", after.body);
    assert_eq!(after.body["firstScan"]["gate"], gate);
    // ...and the lock is repaired (after the response), so the next duplicate is turned away
    // by Redis again, with the ticket's view.
    let lock = only_key(&stack, &format!("*checkin:{ticket}")).await;
    eventually("the lock repaired", || async {
        let value = redis(&stack, shared::redis::Command::new("GET").arg(&lock)).await;
        match value.as_str() {
            Some(v) if !v.ends_with("\nnull") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let again = scan_code(&app, &key, &online).await;
    assert_eq!(again.body["result"], "already_redeemed");
    assert_eq!(again.body["firstScan"]["gate"], gate);
    assert_eq!(
        again.body["ticket"]["holder"], "0x0000…2001",
        "{}",
        again.body
    );
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE ticket_id = ?",
            ticket
        )
        .await,
        1
    );

    // Counters were flushed with Redis: only the two scans since.
    metrics_show(
        &app,
        &[
            "ticket_scans_total{result=\"ok\"} 0\n",
            "ticket_scans_total{result=\"already_redeemed\"} 2\n",
            "qr_verify_latency_seconds_count 2\n",
        ],
    )
    .await;
}

/// Every way a code can be wrong gets its own answer, never a 5xx; nonces replay; the holder's
/// codes are theirs alone.
async fn bad_codes(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = spawn(runtime, &stack, "60").await;
    let event = door_event(&app, 4).await;
    let other_event = door_event(&app, 1).await;
    let key = verifier_key(&app, &event.id, "north").await;
    let other_key = verifier_key(&app, &other_event.id, "elsewhere").await;
    let mine = buy_seats(&app, &event.id, HOLDER, &[seat(0), seat(1)]).await;
    let refunded = buy_seats(&app, &event.id, OTHER, &[seat(2)]).await;
    let elsewhere = buy_seats(&app, &other_event.id, HOLDER, &[seat(0)]).await;

    // Codes are the holder's alone.
    codes(&app, OTHER, &mine.tickets[0])
        .await
        .assert_error(404, "TICKET_NOT_FOUND", None);
    let token = app.token_for(HOLDER, Role::User);
    let svg = app
        .send(
            Method::GET,
            &format!("/v1/tickets/{}/qr.svg?kind=offline", mine.tickets[0]),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert_eq!(svg.header("cache-control"), Some("no-store"));
    assert!(String::from_utf8_lossy(&svg.raw).contains("<svg"));

    let (online, pass) = code_pair(&app, HOLDER, &mine.tickets[0]).await;
    let (_, pass_again) = code_pair(&app, HOLDER, &mine.tickets[0]).await;
    assert_eq!(pass, pass_again, "one live pass per ticket");

    // Forged MAC, altered payload, expired, unknown key id, junk.
    let (payload, mac) = online.split_once('.').expect("online code");
    let mut forged_mac = mac.to_owned();
    forged_mac.replace_range(0..1, if mac.starts_with('A') { "B" } else { "A" });
    let keyring = |kid: &str, secret: &str| {
        Keyring::new(vec![(kid.to_owned(), secret.as_bytes().to_vec())]).expect("keyring")
    };
    let ours = keyring("k1", QR_SECRET.split_once(':').expect("kid").1);
    let now_secs = (now_ms() / 1000) as u64;
    let altered_payload = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let text = String::from_utf8(engine.decode(payload).expect("b64")).expect("utf-8");
        let text = text.replace(&mine.tickets[0], &mine.tickets[1]);
        format!("{}.{mac}", engine.encode(text))
    };
    let cases = [
        (format!("{payload}.{forged_mac}"), "invalid"),
        (altered_payload, "invalid"),
        (
            ours.sign(&mine.tickets[1], "0011223344556677", now_secs - 5),
            "expired",
        ),
        (
            keyring("k9", "an-attackers-secret-an-attackers-sec").sign(
                &mine.tickets[1],
                "0011223344556677",
                now_secs + 60,
            ),
            "invalid",
        ),
        (
            keyring("k1", "an-attackers-secret-an-attackers-sec").sign(
                &mine.tickets[1],
                "0011223344556677",
                now_secs + 60,
            ),
            "invalid",
        ),
        ("https://example.com/not-a-ticket".to_owned(), "invalid"),
        ("".to_owned(), "invalid"),
        ("x".repeat(5_000), "invalid"),
    ];
    for (code, expected) in &cases {
        let reply = scan_code(&app, &key, code).await;
        assert_eq!(reply.body["result"], *expected, "{code}: {}", reply.body);
    }

    // Another event's ticket, as an online code and as a pass: wrong event, nothing disclosed.
    let (elsewhere_online, elsewhere_pass) = code_pair(&app, HOLDER, &elsewhere.tickets[0]).await;
    for code in [&elsewhere_online, &elsewhere_pass] {
        let reply = scan_code(&app, &key, code).await;
        assert_eq!(reply.body["result"], "wrong_event", "{}", reply.body);
        assert_eq!(reply.body["ticket"], Value::Null);
    }
    // A pass with the right fields signed by a key that is not the event's.
    let (genuine, _, _) = Pass::parse(&pass).expect("our pass parses");
    let wrong_key = genuine
        .sign(&PassKeys::new(b"not-the-seed-not-the-seed-0123456").signing_key(&event.id, 1));
    assert_eq!(
        scan_code(&app, &key, &wrong_key).await.body["result"],
        "invalid"
    );
    // The other event's verifier key cannot read this event's keys.
    scanner_get(
        &app,
        &other_key,
        &format!("/v1/checkin/events/{}/keys", event.id),
    )
    .await
    .assert_error(403, "VERIFIER_KEY_WRONG_EVENT", None);
    scanner_get(&app, "otvk_nope", "/v1/checkin/me")
        .await
        .assert_error(401, "VERIFIER_KEY_INVALID", None);

    // The same nonce returns the first answer, and writes one audit row.
    let body = scan_body(&pass, "East", "dev-9", now_ms(), "replayed-nonce-1");
    let first = scan(&app, &key, body.clone()).await;
    assert_eq!(first.body["result"], "ok", "{}", first.body);
    assert_eq!(first.body["ticket"]["seat"], seat(0));
    let second = scan(&app, &key, body.clone()).await;
    assert_replay(&second.body, &first.body);
    shared::ports::Redis::exec(&stack.redis(), shared::redis::Command::new("FLUSHALL"))
        .await
        .expect("flush");
    // libSQL replays the nonce after Redis lost it.
    let third = scan(&app, &key, body).await;
    assert_replay(&third.body, &first.body);
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM scans WHERE nonce = ?",
            "replayed-nonce-1"
        )
        .await,
        1
    );
    // The online code of the admitted ticket now: already redeemed at East.
    let dup = scan_code(&app, &key, &online).await;
    assert_eq!(dup.body["result"], "already_redeemed");
    assert_eq!(dup.body["firstScan"]["gate"], "East");

    // A refund revokes the pass (and the online code), and the revocation list says so.
    let (refunded_online, refunded_pass) = code_pair(&app, OTHER, &refunded.tickets[0]).await;
    refund(&app, &refunded.order_id).await;
    for code in [&refunded_online, &refunded_pass] {
        let reply = scan_code(&app, &key, code).await;
        assert_eq!(reply.body["result"], "revoked", "{}", reply.body);
    }
    codes(&app, OTHER, &refunded.tickets[0])
        .await
        .assert_error(409, "TICKET_REVOKED", None);
    let (revoked_pass, _, _) = Pass::parse(&refunded_pass).expect("pass");
    let pulled = scanner_get(
        &app,
        &key,
        &format!("/v1/checkin/events/{}/revocations?since=0", event.id),
    )
    .await;
    assert_eq!(pulled.status, 200, "{}", pulled.body);
    let items = pulled.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", pulled.body);
    assert_eq!(items[0]["passId"], revoked_pass.pass_id_hex());
    assert_eq!(items[0]["reason"], "revoked");
    let cursor = pulled.header("x-next-cursor").expect("cursor").to_owned();
    let next = scanner_get(
        &app,
        &key,
        &format!("/v1/checkin/events/{}/revocations?since={cursor}", event.id),
    )
    .await;
    assert_eq!(next.body["items"], json!([]));

    // The keys a scanner syncs verify the passes offline.
    let keys = scanner_get(&app, &key, &format!("/v1/checkin/events/{}/keys", event.id)).await;
    let public: [u8; 32] = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(keys.body["keys"][0]["publicKey"].as_str().expect("key"))
            .expect("b64")
            .try_into()
            .expect("32 bytes")
    };
    let verifying = ed25519_dalek::VerifyingKey::from_bytes(&public).expect("key");
    assert!(Pass::verify(&pass, |_, _| Some(verifying)).is_ok());
    assert!(Pass::verify(&elsewhere_pass, |_, _| Some(verifying)).is_err());

    // The ticket list for scanners that keep one.
    let listed = scanner_get(
        &app,
        &key,
        &format!("/v1/checkin/events/{}/tickets?modifiedSince=0", event.id),
    )
    .await;
    assert_eq!(listed.body["total"], 3, "{}", listed.body);
    let statuses: HashMap<String, String> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| {
            (
                t["ticketId"].as_str().unwrap_or_default().to_owned(),
                t["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(statuses[&mine.tickets[0]], "used");
    assert_eq!(statuses[&mine.tickets[1]], "valid");
    assert_eq!(statuses[&refunded.tickets[0]], "revoked");
    let since = listed.header("x-server-time").expect("server time");
    let later = scanner_get(
        &app,
        &key,
        &format!(
            "/v1/checkin/events/{}/tickets?modifiedSince={since}",
            event.id
        ),
    )
    .await;
    assert_eq!(later.body["total"], 0, "{}", later.body);

    // Bad bodies: 400 naming the field.
    scan(
        &app,
        &key,
        json!({"code": "x", "gate": "", "deviceId": "d", "scannedAt": 1, "nonce": "abcdefgh"}),
    )
    .await
    .assert_error(400, "VALIDATION_FAILED", Some("gate"));
    scan(&app, &key, json!({"code": "x"})).await.assert_error(
        400,
        "VALIDATION_FAILED",
        Some("body"),
    );
}

/// Two devices scanned the same pass while offline; whichever uploads first, the earlier scan
/// is the admission and the later one is `already_redeemed` naming the other device.
async fn offline_conflicts(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = spawn(runtime, &stack, "60").await;
    let event = door_event(&app, 3).await;
    let key = verifier_key(&app, &event.id, "south").await;
    let bought = buy_seats(&app, &event.id, HOLDER, &[seat(0), seat(1), seat(2)]).await;
    let t0 = now_ms() - 60_000;

    // Later scan uploaded first, then the earlier one: the earlier one takes over.
    let (_, pass_a) = code_pair(&app, HOLDER, &bought.tickets[0]).await;
    let late = scan_body(
        &pass_a,
        "West",
        "device-late",
        t0 + 20_000,
        "late-scan-0001",
    );
    let early = scan_body(
        &pass_a,
        "East",
        "device-early",
        t0 + 10_000,
        "early-scan-0001",
    );
    let first = upload(&app, &key, vec![late.clone()]).await;
    assert_eq!(first[0]["result"], "ok", "{}", first[0]);
    let second = upload(&app, &key, vec![early.clone()]).await;
    assert_eq!(second[0]["result"], "ok", "{}", second[0]);
    assert_eq!(second[0]["supersedes"]["deviceId"], "device-late");
    // Re-uploading the late scan now answers what was recorded for it.
    let replayed = upload(&app, &key, vec![late]).await;
    assert_eq!(replayed[0]["result"], "already_redeemed", "{}", replayed[0]);
    assert_eq!(replayed[0]["firstScan"]["deviceId"], "device-early");
    assert_eq!(replayed[0]["deviceId"], "device-late");

    // Both in one upload, later one listed first.
    let (_, pass_b) = code_pair(&app, HOLDER, &bought.tickets[1]).await;
    let both = upload(
        &app,
        &key,
        vec![
            scan_body(
                &pass_b,
                "West",
                "device-late",
                t0 + 30_000,
                "late-scan-0002",
            ),
            scan_body(
                &pass_b,
                "East",
                "device-early",
                t0 + 5_000,
                "early-scan-0002",
            ),
        ],
    )
    .await;
    assert_eq!(both[1]["result"], "ok", "{}", both[1]);
    assert_eq!(both[0]["result"], "already_redeemed", "{}", both[0]);
    assert_eq!(both[0]["firstScan"]["deviceId"], "device-early");

    // A live scan after the uploads: already redeemed at East (the earliest).
    let (online_b, _) = code_pair(&app, HOLDER, &bought.tickets[1]).await;
    let live = scan_code(&app, &key, &online_b).await;
    assert_eq!(live.body["result"], "already_redeemed");
    assert_eq!(live.body["firstScan"]["gate"], "East");

    for (ticket, device) in [
        (&bought.tickets[0], "device-early"),
        (&bought.tickets[1], "device-early"),
    ] {
        assert_eq!(
            sql_count(&stack, "SELECT count(*) AS n FROM checkins WHERE ticket_id = ? AND device_id = 'device-early'", ticket).await,
            1,
            "{device}"
        );
    }

    // Stats: two admitted, both at East, in the buckets of their scan times; the live scan's
    // audit row counts while it waits in the buffer.
    let stats_path = format!("/v1/checkin/events/{}/stats", event.id);
    eventually("the live scan's audit row", || async {
        let stats = scanner_get(&app, &key, &stats_path).await;
        let want = json!({"ok": 2, "already_redeemed": 3});
        if stats.body["scans"] == want {
            Ok(())
        } else {
            Err(stats.body.to_string())
        }
    })
    .await;
    let stats = scanner_get(&app, &key, &stats_path).await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    assert_eq!(stats.body["admitted"], 2, "{}", stats.body);
    assert_eq!(stats.body["tickets"], 3);
    assert_eq!(
        stats.body["perGate"],
        json!([{"gate": "East", "admitted": 2}])
    );
    assert_eq!(
        stats.body["perType"],
        json!([{"type": "Seated", "admitted": 2}]),
        "{}",
        stats.body
    );
    let buckets: i64 = stats.body["perBucket"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["admitted"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(buckets, 2);
    let organizer = app.token_for(ORGANIZER, Role::Organizer);
    let by_organizer = app
        .send(
            Method::GET,
            &format!("/v1/checkin/events/{}/stats", event.id),
            Some(&organizer),
            None,
            &[],
        )
        .await;
    assert_eq!(by_organizer.body["admitted"], 2);
    assert_eq!(by_organizer.body["scans"], stats.body["scans"]);
    metrics_show(&app, &["ticket_verify_conflicts_total 3\n"]).await;
}

/// The device's clock is trusted only so far. An online code in an upload is judged when the
/// upload arrives (a screenshot of an expired code is `expired` whatever `scannedAt` claims);
/// a `scannedAt` outside `[received - OFFLINE_MAX_AGE_SECS, received + OFFLINE_CLOCK_SKEW_SECS]`
/// is `invalid` with the reason; an earlier offline scan never displaces a live admission nor
/// rewrites its audit row.
async fn offline_clock(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = spawn(runtime, &stack, "60").await;
    let event = door_event(&app, 4).await;
    let key = verifier_key(&app, &event.id, "clock").await;
    let bought = buy_seats(
        &app,
        &event.id,
        HOLDER,
        &[seat(0), seat(1), seat(2), seat(3)],
    )
    .await;

    // (a) A screenshot of an online code that expired ten minutes ago, uploaded with a
    // `scannedAt` inside its 60 seconds: expired. A current one claiming an old time is judged
    // (and timed) on arrival.
    let ours = qr_keyring();
    let issued_ms = now_ms() - 600_000;
    let screenshot = ours.sign(
        &bought.tickets[0],
        "0011223344556677",
        (issued_ms / 1000) as u64 + 60,
    );
    let (current, _) = code_pair(&app, HOLDER, &bought.tickets[3]).await;
    let before_upload = now_ms();
    let results = upload(
        &app,
        &key,
        vec![
            scan_body(
                &screenshot,
                "Side",
                "dev-shot",
                issued_ms + 10_000,
                "screenshot-0001",
            ),
            scan_body(
                &current,
                "Side",
                "dev-shot",
                now_ms() - 7_200_000,
                "current-0001",
            ),
        ],
    )
    .await;
    assert_eq!(results[0]["result"], "expired", "{}", results[0]);
    assert_eq!(results[1]["result"], "ok", "{}", results[1]);
    assert_eq!(
        sql_count(
            &stack,
            &format!("SELECT count(*) AS n FROM checkins WHERE ticket_id = ? AND scanned_at >= {before_upload}"),
            &bought.tickets[3]
        )
        .await,
        1,
        "an online code is admitted at the upload's arrival"
    );
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE ticket_id = ?",
            &bought.tickets[0]
        )
        .await,
        0
    );

    // (b) `scannedAt` two days old, or ten minutes ahead: invalid, saying why; every scan of
    // the upload is answered, and the ticket is still admitted by a believable scan.
    let (_, pass_b) = code_pair(&app, HOLDER, &bought.tickets[1]).await;
    let results = upload(
        &app,
        &key,
        vec![
            scan_body(
                &pass_b,
                "Side",
                "dev-old",
                now_ms() - 2 * 86_400_000,
                "too-old-0001",
            ),
            scan_body(
                &pass_b,
                "Side",
                "dev-ahead",
                now_ms() + 600_000,
                "too-new-0001",
            ),
        ],
    )
    .await;
    assert_eq!(results[0]["result"], "invalid", "{}", results[0]);
    let reason = results[0]["reason"].as_str().expect("reason");
    assert!(reason.contains("86400 s before"), "{reason}");
    assert_eq!(results[1]["result"], "invalid", "{}", results[1]);
    let reason = results[1]["reason"].as_str().expect("reason");
    assert!(reason.contains("120 s ahead"), "{reason}");
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE ticket_id = ?",
            &bought.tickets[1]
        )
        .await,
        0
    );
    let believable = upload(
        &app,
        &key,
        vec![scan_body(
            &pass_b,
            "Side",
            "dev-ok",
            now_ms() - 60_000,
            "believable-0001",
        )],
    )
    .await;
    assert_eq!(believable[0]["result"], "ok", "{}", believable[0]);

    // (c) A live admission, then an upload of an offline scan of the same ticket claiming an
    // earlier time: already redeemed, naming the live scan; the check-in row and the live
    // scan's audit row are unchanged.
    let (online_c, pass_c) = code_pair(&app, HOLDER, &bought.tickets[2]).await;
    let live = scan_code(&app, &key, &online_c).await;
    assert_eq!(live.body["result"], "ok", "{}", live.body);
    let earlier = upload(
        &app,
        &key,
        vec![scan_body(
            &pass_c,
            "Back",
            "dev-offline",
            now_ms() - 1_800_000,
            "earlier-0001",
        )],
    )
    .await;
    assert_eq!(earlier[0]["result"], "already_redeemed", "{}", earlier[0]);
    assert_eq!(
        earlier[0]["firstScan"]["deviceId"], "dev-1",
        "{}",
        earlier[0]
    );
    assert_eq!(earlier[0].get("supersedes"), None, "{}", earlier[0]);
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE ticket_id = ? AND offline = 0 AND device_id = 'dev-1' AND gate = 'Main'",
            &bought.tickets[2]
        )
        .await,
        1,
        "the live admission stands"
    );
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM scans WHERE ticket_id = ? AND offline = 0 AND result = 'ok' \
               AND json_extract(response, '$.result') = 'ok' AND json_extract(response, '$.deviceId') = 'dev-1'",
            &bought.tickets[2]
        )
        .await,
        1,
        "the live scan's audit row is unchanged"
    );
    let again = scan_code(&app, &key, &online_c).await;
    assert_eq!(again.body["result"], "already_redeemed");
    assert_eq!(again.body["firstScan"]["gate"], "Main", "{}", again.body);
}

/// Redis down: the door keeps working on libSQL alone (exactly one `ok`, nonce replay from
/// libSQL), and the lock is repaired when Redis is back. libSQL down mid-scan: 503, nothing
/// written, the lock given back, and the retry with the same nonce admits.
async fn faults(runtime: Runtime) {
    let stack = Stack::start().await;
    let redis = Proxy::start(&stack.upstash_url).await;
    let libsql = Proxy::start(&stack.libsql_url).await;
    let app = spawn_with(
        runtime,
        &stack,
        "60",
        vec![
            ("UPSTASH_REDIS_REST_URL", redis.url.clone()),
            ("LIBSQL_URL", libsql.url.clone()),
        ],
    )
    .await;
    let event = door_event(&app, 2).await;
    let key = verifier_key(&app, &event.id, "faults").await;
    let bought = buy_seats(&app, &event.id, HOLDER, &[seat(0), seat(1)]).await;
    let (first, _) = code_pair(&app, HOLDER, &bought.tickets[0]).await;
    let (second, _) = code_pair(&app, HOLDER, &bought.tickets[1]).await;

    redis.set(Mode::Down);
    let body = scan_body(&first, "North", "dev-r", now_ms(), "redis-down-0001");
    let admitted = scan(&app, &key, body.clone()).await;
    assert_eq!(admitted.status, 200, "{}", admitted.body);
    assert_eq!(admitted.body["result"], "ok", "{}", admitted.body);
    // Replayed from libSQL.
    assert_replay(&scan(&app, &key, body).await.body, &admitted.body);
    let duplicate = scan_code(&app, &key, &first).await;
    assert_eq!(duplicate.body["result"], "already_redeemed");
    assert_eq!(duplicate.body["firstScan"]["gate"], "North");
    redis.set(Mode::Pass);
    assert_eq!(
        scan_code(&app, &key, &first).await.body["result"],
        "already_redeemed"
    );

    // The key is cached in Redis and the lock is free: libSQL fails on the admission's one
    // request.
    let body = scan_body(&second, "South", "dev-l", now_ms(), "libsql-down-0001");
    libsql.set(Mode::Down);
    scan(&app, &key, body.clone())
        .await
        .assert_error(503, "LIBSQL_UNAVAILABLE", None);
    libsql.set(Mode::Pass);
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE ticket_id = ?",
            &bought.tickets[1]
        )
        .await,
        0,
        "nothing written"
    );
    let retried = scan(&app, &key, body).await;
    assert_eq!(
        retried.body["result"], "ok",
        "the lock was given back: {}",
        retried.body
    );
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE ticket_id = ?",
            &bought.tickets[1]
        )
        .await,
        1
    );
}

/// What a scan costs on the data services (the fronts' counters, after-response work
/// included; see `checkin::live`): a duplicate or a refused code is ONE Redis command and no
/// libSQL, nothing after the response; a first admission is one Redis round trip and one
/// Hrana request on the latency path, plus one Redis command after the response. Then 50 devices scan one ticket with the key's
/// cache cold: exactly one `ok`.
async fn door_budget(runtime: Runtime) {
    let stack = Stack::start().await;
    // HTTP metrics are flushed per instance; held back here for a deterministic bill.
    let held_back = vec![("METRICS_FLUSH_SECS", "3600".to_owned())];
    let app = spawn_with(runtime, &stack, "60", held_back).await;
    let event = door_event(&app, 2).await;
    let key = verifier_key(&app, &event.id, "budget").await;
    let bought = buy_seats(&app, &event.id, HOLDER, &[seat(0), seat(1)]).await;
    let (online, _) = code_pair(&app, HOLDER, &bought.tickets[0]).await;
    let (second, _) = code_pair(&app, HOLDER, &bought.tickets[1]).await;
    // Spin makes an instance per request, so every request flushes its HTTP metrics after the
    // response (one EVALSHA, in the after-response pipeline the request may already have).
    let flush = u64::from(runtime == Runtime::Wasmtime);
    let bill = |costs: Costs| {
        (
            costs.redis_requests,
            costs.redis_commands,
            costs.sql_requests,
        )
    };

    // Redis learns the script (EVALSHA answered NOSCRIPT, then EVAL) on the first scan ever.
    assert_eq!(
        scan_code(&app, &key, "warm-up").await.body["result"],
        "invalid"
    );
    let before = settled(&stack).await;
    let first = scan_code(&app, &key, &online).await;
    assert_eq!(first.body["result"], "ok", "{}", first.body);
    let spent = settled(&stack).await.delta(before);
    assert_eq!(
        bill(spent),
        (2, 2 + flush, 1),
        "first admission: the script, one Hrana request, the settlement after the response: {spent:?}"
    );

    let before = settled(&stack).await;
    let duplicate = scan_code(&app, &key, &online).await;
    assert_eq!(duplicate.body["result"], "already_redeemed");
    assert_eq!(duplicate.body["ticket"]["holder"], "0x0000…2001");
    assert_eq!(duplicate.body["firstScan"]["gate"], "Main");
    let spent = settled(&stack).await.delta(before);
    assert_eq!(
        bill(spent),
        (1 + flush, 1 + flush, 0),
        "duplicate: {spent:?}"
    );

    let before = settled(&stack).await;
    let junk = scan_code(&app, &key, "not-a-ticket").await;
    assert_eq!(junk.body["result"], "invalid");
    let spent = settled(&stack).await.delta(before);
    assert_eq!(
        bill(spent),
        (1 + flush, 1 + flush, 0),
        "refused code: {spent:?}"
    );

    // A retry of the duplicate (same nonce) replays its answer, also at one command.
    let nonce = duplicate.body["nonce"].as_str().expect("nonce");
    let retry_body = scan_body(&online, "Main", "dev-1", now_ms(), nonce);
    let before = settled(&stack).await;
    let retry = scan(&app, &key, retry_body).await;
    assert_replay(&retry.body, &duplicate.body);
    assert_eq!(
        bill(settled(&stack).await.delta(before)),
        (1 + flush, 1 + flush, 0)
    );

    // The key's cache cold, 50 devices at once on a fresh ticket: one `ok`.
    let cache = only_key(&stack, "*verifier:*").await;
    redis(&stack, shared::redis::Command::new("DEL").arg(&cache)).await;
    let requests = (0..50)
        .map(|i| {
            app.request(Method::POST, "/v1/checkin/scan")
                .header("x-verifier-key", &key)
                .json(&scan_body(
                    &second,
                    "Side",
                    &format!("dev-{i}"),
                    now_ms(),
                    &format!("cold-{i:04}"),
                ))
        })
        .collect();
    let mut results: HashMap<String, usize> = HashMap::new();
    for (status, body) in app.burst(requests, 50).await {
        assert_eq!(status, 200, "{body}");
        *results
            .entry(body["result"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    assert_eq!(results.get("ok"), Some(&1), "{results:?}");
    assert_eq!(results.get("already_redeemed"), Some(&49), "{results:?}");
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE ticket_id = ?",
            &bought.tickets[1]
        )
        .await,
        1
    );
}

/// A verifier key revoked by its organizer is refused by the very next scan (its cached
/// record is overwritten before the revocation answers), and keys that are not keys are
/// refused without a scan.
async fn revoked_key(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = spawn(runtime, &stack, "60").await;
    let event = door_event(&app, 1).await;
    let key = verifier_key(&app, &event.id, "to revoke").await;
    let bought = buy_seats(&app, &event.id, HOLDER, &[seat(0)]).await;
    let (online, _) = code_pair(&app, HOLDER, &bought.tickets[0]).await;
    // In use: its record is cached.
    assert_eq!(scan_code(&app, &key, &online).await.body["result"], "ok");
    assert_eq!(
        scan_code(&app, &key, &online).await.body["result"],
        "already_redeemed"
    );

    let key_id = format!("vk_{}", &key["otvk_".len().."otvk_".len() + 16]);
    let organizer = app.token_for(ORGANIZER, Role::Organizer);
    let revoked = app
        .send(
            Method::DELETE,
            &format!("/v1/events/{}/verifier-keys/{key_id}", event.id),
            Some(&organizer),
            None,
            &[],
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let body = scan_body(&online, "Main", "dev-1", now_ms(), "after-revoke-1");
    scan(&app, &key, body)
        .await
        .assert_error(401, "VERIFIER_KEY_REVOKED", None);
    scanner_get(&app, &key, "/v1/checkin/me")
        .await
        .assert_error(401, "VERIFIER_KEY_REVOKED", None);

    // The right key id with another secret, an unknown key id (twice: the second from the
    // cache), no key.
    let (prefix, _) = key.rsplit_once('_').expect("key");
    let forged = format!("{prefix}_{}", "x".repeat(40));
    let unknown = format!("otvk_00112233aabbccdd_{}", "y".repeat(40));
    for presented in [forged.as_str(), unknown.as_str(), unknown.as_str()] {
        let body = scan_body(&online, "Main", "dev-1", now_ms(), "bad-key-0001");
        scan(&app, presented, body)
            .await
            .assert_error(401, "VERIFIER_KEY_INVALID", None);
    }
    let missing = app
        .send(
            Method::POST,
            "/v1/checkin/scan",
            None,
            Some(scan_body(&online, "Main", "dev-1", now_ms(), "no-key-0001")),
            &[],
        )
        .await;
    missing.assert_error(401, "VERIFIER_KEY_MISSING", None);
}

/// Answers given inside the scan script leave their audit rows in a Redis buffer; the event's
/// stats count them at once, and a cron tick moves them to libSQL (each exactly once).
async fn audit_drain(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = spawn(runtime, &stack, "60").await;
    let event = door_event(&app, 1).await;
    let key = verifier_key(&app, &event.id, "drain").await;
    let bought = buy_seats(&app, &event.id, HOLDER, &[seat(0)]).await;
    let (online, _) = code_pair(&app, HOLDER, &bought.tickets[0]).await;
    assert_eq!(scan_code(&app, &key, &online).await.body["result"], "ok");
    for _ in 0..5 {
        let reply = scan_code(&app, &key, &online).await;
        assert_eq!(reply.body["result"], "already_redeemed");
    }
    for junk in ["junk-1", "junk-2", "x.y"] {
        assert_eq!(scan_code(&app, &key, junk).await.body["result"], "invalid");
    }
    let stats_path = format!("/v1/checkin/events/{}/stats", event.id);
    let want = json!({"ok": 1, "already_redeemed": 5, "invalid": 3});
    let scans_in_libsql = || async {
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM scans WHERE event_id = ?",
            &event.id,
        )
        .await
    };
    assert_eq!(buffered(&stack).await.len(), 8);
    assert_eq!(scans_in_libsql().await, 1);
    let stats = scanner_get(&app, &key, &stats_path).await;
    assert_eq!(stats.body["scans"], want, "{}", stats.body);

    let tick = app.trigger_cron().await;
    assert!(tick.status().is_success(), "{}", tick.status());
    eventually("the buffer drained", || async {
        match (buffered(&stack).await.len(), scans_in_libsql().await) {
            (0, 9) => Ok(()),
            other => Err(format!("(buffered, in libSQL) = {other:?}")),
        }
    })
    .await;
    // Once each, with what was answered.
    let stats = scanner_get(&app, &key, &stats_path).await;
    assert_eq!(stats.body["scans"], want, "{}", stats.body);
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM scans WHERE event_id = ? AND json_extract(response, '$.result') = result",
            &event.id,
        )
        .await,
        9
    );
    let tick = app.trigger_cron().await;
    assert!(tick.status().is_success());
    assert_eq!(scans_in_libsql().await, 9);
}

/// The scanner page in headless Chromium with a fake camera showing real tickets' QR codes.
async fn scanner_page(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = spawn(runtime, &stack, "900").await;
    let event = door_event(&app, 3).await;
    let key = verifier_key(&app, &event.id, "browser").await;
    let bought = buy_seats(&app, &event.id, HOLDER, &[seat(0), seat(1)]).await;
    let refunded = buy_seats(&app, &event.id, OTHER, &[seat(2)]).await;
    let token = app.token_for(HOLDER, Role::User);
    let other = app.token_for(OTHER, Role::User);
    let svg = |token: &str, ticket: &str, kind: &str| {
        let token = token.to_owned();
        let path = format!("/v1/tickets/{ticket}/qr.svg?kind={kind}");
        let app = &app;
        async move {
            let reply = app.send(Method::GET, &path, Some(&token), None, &[]).await;
            assert_eq!(reply.status, 200);
            String::from_utf8(reply.raw).expect("svg")
        }
    };
    let (online, _) = code_pair(&app, HOLDER, &bought.tickets[0]).await;
    let (_, valid_pass) = code_pair(&app, HOLDER, &bought.tickets[1]).await;
    let (_, revoked_pass) = code_pair(&app, OTHER, &refunded.tickets[0]).await;
    let fixture = json!({
        "baseUrl": app.base_url,
        "verifierKey": key,
        "eventId": event.id,
        "gate": "North",
        "artifactsDir": root().join("target/e2e-artifacts/scanner").display().to_string(),
        "online": {"code": online, "svg": svg(&token, &bought.tickets[0], "online").await},
        "validPass": {"code": valid_pass, "svg": svg(&token, &bought.tickets[1], "offline").await,
                      "ticketId": bought.tickets[1]},
        "revokedPass": {"code": revoked_pass, "svg": svg(&other, &refunded.tickets[0], "offline").await},
    });
    refund(&app, &refunded.order_id).await;
    let dir = root().join("target/e2e-artifacts/scanner");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    let path = dir.join("fixture.json");
    std::fs::write(&path, fixture.to_string()).expect("fixture");
    let report = run_node_tests(
        &["tests/js/scanner/scanner.test.mjs".to_owned()],
        &[("SCANNER_FIXTURE", path.to_str().expect("path"))],
    )
    .await;
    assert!(report.contains("# pass 4"), "{report}");
    // What the page did is what the server recorded.
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE event_id = ?",
            &event.id
        )
        .await,
        2
    );
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE ticket_id = ? AND offline = 1",
            &bought.tickets[1]
        )
        .await,
        1,
        "the offline admission was uploaded"
    );
}

/// The seeded tickets of [`offline_upload_costs`]: `n` valid tickets of `event` held by
/// [`HOLDER`], each with a live offline pass, written straight to libSQL (the sale path is
/// tested elsewhere; 250 purchases would only slow this test down).
async fn seed_door_tickets(
    stack: &Stack,
    event: &PublishedEvent,
    n: usize,
) -> Vec<(String, String)> {
    use shared::ports::Sql as _;
    let now = now_ms();
    let keys = PassKeys::new(PASS_SEED.as_bytes());
    let signing = keys.signing_key(&event.id, 1);
    let mut rows = Vec::new();
    let mut out = Vec::new();
    for i in 0..n {
        let ticket_id = format!("tkt_up_{}_{i:03}", &event.id);
        let pass = Pass {
            key_generation: 1,
            pass_id: (0x5ca0_0000_u64 + i as u64).to_be_bytes(),
            event_id: event.id.clone(),
            ticket_id: ticket_id.clone(),
            serial: format!("{i:06}"),
            seat: seat(i),
            ticket_type: "Seated".to_owned(),
            valid_from_secs: (now / 1000 - 86_400) as u32,
            valid_until_secs: (now / 1000 + 86_400) as u32,
        };
        rows.push(json!([ticket_id, pass.pass_id_hex(), seat(i)]));
        out.push((ticket_id, pass.sign(&signing)));
    }
    let rows = Value::from(rows).to_string();
    let sql = stack.sql();
    sql.execute(
        shared::sql::Statement::new(
            "INSERT INTO tickets (id, event_id, ticket_type_id, owner, seat_label, status, created_at, updated_at) \
             SELECT json_extract(value, '$[0]'), ?, ?, ?, json_extract(value, '$[2]'), 'valid', ?, ? FROM json_each(?)",
        )
        .bind(event.id.as_str())
        .bind(event.seated())
        .bind(HOLDER)
        .bind(now)
        .bind(now)
        .bind(rows.as_str()),
    )
    .await
    .expect("tickets");
    sql.execute(
        shared::sql::Statement::new(
            "INSERT INTO ticket_passes (pass_id, ticket_id, event_id, key_generation, owner, seat_label, valid_from, valid_until, issued_at) \
             SELECT json_extract(value, '$[1]'), json_extract(value, '$[0]'), ?, 1, ?, json_extract(value, '$[2]'), ?, ?, ? FROM json_each(?)",
        )
        .bind(event.id.as_str())
        .bind(HOLDER)
        .bind(now - 86_400_000)
        .bind(now + 86_400_000)
        .bind(now)
        .bind(rows.as_str()),
    )
    .await
    .expect("passes");
    out
}

/// Issue 12 item 12: an offline upload of 500 scans stays far inside Workers' subrequest limit
/// (50 per request on Free). 250 tickets: passes scanned by two devices (the earlier wins,
/// whichever is listed first), a third device late, online codes (judged on arrival, so a pass
/// scanned before the upload beats them, and displaces one admitted earlier in the same
/// upload), scans too old to believe and codes that are not codes. Exactly one `ok` per ticket;
/// the whole upload, after-response work included, is at most 20 requests to Redis and libSQL
/// together; a re-upload answers the same and writes nothing.
async fn offline_upload_costs(runtime: Runtime) {
    let stack = Stack::start().await;
    // HTTP metrics are flushed per instance; held back here for a deterministic bill.
    let held_back = vec![("METRICS_FLUSH_SECS", "3600".to_owned())];
    let app = spawn_with(runtime, &stack, "60", held_back).await;
    let event = door_event(&app, 1).await;
    let key = verifier_key(&app, &event.id, "upload").await;
    let tickets = seed_door_tickets(&stack, &event, 250).await;
    let ours = qr_keyring();
    let now = now_ms();
    let online = |i: usize| {
        ours.sign(
            &tickets[i].0,
            &format!("{i:016x}"),
            (now / 1000) as u64 + 60,
        )
    };
    let t0 = now - 600_000;
    let mut scans = Vec::new();
    // (ticket, device, result, first scan's device) of each scan, in request order.
    let mut want: Vec<(Option<usize>, &str, &str, Option<&str>)> = Vec::new();
    let mut push =
        |code: String,
         device: &'static str,
         at: i64,
         want_row: (Option<usize>, &'static str, Option<&'static str>)| {
            let nonce = format!("up-{:04}-{device}", scans.len());
            scans.push(scan_body(&code, "Gate", device, at, &nonce));
            want.push((want_row.0, device, want_row.1, want_row.2));
        };
    for (i, ticket) in tickets.iter().enumerate().take(200) {
        let pass = ticket.1.clone();
        let at = t0 + i as i64 * 1_000;
        // Device A lists every scan first; for even tickets device B scanned earlier.
        let b_wins = i < 150 && i % 2 == 0;
        push(
            pass.clone(),
            "dev-a",
            at,
            if b_wins {
                (Some(i), "already_redeemed", Some("dev-b"))
            } else {
                (Some(i), "ok", None)
            },
        );
        if i < 150 {
            let (b_at, b_want) = if b_wins {
                (at - 500, (Some(i), "ok", None))
            } else {
                (at + 500, (Some(i), "already_redeemed", Some("dev-a")))
            };
            push(pass.clone(), "dev-b", b_at, b_want);
        } else {
            push(
                pass,
                "dev-d",
                at + 100,
                (Some(i), "already_redeemed", Some("dev-a")),
            );
        }
    }
    for (i, ticket) in tickets.iter().enumerate().take(250).skip(200) {
        let pass = ticket.1.clone();
        match i {
            // A pass scanned ten minutes ago beats an online code judged on arrival.
            200..220 => {
                push(
                    online(i),
                    "dev-on",
                    now - 30_000,
                    (Some(i), "already_redeemed", Some("dev-c")),
                );
                push(pass, "dev-c", t0, (Some(i), "ok", None));
            }
            // The online code claims an old time: admitted first (at arrival), then displaced
            // by the earlier pass later in the same upload.
            220..230 => {
                push(
                    online(i),
                    "dev-on",
                    now - 7_200_000,
                    (Some(i), "already_redeemed", Some("dev-c")),
                );
                push(pass, "dev-c", t0, (Some(i), "ok", None));
            }
            // Too old to believe: invalid; the online code admits.
            240..250 => {
                push(
                    pass,
                    "dev-old",
                    now - 2 * 86_400_000,
                    (None, "invalid", None),
                );
                push(online(i), "dev-on", now - 30_000, (Some(i), "ok", None));
            }
            _ => {
                push(online(i), "dev-on", now - 30_000, (Some(i), "ok", None));
                push(
                    format!("not-a-code-{i}"),
                    "dev-x",
                    t0,
                    (None, "invalid", None),
                );
            }
        }
    }
    assert_eq!(scans.len(), 500);
    let timed_upload = || async {
        let started = std::time::Instant::now();
        let results = upload(&app, &key, scans.clone()).await;
        (results, started.elapsed())
    };

    let before = settled(&stack).await;
    let (results, took) = timed_upload().await;
    let spent = settled(&stack).await.delta(before);
    eprintln!(
        "{runtime:?}: upload of 500 offline scans took {took:?}; {} Hrana + {} Upstash requests \
         ({} statements, {} Redis commands, {} rows read, {} written)",
        spent.sql_requests,
        spent.redis_requests,
        spent.sql_statements,
        spent.redis_commands,
        spent.rows_read,
        spent.rows_written
    );
    assert_eq!(results.len(), 500);
    let mut ok_per_ticket = vec![0; tickets.len()];
    for (i, (result, want)) in results.iter().zip(&want).enumerate() {
        let (ticket, device, outcome, first) = *want;
        assert_eq!(result["result"], outcome, "scans[{i}]: {result}");
        assert_eq!(result["deviceId"], device, "scans[{i}]: {result}");
        assert_eq!(
            result["nonce"], scans[i]["nonce"],
            "results[i] answers scans[i]"
        );
        if let Some(first) = first {
            assert_eq!(
                result["firstScan"]["deviceId"], first,
                "scans[{i}]: {result}"
            );
        }
        if outcome == "ok" {
            ok_per_ticket[ticket.expect("a ticket")] += 1;
        }
    }
    assert!(ok_per_ticket.iter().all(|&n| n == 1), "{ok_per_ticket:?}");
    for (result, want) in results.iter().zip(&want) {
        if want.1 == "dev-c" && want.0 < Some(220) {
            assert_eq!(result.get("supersedes"), None, "{result}");
        }
    }
    let displaced = results
        .iter()
        .filter(|r| r["supersedes"]["deviceId"] == "dev-on")
        .count();
    assert_eq!(
        displaced, 10,
        "the passes that displaced an online admission"
    );
    assert!(
        spent.sql_requests + spent.redis_requests <= 20,
        "500 scans in at most 20 subrequests: {spent:?}"
    );

    let count = |table: &'static str| {
        let stack = &stack;
        let event_id = event.id.clone();
        async move {
            sql_count(
                stack,
                &format!("SELECT count(*) AS n FROM {table} WHERE event_id = ?"),
                &event_id,
            )
            .await
        }
    };
    assert_eq!(count("checkins").await, 250);
    assert_eq!(count("scans").await, 500);
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM checkins WHERE event_id = ? AND device_id = 'dev-on'",
            &event.id
        )
        .await,
        20,
        "the online admissions that no earlier pass displaced"
    );
    // The stored answers agree with the ones returned.
    assert_eq!(
        sql_count(
            &stack,
            "SELECT count(*) AS n FROM scans WHERE event_id = ? AND result = 'ok'",
            &event.id
        )
        .await,
        250
    );

    let before = settled(&stack).await;
    let (again, took) = timed_upload().await;
    let spent = settled(&stack).await.delta(before);
    eprintln!(
        "{runtime:?}: re-upload of the same 500 took {took:?}; {} Hrana + {} Upstash requests",
        spent.sql_requests, spent.redis_requests
    );
    // A re-upload answers the same, each answer labelled as a replay.
    assert_eq!(again.len(), results.len());
    for (replayed, first) in again.iter().zip(&results) {
        assert_replay(replayed, first);
    }
    assert_eq!(count("checkins").await, 250);
    assert_eq!(count("scans").await, 500);
    assert_eq!(
        spent.rows_written, 0,
        "a re-upload writes nothing: {spent:?}"
    );
}

/// Two devices upload scans of the same 100 tickets at the same moment while the door scans ten
/// of them live: each upload decided its batch on a read the other may have changed, so one
/// batch's guard fails and that chunk is read and decided again. However they interleave, each
/// ticket has one check-in, the earliest offline scan's unless a live admission came first (it
/// is never displaced), and one stored `ok` at most; a re-upload answers what was stored.
async fn offline_upload_races(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = spawn(runtime, &stack, "60").await;
    let event = door_event(&app, 1).await;
    let key = verifier_key(&app, &event.id, "race").await;
    let tickets = seed_door_tickets(&stack, &event, 100).await;
    let ours = qr_keyring();
    let now = now_ms();
    let t0 = now - 600_000;
    let device = |name: &str, shift: fn(usize) -> i64| {
        tickets
            .iter()
            .enumerate()
            .map(|(i, (_, pass))| {
                let at = t0 + i as i64 * 1_000 + shift(i);
                scan_body(pass, "Gate", name, at, &format!("race-{name}-{i:03}"))
            })
            .collect::<Vec<Value>>()
    };
    let a = device("dev-a", |_| 0);
    // Device B scanned even tickets before device A, odd ones after.
    let b = device("dev-b", |i| if i % 2 == 0 { -500 } else { 500 });
    let mut requests = vec![
        app.request(Method::POST, "/v1/checkin/upload")
            .header("x-verifier-key", &key)
            .json(&json!({"scans": a})),
        app.request(Method::POST, "/v1/checkin/upload")
            .header("x-verifier-key", &key)
            .json(&json!({"scans": b})),
    ];
    for (i, (ticket, _)) in tickets.iter().enumerate().take(10) {
        let code = ours.sign(ticket, &format!("{i:016x}"), (now / 1000) as u64 + 60);
        requests.push(
            app.request(Method::POST, "/v1/checkin/scan")
                .header("x-verifier-key", &key)
                .json(&scan_body(
                    &code,
                    "Door",
                    "dev-live",
                    now,
                    &format!("race-live-{i:03}"),
                )),
        );
    }
    let replies = app.burst(requests, 12).await;
    for (status, body) in &replies {
        assert_eq!(*status, 200, "{body}");
    }
    let live_ok: Vec<bool> = replies[2..]
        .iter()
        .map(|(_, body)| body["result"] == "ok")
        .collect();

    for (i, (ticket, _)) in tickets.iter().enumerate() {
        let checkin = |extra: &str| {
            let sql = format!("SELECT count(*) AS n FROM checkins WHERE ticket_id = ? {extra}");
            let stack = &stack;
            async move { sql_count(stack, &sql, ticket).await }
        };
        assert_eq!(checkin("").await, 1, "ticket {i}");
        let offline_ok = sql_count(
            &stack,
            "SELECT count(*) AS n FROM scans WHERE ticket_id = ? AND offline = 1 AND result = 'ok'",
            ticket,
        )
        .await;
        if live_ok.get(i) == Some(&true) {
            assert_eq!(checkin("AND offline = 0").await, 1, "ticket {i}");
            assert_eq!(
                offline_ok, 0,
                "ticket {i}: a live admission is never displaced"
            );
        } else {
            let earliest = if i % 2 == 0 { "dev-b" } else { "dev-a" };
            let first = checkin(&format!("AND offline = 1 AND device_id = '{earliest}'")).await;
            assert_eq!(
                first, 1,
                "ticket {i}: the earliest offline scan holds the check-in"
            );
            assert_eq!(offline_ok, 1, "ticket {i}: one stored ok");
        }
    }
    // Each device's re-upload answers what its rows say now.
    for (name, body) in [("dev-a", &a), ("dev-b", &b)] {
        let results = upload(&app, &key, body.clone()).await;
        let oks = results.iter().filter(|r| r["result"] == "ok").count() as i64;
        let stored = sql_count(
            &stack,
            "SELECT count(*) AS n FROM scans WHERE device_id = ? AND result = 'ok'",
            name,
        )
        .await;
        assert_eq!(oks, stored, "{name}");
    }
}

#[tokio::test]
async fn workerd_500_scans_of_one_ticket_admit_exactly_once() {
    stampede(Runtime::Workerd).await;
}

#[tokio::test]
async fn wasmtime_500_scans_of_one_ticket_admit_exactly_once() {
    stampede(Runtime::Wasmtime).await;
}

#[tokio::test]
async fn workerd_bad_codes_get_their_own_answers() {
    bad_codes(Runtime::Workerd).await;
}

#[tokio::test]
async fn wasmtime_bad_codes_get_their_own_answers() {
    bad_codes(Runtime::Wasmtime).await;
}

#[tokio::test]
async fn workerd_offline_uploads_resolve_conflicts_by_scan_time() {
    offline_conflicts(Runtime::Workerd).await;
}

#[tokio::test]
async fn wasmtime_offline_uploads_resolve_conflicts_by_scan_time() {
    offline_conflicts(Runtime::Wasmtime).await;
}

#[tokio::test]
async fn workerd_offline_uploads_trust_the_device_clock_only_so_far() {
    offline_clock(Runtime::Workerd).await;
}

#[tokio::test]
async fn wasmtime_offline_uploads_trust_the_device_clock_only_so_far() {
    offline_clock(Runtime::Wasmtime).await;
}

#[tokio::test]
async fn workerd_scans_survive_redis_and_libsql_faults() {
    faults(Runtime::Workerd).await;
}

#[tokio::test]
async fn wasmtime_scans_survive_redis_and_libsql_faults() {
    faults(Runtime::Wasmtime).await;
}

#[tokio::test]
async fn workerd_scanner_page_works_in_chromium() {
    scanner_page(Runtime::Workerd).await;
}

#[tokio::test]
async fn workerd_a_duplicate_scan_costs_one_redis_command() {
    door_budget(Runtime::Workerd).await;
}

#[tokio::test]
async fn wasmtime_a_duplicate_scan_costs_one_redis_command() {
    door_budget(Runtime::Wasmtime).await;
}

#[tokio::test]
async fn workerd_a_revoked_verifier_key_is_refused_at_once() {
    revoked_key(Runtime::Workerd).await;
}

#[tokio::test]
async fn wasmtime_a_revoked_verifier_key_is_refused_at_once() {
    revoked_key(Runtime::Wasmtime).await;
}

#[tokio::test]
async fn workerd_buffered_audit_rows_reach_libsql_on_a_cron_tick() {
    audit_drain(Runtime::Workerd).await;
}

#[tokio::test]
async fn wasmtime_buffered_audit_rows_reach_libsql_on_a_cron_tick() {
    audit_drain(Runtime::Wasmtime).await;
}

#[tokio::test]
async fn workerd_an_offline_upload_of_500_scans_is_a_few_subrequests() {
    offline_upload_costs(Runtime::Workerd).await;
}

#[tokio::test]
async fn wasmtime_an_offline_upload_of_500_scans_is_a_few_subrequests() {
    offline_upload_costs(Runtime::Wasmtime).await;
}

#[tokio::test]
async fn workerd_concurrent_offline_uploads_and_live_scans_agree() {
    offline_upload_races(Runtime::Workerd).await;
}

#[tokio::test]
async fn wasmtime_concurrent_offline_uploads_and_live_scans_agree() {
    offline_upload_races(Runtime::Wasmtime).await;
}
