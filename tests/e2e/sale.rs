//! The flash-sale path on the release Wasm: the waiting room (1,000 wallets, rate and order,
//! forged and expired passes, random draw at the start, deny list), idempotent orders (20
//! concurrent requests with one key), Stripe webhooks signed by Stripe's own library, refund
//! to the waitlist, the pause switch, reconcile after drift, and libSQL failing during an
//! order.

use e2e::catalog::{EventSpec, ORGANIZER, PublishedEvent, publish_event, seat};
use e2e::payments::{now_ms, pay_by_card, payment_event, stripe_delivery, webhook};
use e2e::proxy::{Mode, Proxy};
use e2e::{ADMISSION_SECRET, App, Reply, Runtime, STRIPE_WEBHOOK_SECRET, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use shared::sale::SignedToken;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

const ADMIN: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OVERRIDES: &[(&str, &str)] = &[("RATE_LIMIT_WRITE", "100000:100000")];

/// A distinct test wallet per number (EIP-55 of an all-digit address is itself).
fn wallet(n: usize) -> String {
    format!("0x{:040x}", n + 1_000)
}

/// A published event with `seats` seats (5000 USD cents each), 100 GA units, and `sale`
/// settings if given.
async fn published_event(app: &App, seats: usize, sale: Option<Value>) -> PublishedEvent {
    publish_event(
        app,
        &EventSpec {
            sale,
            ..EventSpec::new(seats, 100)
        },
    )
    .await
}

async fn post(app: &App, path: &str, token: &str, body: Value, headers: &[(&str, &str)]) -> Reply {
    app.send(Method::POST, path, Some(token), Some(body), headers)
        .await
}

async fn get(app: &App, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Reply {
    app.send(Method::GET, path, token, None, headers).await
}

async fn hold(app: &App, token: &str, body: Value, admission: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = admission
        .map(|a| vec![("x-admission-token", a)])
        .unwrap_or_default();
    post(app, "/v1/holds", token, body, &headers).await
}

async fn order(app: &App, token: &str, hold_id: &str, key: &str, admission: Option<&str>) -> Reply {
    let mut headers = vec![("idempotency-key", key)];
    if let Some(a) = admission {
        headers.push(("x-admission-token", a));
    }
    app.send_idempotent(
        Method::POST,
        "/v1/orders",
        Some(token),
        Some(json!({ "holdId": hold_id })),
        &headers,
    )
    .await
}

fn sale_settings(starts_at: i64, extra: Value) -> Value {
    let mut body = json!({
        "startsAt": starts_at, "endsAt": starts_at + 3_600_000,
        "admissionPerMinute": 600, "maxActive": 100_000, "sessionSecs": 600,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

/// 1,000 wallets join a FIFO sale that started 30 s ago at 600 a minute: places 0..999 each
/// once, re-joining keeps the place, admission is a prefix of the line that grows with time,
/// and only a live admission token of the right wallet opens holds.
async fn waiting_room(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let started = now_ms() - 30_000;
    let event = published_event(&app, 20, Some(sale_settings(started, json!({})))).await;
    let path = format!("/v1/sales/{}/queue", event.id);

    let gate = Arc::new(tokio::sync::Semaphore::new(100));
    let mut tasks = Vec::new();
    for n in 0..1000 {
        let request = app
            .request(Method::POST, &path)
            .bearer_auth(app.token_for(&wallet(n), Role::User));
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.expect("gate");
            let response = request.send().await.expect("join");
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap_or_default(),
            )
        }));
    }
    let mut tickets = Vec::new();
    let mut positions = HashSet::new();
    for task in tasks {
        let (status, body) = task.await.expect("task");
        assert_eq!(status, 200, "{body}");
        let position = body["position"].as_u64().expect("position");
        assert!(positions.insert(position), "place {position} given twice");
        tickets.push((
            position,
            body["queueTicket"].as_str().expect("ticket").to_owned(),
        ));
    }
    assert_eq!(positions, (0..1000).collect::<HashSet<u64>>());

    // Joining again keeps the place.
    let token_7 = app.token_for(&wallet(7), Role::User);
    let again = post(&app, &path, &token_7, json!({}), &[]).await;
    let first = tickets
        .iter()
        .find(|(_, t)| {
            let claims: Value = SignedToken::new(ADMISSION_SECRET.as_bytes(), "queue-ticket")
                .verify(t)
                .expect("our ticket");
            claims["w"]
                .as_str()
                .is_some_and(|w| w.eq_ignore_ascii_case(&wallet(7)))
        })
        .expect("wallet 7 joined");
    assert_eq!(again.body["position"], first.0, "{}", again.body);

    // Poll from the back of the line to the front: the cursor only grows, so once a place is
    // admitted every place before it must be too.
    tickets.sort();
    let status_path = format!("/v1/sales/{}/queue/status", event.id);
    let before = now_ms();
    let mut admitted_from_front = None;
    for (position, ticket) in tickets.iter().rev().step_by(7) {
        let reply = get(&app, &status_path, None, &[("x-queue-ticket", ticket)]).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let admitted = reply.body["admitted"].as_bool().expect("admitted");
        match admitted_from_front {
            Some(_) => assert!(
                admitted,
                "place {position} not admitted after a later one was"
            ),
            None if admitted => admitted_from_front = Some(*position),
            None => {
                assert!(reply.body["ahead"].is_u64(), "{}", reply.body);
                assert!(reply.body["admissionToken"].is_null());
            }
        }
    }
    let after = now_ms();
    // 600 a minute since `started`: the boundary lies between the cursor at the first and
    // the last poll.
    let cursor = |t: i64| ((t - started) as f64 / 100.0).floor() as u64;
    let boundary = admitted_from_front.expect("some places are admitted");
    assert!(
        boundary + 7 >= cursor(before) && boundary < cursor(after) + 1,
        "boundary {boundary}, cursor {}..{}",
        cursor(before),
        cursor(after)
    );

    // Place 0's admission token opens holds for its wallet, and only for it.
    let (_, front_ticket) = &tickets[0];
    let front = get(
        &app,
        &status_path,
        None,
        &[("x-queue-ticket", front_ticket)],
    )
    .await;
    let admission = front.body["admissionToken"]
        .as_str()
        .expect("admitted")
        .to_owned();
    let claims: Value = SignedToken::new(ADMISSION_SECRET.as_bytes(), "queue-ticket")
        .verify(front_ticket)
        .expect("ticket");
    let front_wallet = claims["w"].as_str().expect("wallet").to_owned();
    let token = app.token_for(&front_wallet, Role::User);
    let want = json!({"eventId": event.id, "seats": [seat(0)]});
    hold(&app, &token, want.clone(), None)
        .await
        .assert_error(403, "ADMISSION_REQUIRED", None);
    let forged = SignedToken::new(b"not-the-secret-key-0123456789abcdef", "admission")
        .sign(&json!({"e": event.id, "w": front_wallet, "x": now_ms() + 60_000}));
    hold(&app, &token, want.clone(), Some(&forged))
        .await
        .assert_error(403, "ADMISSION_INVALID", None);
    let expired = SignedToken::new(ADMISSION_SECRET.as_bytes(), "admission")
        .sign(&json!({"e": event.id, "w": front_wallet, "x": now_ms() - 1}));
    hold(&app, &token, want.clone(), Some(&expired))
        .await
        .assert_error(403, "ADMISSION_EXPIRED", None);
    // A queue ticket is not an admission token.
    hold(&app, &token, want.clone(), Some(front_ticket))
        .await
        .assert_error(403, "ADMISSION_INVALID", None);
    let other = app.token_for(&wallet(999_999), Role::User);
    hold(&app, &other, want.clone(), Some(&admission))
        .await
        .assert_error(403, "ADMISSION_INVALID", None);
    let held = hold(&app, &token, want, Some(&admission)).await;
    assert_eq!(held.status, 201, "{}", held.body);

    // Forged queue tickets are refused too.
    let forged_ticket = SignedToken::new(b"not-the-secret-key-0123456789abcdef", "queue-ticket")
        .sign(&json!({"e": event.id, "w": front_wallet, "p": 0, "j": 0}));
    get(
        &app,
        &status_path,
        None,
        &[("x-queue-ticket", &forged_ticket)],
    )
    .await
    .assert_error(403, "QUEUE_TICKET_INVALID", None);

    // The deny list stops a wallet at the door.
    let admin = app.token_for(ADMIN, Role::Admin);
    let denied = wallet(5_000);
    let put = app
        .send(
            Method::PUT,
            &format!("/v1/admin/deny-list/{denied}"),
            Some(&admin),
            Some(json!({"reason": "bot"})),
            &[],
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    post(
        &app,
        &path,
        &app.token_for(&denied, Role::User),
        json!({}),
        &[],
    )
    .await
    .assert_error(403, "WALLET_DENIED", None);
}

/// Random mode: arrivals before the start have no place until the start; then their places
/// are a permutation of 0..n drawn once (the same on every poll).
async fn random_draw(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let starts = now_ms() + 4_000;
    let event = published_event(
        &app,
        5,
        Some(sale_settings(starts, json!({"queueMode": "random"}))),
    )
    .await;
    let path = format!("/v1/sales/{}/queue", event.id);
    let mut tickets = Vec::new();
    for n in 0..40 {
        let reply = post(
            &app,
            &path,
            &app.token_for(&wallet(n), Role::User),
            json!({}),
            &[],
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.body["position"].is_null(), "{}", reply.body);
        tickets.push(
            reply.body["queueTicket"]
                .as_str()
                .expect("ticket")
                .to_owned(),
        );
    }
    assert!(now_ms() < starts, "joins took too long for this test");
    tokio::time::sleep(Duration::from_millis(
        (starts - now_ms() + 200).max(0) as u64
    ))
    .await;
    let status_path = format!("/v1/sales/{}/queue/status", event.id);
    let mut drawn = Vec::new();
    for ticket in &tickets {
        let first = get(&app, &status_path, None, &[("x-queue-ticket", ticket)]).await;
        let second = get(&app, &status_path, None, &[("x-queue-ticket", ticket)]).await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert_eq!(first.body["position"], second.body["position"]);
        drawn.push(first.body["position"].as_u64().expect("drawn place"));
    }
    let mut sorted = drawn.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..40).collect::<Vec<u64>>());
    assert_ne!(
        drawn,
        (0..40).collect::<Vec<u64>>(),
        "the draw kept arrival order"
    );
}

/// Orders with `Idempotency-Key`, card payment through a Stripe-signed webhook, replays,
/// bad signatures, a failed payment, refund to the waitlist, and reconcile after drift.
async fn orders_and_payments(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let event = published_event(
        &app,
        10,
        Some(sale_settings(
            now_ms() - 1_000,
            json!({"waitingRoom": false}),
        )),
    )
    .await;
    let buyer = wallet(1);
    let token = app.token_for(&buyer, Role::User);
    let held = hold(
        &app,
        &token,
        json!({"eventId": event.id, "seats": [seat(0), seat(1)]}),
        None,
    )
    .await;
    assert_eq!(held.status, 201, "{}", held.body);
    let hold_id = held.body["holdId"].as_str().expect("hold").to_owned();

    post(&app, "/v1/orders", &token, json!({"holdId": hold_id}), &[])
        .await
        .assert_error(400, "IDEMPOTENCY_KEY_REQUIRED", None);

    // 20 concurrent requests with one key: one order; the rest wait (409) or replay it.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let request = app
            .request(Method::POST, "/v1/orders")
            .bearer_auth(&token)
            .header("idempotency-key", "key-1")
            .json(&json!({"holdId": hold_id}));
        tasks.push(tokio::spawn(async move {
            let response = request.send().await.expect("order");
            let status = response.status().as_u16();
            let retry = response.headers().get("retry-after").is_some();
            (
                status,
                retry,
                response.json::<Value>().await.unwrap_or_default(),
            )
        }));
    }
    let mut created = Vec::new();
    for task in tasks {
        let (status, retry, body) = task.await.expect("task");
        match status {
            201 => created.push(body),
            409 => {
                assert_eq!(body["error_code"], "IDEMPOTENCY_IN_FLIGHT", "{body}");
                assert!(retry, "409 without Retry-After");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(!created.is_empty());
    assert!(created.iter().all(|b| b == &created[0]), "replays differ");
    let placed = &created[0];
    assert_eq!(placed["status"], "pending_payment");
    assert_eq!(placed["total"], "10000");
    let replay = order(&app, &token, &hold_id, "key-1", None).await;
    assert_eq!(replay.status, 201);
    assert_eq!(&replay.body, placed);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let mine = get(&app, "/v1/me/orders", Some(&token), &[]).await;
    assert_eq!(mine.body["total"], 1, "{}", mine.body);
    let other_hold = hold(
        &app,
        &token,
        json!({"eventId": event.id, "seats": [seat(2)]}),
        None,
    )
    .await;
    let other_hold = other_hold.body["holdId"].as_str().expect("hold").to_owned();
    order(&app, &token, &other_hold, "key-1", None)
        .await
        .assert_error(422, "IDEMPOTENCY_KEY_REUSED", None);
    // An ordered hold cannot be released by hand.
    app.send(
        Method::DELETE,
        &format!("/v1/holds/{hold_id}"),
        Some(&token),
        None,
        &[],
    )
    .await
    .assert_error(409, "HOLD_ORDERED", None);

    // Webhooks: bad signature and stale timestamp are refused; a valid one pays once.
    let payload = payment_event("evt_paid_1", "payment_intent.succeeded", placed, None);
    let wrong = stripe_delivery(&payload, now_ms() / 1000, "whsec_some_other_endpoint").await;
    webhook(&app, &payload, &wrong)
        .await
        .assert_error(400, "STRIPE_SIGNATURE_INVALID", None);
    let stale = stripe_delivery(&payload, now_ms() / 1000 - 600, STRIPE_WEBHOOK_SECRET).await;
    webhook(&app, &payload, &stale)
        .await
        .assert_error(400, "STRIPE_TIMESTAMP_STALE", None);
    let signature = stripe_delivery(&payload, now_ms() / 1000, STRIPE_WEBHOOK_SECRET).await;
    let paid = webhook(&app, &payload, &signature).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["outcome"], "paid");
    let replayed = webhook(&app, &payload, &signature).await;
    assert_eq!(replayed.body["outcome"], "paid", "{}", replayed.body);
    let order_id = placed["orderId"].as_str().expect("order id");
    let read = get(&app, &format!("/v1/orders/{order_id}"), Some(&token), &[]).await;
    assert_eq!(read.body["status"], "paid", "{}", read.body);
    let tickets = get(&app, "/v1/me/tickets", Some(&token), &[]).await;
    assert_eq!(tickets.body["total"], 2, "{}", tickets.body);
    let seats: HashSet<&str> = tickets.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| {
            assert_eq!(t["status"], "valid");
            assert!(t["serial"].is_string());
            t["seatLabel"].as_str().expect("seat")
        })
        .collect();
    assert_eq!(seats, HashSet::from([seat(0).as_str(), seat(1).as_str()]));
    let availability = get(
        &app,
        &format!("/v1/events/{}/availability", event.id),
        None,
        &[],
    )
    .await;
    assert_eq!(
        availability.body["seats"]["sold"], 2,
        "{}",
        availability.body
    );

    // A failed payment ends the order and frees its seat.
    let failing = order(&app, &token, &other_hold, "key-2", None).await;
    assert_eq!(failing.status, 201, "{}", failing.body);
    let payload = payment_event(
        "evt_failed_1",
        "payment_intent.payment_failed",
        &failing.body,
        None,
    );
    let signature = stripe_delivery(&payload, now_ms() / 1000, STRIPE_WEBHOOK_SECRET).await;
    assert_eq!(
        webhook(&app, &payload, &signature).await.body["outcome"],
        "failed"
    );
    let failed_id = failing.body["orderId"].as_str().expect("id");
    let read = get(&app, &format!("/v1/orders/{failed_id}"), Some(&token), &[]).await;
    assert_eq!(read.body["status"], "failed");
    let again = hold(
        &app,
        &app.token_for(&wallet(2), Role::User),
        json!({"eventId": event.id, "seats": [seat(2)]}),
        None,
    )
    .await;
    assert_eq!(
        again.status, 201,
        "the failed order's seat is free again: {}",
        again.body
    );

    // Refund → tickets revoked → the waitlisted wallet gets the seats reserved → buys them.
    let waiting = wallet(3);
    let waiting_token = app.token_for(&waiting, Role::User);
    let joined = post(
        &app,
        &format!("/v1/events/{}/waitlist", event.id),
        &waiting_token,
        json!({}),
        &[],
    )
    .await;
    assert_eq!(joined.status, 201, "{}", joined.body);
    let organizer = app.token_for(ORGANIZER, Role::Organizer);
    let refunded = post(
        &app,
        &format!("/v1/orders/{order_id}/refund"),
        &organizer,
        json!({}),
        &[],
    )
    .await;
    assert_eq!(refunded.status, 200, "{}", refunded.body);
    assert_eq!(refunded.body["refund"]["method"], "card");
    assert_eq!(refunded.body["refund"]["paymentIntent"], "pi_paid_1");
    let tickets = get(&app, "/v1/me/tickets", Some(&token), &[]).await;
    assert!(
        tickets.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|t| t["status"] == "revoked")
    );
    let offer = get(
        &app,
        &format!("/v1/events/{}/waitlist", event.id),
        Some(&waiting_token),
        &[],
    )
    .await;
    let offered_hold = offer.body["offer"]["holdId"]
        .as_str()
        .unwrap_or_else(|| panic!("no offer: {}", offer.body))
        .to_owned();
    // Nobody else can take the reserved seats meanwhile.
    hold(
        &app,
        &token,
        json!({"eventId": event.id, "seats": [seat(0)]}),
        None,
    )
    .await
    .assert_error(409, "SEATS_UNAVAILABLE", None);
    let second = order(&app, &waiting_token, &offered_hold, "w-1", None).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(
        pay_by_card(&app, &second.body, "evt_paid_2").await.body["outcome"],
        "paid"
    );
    let theirs = get(&app, "/v1/me/tickets", Some(&waiting_token), &[]).await;
    let labels: Vec<&str> = theirs.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|t| t["status"] == "valid")
        .filter_map(|t| t["seatLabel"].as_str())
        .collect();
    assert_eq!(labels.len(), 1, "{}", theirs.body);
    assert!([seat(0), seat(1)].iter().any(|s| s == labels[0]));

    // Drift: Redis forgets a sold seat; the scheduled reconcile finds and repairs it.
    let sold_seat = labels[0].to_owned();
    let redis = stack.redis();
    let seats_key = redis_key(&stack, &event.id, "seats").await;
    shared::ports::Redis::exec(
        &redis,
        shared::redis::Command::new("HDEL")
            .arg(&seats_key)
            .arg(&sold_seat),
    )
    .await
    .expect("hdel");
    let cron = app.trigger_cron_http().await;
    let report: Value = cron.json().await.expect("report");
    let drift = report["sales"]["drift"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        drift
            .iter()
            .any(|d| d["eventId"] == event.id.as_str()
                && d["seats"].to_string().contains(&sold_seat)),
        "{report}"
    );
    if app.runtime == Runtime::Wasmtime {
        // Every Spin request flushes its metrics after the response: the drift is counted.
        let mut metrics = String::new();
        for _ in 0..30 {
            metrics = app.get("/metrics").await.text().await.unwrap_or_default();
            if metrics.contains("inventory_drift_total{kind=\"seats\"} 1\n") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(
            metrics.contains("inventory_drift_total{kind=\"seats\"} 1\n"),
            "{metrics}"
        );
    }
    hold(
        &app,
        &token,
        json!({"eventId": event.id, "seats": [sold_seat]}),
        None,
    )
    .await
    .assert_error(409, "SEATS_UNAVAILABLE", None);
}

/// The Redis key of an inventory part, found by pattern (the app's prefix is its own).
async fn redis_key(stack: &Stack, event_id: &str, part: &str) -> String {
    let redis = stack.redis();
    let keys = shared::ports::Redis::exec(
        &redis,
        shared::redis::Command::new("KEYS").arg(format!("*inv:{{{event_id}}}:{part}")),
    )
    .await
    .expect("keys");
    match keys {
        shared::redis::Value::Array(items) => items[0].as_str().expect("key").to_owned(),
        other => panic!("{other:?}"),
    }
}

/// libSQL failing while an order is written: 503, the hold is intact, and a retry with the
/// same key creates exactly one order.
async fn libsql_down_during_order(runtime: Runtime) {
    let stack = Stack::start().await;
    let proxy = Proxy::start(&stack.libsql_url).await;
    let mut overrides = OVERRIDES.to_vec();
    overrides.push(("LIBSQL_URL", proxy.url.as_str()));
    let app = App::spawn(runtime, &stack, &overrides).await;
    let event = published_event(&app, 5, None).await;
    let token = app.token_for(&wallet(1), Role::User);
    let held = hold(
        &app,
        &token,
        json!({"eventId": event.id, "seats": [seat(0)]}),
        None,
    )
    .await;
    let hold_id = held.body["holdId"].as_str().expect("hold").to_owned();
    proxy.set(Mode::Down);
    order(&app, &token, &hold_id, "k", None)
        .await
        .assert_error(503, "LIBSQL_UNAVAILABLE", None);
    proxy.set(Mode::Pass);
    let placed = order(&app, &token, &hold_id, "k", None).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(
        order(&app, &token, &hold_id, "k", None).await.body,
        placed.body
    );
    let mine = get(&app, "/v1/me/orders", Some(&token), &[]).await;
    assert_eq!(mine.body["total"], 1, "{}", mine.body);
    // The hold was never lost: nobody else could take the seat.
    hold(
        &app,
        &app.token_for(&wallet(2), Role::User),
        json!({"eventId": event.id, "seats": [seat(0)]}),
        None,
    )
    .await
    .assert_error(409, "SEATS_UNAVAILABLE", None);
}

/// The pause switch: joins, holds and orders get 503 `SALES_PAUSED`; every switch is audited.
async fn pause_switch(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let event = published_event(&app, 5, Some(sale_settings(now_ms() - 1_000, json!({})))).await;
    let admin = app.token_for(ADMIN, Role::Admin);
    let user = app.token_for(&wallet(1), Role::User);
    let paused = post(
        &app,
        "/v1/admin/sales/pause",
        &admin,
        json!({"eventId": event.id, "reason": "incident"}),
        &[],
    )
    .await;
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert_eq!(paused.body["paused"][0]["scope"], event.id.as_str());
    post(
        &app,
        &format!("/v1/sales/{}/queue", event.id),
        &user,
        json!({}),
        &[],
    )
    .await
    .assert_error(503, "SALES_PAUSED", None);
    hold(
        &app,
        &user,
        json!({"eventId": event.id, "seats": [seat(0)]}),
        None,
    )
    .await
    .assert_error(503, "SALES_PAUSED", None);
    let resumed = post(
        &app,
        "/v1/admin/sales/resume",
        &admin,
        json!({"eventId": event.id}),
        &[],
    )
    .await;
    assert_eq!(resumed.body["paused"], json!([]), "{}", resumed.body);
    let joined = post(
        &app,
        &format!("/v1/sales/{}/queue", event.id),
        &user,
        json!({}),
        &[],
    )
    .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    post(&app, "/v1/admin/sales/pause", &user, json!({}), &[])
        .await
        .assert_error(403, "FORBIDDEN_ROLE", None);
    let audit = get(&app, "/v1/admin/audit", Some(&admin), &[]).await;
    assert!(
        audit.body.to_string().contains("sale.pause"),
        "{}",
        audit.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_waiting_room_admits_in_order() {
    waiting_room(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_waiting_room_admits_in_order() {
    waiting_room(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_random_mode_draws_places_at_the_start() {
    random_draw(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_orders_payments_refunds_and_reconcile() {
    orders_and_payments(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_orders_payments_refunds_and_reconcile() {
    orders_and_payments(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_libsql_down_during_an_order_keeps_the_hold() {
    libsql_down_during_order(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_libsql_down_during_an_order_keeps_the_hold() {
    libsql_down_during_order(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_pause_switch_stops_the_sale() {
    pause_switch(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_pause_switch_stops_the_sale() {
    pause_switch(Runtime::Wasmtime).await;
}
