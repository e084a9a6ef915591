//! Holds on the release Wasm: no oversell under 1,000 concurrent requests (seat lists and
//! general-admission quantities mixed), per-wallet limits under concurrency, release and
//! re-hold, and Redis failing in the middle of a hold.

use e2e::catalog::{
    EventSpec, PublishedEvent, availability, hold_burst, publish_event, seat, type_counts,
};
use e2e::proxy::{Mode, Proxy};
use e2e::{App, Reply, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use std::collections::HashSet;
use std::time::Duration;

/// Room for the 1,000-request burst from one IP.
const OVERRIDES: &[(&str, &str)] = &[("RATE_LIMIT_WRITE", "100000:100000")];

/// A distinct test wallet per number.
fn wallet(n: usize) -> String {
    format!("0x{:040x}", n + 1)
}

/// A published event with `seats` seats and `ga_supply` GA units, both limited to `limit`
/// per wallet.
async fn published_event(app: &App, seats: usize, ga_supply: u32, limit: u32) -> PublishedEvent {
    let spec = EventSpec {
        per_wallet_limit: Some(limit),
        ..EventSpec::new(seats, ga_supply)
    };
    publish_event(app, &spec).await
}

async fn hold(app: &App, token: &str, body: Value) -> Reply {
    app.send(Method::POST, "/v1/holds", Some(token), Some(body), &[])
        .await
}

/// 1,000 concurrent holds from 1,000 wallets for 100 seats and 50 GA units: every seat is
/// held exactly once, GA never oversells, and availability agrees with the replies.
async fn no_oversell(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let event = published_event(&app, 100, 50, 4).await;
    let requests: Vec<(String, Value)> = (0..1000)
        .map(|i| {
            let body = match i % 4 {
                // Every seat has single-seat requests, so every seat ends up held.
                0 => json!({"eventId": event.id, "seats": [seat(i / 4 % 100)]}),
                1 => json!({"eventId": event.id, "seats": [seat(i * 7 % 100), seat((i * 7 + 1) % 100)]}),
                2 => json!({"eventId": event.id, "seats": [
                    seat(i * 13 % 100), seat((i * 13 + 5) % 100), seat((i * 13 + 50) % 100)]}),
                _ => json!({"eventId": event.id, "ticketTypeId": event.ga(), "quantity": 1 + i / 4 % 2}),
            };
            (app.token_for(&wallet(i), Role::User), body)
        })
        .collect();
    let replies = hold_burst(&app, requests).await;

    let mut seats_held = HashSet::new();
    let mut ga_held = 0;
    let mut hold_ids = HashSet::new();
    for (status, body) in &replies {
        match status {
            201 => {
                assert!(hold_ids.insert(body["holdId"].as_str().expect("holdId").to_owned()));
                for item in body["items"].as_array().expect("items") {
                    match item["seatLabel"].as_str() {
                        Some(label) => assert!(
                            seats_held.insert(label.to_owned()),
                            "{label} was held twice"
                        ),
                        None => ga_held += item["quantity"].as_i64().expect("quantity"),
                    }
                }
            }
            409 => assert!(
                ["SEATS_UNAVAILABLE", "SOLD_OUT"]
                    .contains(&body["error_code"].as_str().unwrap_or("")),
                "{body}"
            ),
            _ => panic!("unexpected {status}: {body}"),
        }
    }
    assert_eq!(seats_held.len(), 100, "every seat is held exactly once");
    assert!(ga_held <= 50, "GA oversold: {ga_held}");

    let counts = availability(&app, &event.id).await;
    assert_eq!(
        type_counts(&counts, event.seated()),
        (100, 0, 0),
        "{counts}"
    );
    assert_eq!(
        type_counts(&counts, event.ga()),
        (ga_held, 0, 50 - ga_held),
        "{counts}"
    );
    assert_eq!(
        counts["seats"],
        json!({"total": 100, "free": 0, "held": 100, "sold": 0})
    );
    // A conflict names the seats.
    let late = hold(
        &app,
        &app.token_for(&wallet(5000), Role::User),
        json!({"eventId": event.id, "seats": [seat(7), seat(8)]}),
    )
    .await;
    late.assert_error(409, "SEATS_UNAVAILABLE", None);
    assert_eq!(
        late.body["unavailable"],
        json!(["S-007", "S-008"]),
        "{}",
        late.body
    );
    let message = late.body["message"].as_str().expect("message");
    assert!(message.contains("S-007, S-008"), "{message}");
}

/// One wallet, 20 concurrent requests, limit 4 per type: exactly 4 seats and 4 GA units held,
/// the rest refused with 422.
async fn wallet_limit_under_concurrency(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let event = published_event(&app, 30, 100, 4).await;
    let token = app.token_for(&wallet(1), Role::User);
    let requests = (0..20)
        .map(|i| {
            let body = if i % 2 == 0 {
                json!({"eventId": event.id, "seats": [seat(i)]})
            } else {
                json!({"eventId": event.id, "ticketTypeId": event.ga(), "quantity": 1})
            };
            (token.clone(), body)
        })
        .collect();
    let replies = hold_burst(&app, requests).await;
    let created = replies.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 8, "{replies:?}");
    for (status, body) in replies.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 422, "{body}");
        assert_eq!(body["error_code"], "WALLET_LIMIT_EXCEEDED", "{body}");
    }
    let counts = availability(&app, &event.id).await;
    assert_eq!(type_counts(&counts, event.seated()).0, 4, "{counts}");
    assert_eq!(type_counts(&counts, event.ga()).0, 4, "{counts}");
    // A quantity above the limit is refused outright.
    let other = app.token_for(&wallet(2), Role::User);
    hold(
        &app,
        &other,
        json!({"eventId": event.id, "ticketTypeId": event.ga(), "quantity": 5}),
    )
    .await
    .assert_error(422, "WALLET_LIMIT_EXCEEDED", None);
}

/// Release by the owner only; released seats can be held again; bad input is refused.
async fn release_and_hold_again(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let event = published_event(&app, 10, 5, 4).await;
    let a = app.token_for(&wallet(1), Role::User);
    let b = app.token_for(&wallet(2), Role::User);

    let held = hold(
        &app,
        &a,
        json!({"eventId": event.id, "seats": [seat(1), seat(2)]}),
    )
    .await;
    assert_eq!(held.status, 201, "{}", held.body);
    let id = held.body["holdId"].as_str().expect("holdId").to_owned();
    assert_eq!(
        held.header("location"),
        Some(format!("/v1/holds/{id}").as_str())
    );
    assert_eq!(
        held.body["priceSnapshot"],
        json!({"total": "10000", "currency": "USD"})
    );
    assert_eq!(
        held.body["items"][0],
        json!({"ticketTypeId": event.seated(), "seatLabel": seat(1), "quantity": 1,
               "price": "5000", "currency": "USD"})
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let expires = held.body["expiresAt"].as_i64().expect("expiresAt");
    assert!(
        (expires - now - 120_000).abs() < 10_000,
        "{expires} vs {now}"
    );

    hold(
        &app,
        &b,
        json!({"eventId": event.id, "seats": [seat(2), seat(3)]}),
    )
    .await
    .assert_error(409, "SEATS_UNAVAILABLE", None);
    let path = format!("/v1/holds/{id}");
    app.send(Method::DELETE, &path, Some(&b), None, &[])
        .await
        .assert_error(403, "HOLD_NOT_OWNER", None);
    let released = app.send(Method::DELETE, &path, Some(&a), None, &[]).await;
    assert_eq!(released.status, 200, "{}", released.body);
    app.send(Method::DELETE, &path, Some(&a), None, &[])
        .await
        .assert_error(404, "HOLD_NOT_FOUND", None);
    app.send(Method::DELETE, "/v1/holds/nope", Some(&a), None, &[])
        .await
        .assert_error(404, "HOLD_NOT_FOUND", None);
    let counts = availability(&app, &event.id).await;
    assert_eq!(counts["seats"]["held"], 0, "{counts}");

    let again = hold(
        &app,
        &b,
        json!({"eventId": event.id, "seats": [seat(2), seat(3)]}),
    )
    .await;
    assert_eq!(again.status, 201, "{}", again.body);

    // GA stock and its shortage.
    let ga = hold(
        &app,
        &a,
        json!({"eventId": event.id, "ticketTypeId": event.ga(), "quantity": 4}),
    )
    .await;
    assert_eq!(ga.status, 201, "{}", ga.body);
    hold(
        &app,
        &b,
        json!({"eventId": event.id, "ticketTypeId": event.ga(), "quantity": 2}),
    )
    .await
    .assert_error(409, "SOLD_OUT", None);

    // Bad input and unknown things.
    hold(
        &app,
        &a,
        json!({"eventId": event.id, "seats": [seat(4), "Z-9"]}),
    )
    .await
    .assert_error(400, "VALIDATION_FAILED", Some("seats[1]"));
    hold(
        &app,
        &a,
        json!({"eventId": event.id, "ticketTypeId": event.seated(), "quantity": 1}),
    )
    .await
    .assert_error(400, "VALIDATION_FAILED", Some("ticketTypeId"));
    hold(
        &app,
        &a,
        json!({"eventId": "evt_00000000000000000000", "seats": [seat(4)]}),
    )
    .await
    .assert_error(404, "EVENT_NOT_FOUND", None);
    app.send(Method::POST, "/v1/holds", None, Some(json!({})), &[])
        .await
        .assert_error(401, "AUTH_TOKEN_MISSING", None);
}

/// Redis failing during a hold: 503 `REDIS_UNAVAILABLE` and nothing held.
async fn redis_down_holds_nothing(runtime: Runtime) {
    let stack = Stack::start().await;
    let proxy = Proxy::start(&stack.upstash_url).await;
    let mut overrides = OVERRIDES.to_vec();
    overrides.push(("UPSTASH_REDIS_REST_URL", proxy.url.as_str()));
    let app = App::spawn(runtime, &stack, &overrides).await;
    let event = published_event(&app, 10, 5, 4).await;
    let token = app.token_for(&wallet(1), Role::User);
    let body = json!({"eventId": event.id, "seats": [seat(1)]});
    // Load the inventory first, so the failure below hits the hold script itself.
    assert_eq!(availability(&app, &event.id).await["seats"]["free"], 10);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Redis answers the hold script (EVALSHA: NOSCRIPT, then EVAL: no catalog snapshot yet),
    // then fails while the catalog is loaded.
    proxy.set(Mode::DownAfter(2));
    hold(&app, &token, body.clone())
        .await
        .assert_error(503, "REDIS_UNAVAILABLE", None);
    proxy.set(Mode::Down);
    hold(&app, &token, body.clone())
        .await
        .assert_error(503, "REDIS_UNAVAILABLE", None);
    proxy.set(Mode::Pass);

    let counts = availability(&app, &event.id).await;
    assert_eq!(counts["seats"]["held"], 0, "{counts}");
    let held = hold(&app, &token, body).await;
    assert_eq!(held.status, 201, "{}", held.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_holds_never_oversell() {
    no_oversell(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_holds_never_oversell() {
    no_oversell(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_holds_keep_the_wallet_limit_under_concurrency() {
    wallet_limit_under_concurrency(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_holds_release_and_hold_again() {
    release_and_hold_again(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_holds_release_and_hold_again() {
    release_and_hold_again(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_holds_fail_closed_when_redis_is_down() {
    redis_down_holds_nothing(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_holds_fail_closed_when_redis_is_down() {
    redis_down_holds_nothing(Runtime::Workerd).await;
}
