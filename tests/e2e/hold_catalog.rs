//! A hold decides from the sale's catalog snapshot in Redis. These tests hold it to what
//! libSQL says: a change to the catalog, the sale settings or the pause switch is seen by the
//! very next hold, and a Redis loss mid-sale (FLUSHALL) is rebuilt from libSQL without selling
//! anything twice.

use e2e::catalog::{EventSpec, ORGANIZER, publish_event, seat};
use e2e::payments::buy_seats;
use e2e::{App, Reply, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;

const ADMIN: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const BUYER: &str = "0x0000000000000000000000000000000000005001";
const OVERRIDES: &[(&str, &str)] = &[("RATE_LIMIT_WRITE", "100000:100000")];

async fn hold(app: &App, token: &str, body: Value) -> Reply {
    app.send(Method::POST, "/v1/holds", Some(token), Some(body), &[])
        .await
}

/// A new price (a seat moved to a new type), a pause of the event and of every sale, and a
/// sale window moved into the future: each is seen by the next hold.
async fn catalog_changes_reach_the_next_hold(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let event = publish_event(&app, &EventSpec::new(4, 0)).await;
    let buyer = app.token_for(BUYER, Role::User);
    let organizer = app.token_for(ORGANIZER, Role::Organizer);
    let admin = app.token_for(ADMIN, Role::Admin);
    let first = hold(
        &app,
        &buyer,
        json!({"eventId": event.id, "seats": [seat(0)]}),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(
        first.body["priceSnapshot"]["total"], "5000",
        "{}",
        first.body
    );

    // The organizer adds a VIP type at 9000 and moves seat 1 to it.
    let vip = app
        .send(
            Method::POST,
            &format!("/v1/events/{}/ticket-types", event.id),
            Some(&organizer),
            Some(json!({"name": "VIP", "price": "9000", "currency": "USD", "supply": 1})),
            &[],
        )
        .await;
    assert_eq!(vip.status, 201, "{}", vip.body);
    let vip_id = vip.body["id"].as_str().expect("id");
    let map: Vec<Value> = (0..4)
        .map(|n| {
            let tt = if n == 1 { vip_id } else { event.seated() };
            json!({"label": seat(n), "ticketTypeId": tt})
        })
        .collect();
    let put = app
        .send(
            Method::PUT,
            &format!("/v1/events/{}/seats", event.id),
            Some(&organizer),
            Some(json!({ "seats": map })),
            &[],
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let second = hold(
        &app,
        &buyer,
        json!({"eventId": event.id, "seats": [seat(1)]}),
    )
    .await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(
        second.body["priceSnapshot"]["total"], "9000",
        "{}",
        second.body
    );
    assert_eq!(
        second.body["items"][0]["ticketTypeId"], vip_id,
        "{}",
        second.body
    );

    // The pause switch, for this event and for every sale.
    let switch = |path: &'static str, body: Value| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let reply = app
                .send(Method::POST, path, Some(&admin), Some(body), &[])
                .await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        }
    };
    let want = json!({"eventId": event.id, "seats": [seat(2)]});
    switch("/v1/admin/sales/pause", json!({"eventId": event.id})).await;
    hold(&app, &buyer, want.clone())
        .await
        .assert_error(503, "SALES_PAUSED", None);
    switch("/v1/admin/sales/resume", json!({"eventId": event.id})).await;
    switch("/v1/admin/sales/pause", json!({})).await;
    hold(&app, &buyer, want.clone())
        .await
        .assert_error(503, "SALES_PAUSED", None);
    switch("/v1/admin/sales/resume", json!({})).await;

    // A sale window that starts in an hour.
    let later = e2e::payments::now_ms() + 3_600_000;
    let sale = app
        .send(
            Method::PUT,
            &format!("/v1/events/{}/sale", event.id),
            Some(&organizer),
            Some(json!({"startsAt": later, "endsAt": later + 3_600_000,
                        "admissionPerMinute": 600, "maxActive": 1000, "sessionSecs": 600,
                        "waitingRoom": false})),
            &[],
        )
        .await;
    assert_eq!(sale.status, 200, "{}", sale.body);
    hold(&app, &buyer, want.clone())
        .await
        .assert_error(409, "SALE_NOT_STARTED", None);
}

/// Redis loses everything mid-sale: the next holds rebuild the catalog and the inventory from
/// libSQL, the sold seat stays sold, and a free seat is held exactly once under contention.
async fn redis_loss_mid_sale_is_rebuilt_from_libsql(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let event = publish_event(&app, &EventSpec::new(4, 0)).await;
    buy_seats(&app, &event.id, BUYER, &[seat(0)]).await;
    let flushed = tokio::process::Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &stack.redis_port().to_string(),
            "FLUSHALL",
        ])
        .output()
        .await
        .expect("redis-cli runs");
    assert!(flushed.status.success());

    let token = app.token_for("0x0000000000000000000000000000000000005002", Role::User);
    hold(
        &app,
        &token,
        json!({"eventId": event.id, "seats": [seat(0)]}),
    )
    .await
    .assert_error(409, "SEATS_UNAVAILABLE", None);
    let mut tasks = Vec::new();
    for n in 0..20 {
        let request = app
            .request(Method::POST, "/v1/holds")
            .bearer_auth(app.token_for(&format!("0x{:040x}", 0x6000 + n), Role::User))
            .json(&json!({"eventId": event.id, "seats": [seat(1)]}));
        tasks.push(tokio::spawn(async move {
            request.send().await.expect("hold").status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    let counts = e2e::catalog::availability(&app, &event.id).await;
    assert_eq!(counts["seats"]["sold"], 1, "{counts}");
    assert_eq!(counts["seats"]["held"], 1, "{counts}");
}

/// Prices beyond 2^53 (wei) are added and multiplied exactly by the hold script's decimal
/// arithmetic: the snapshot the order will charge is what the catalog says, to the last digit.
async fn big_prices_are_exact(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let spec = EventSpec {
        ga_price: "123456789012345678901234567890",
        seat_price: "999999999999999999",
        currency: "ETH",
        ..EventSpec::new(3, 10)
    };
    let event = publish_event(&app, &spec).await;
    let token = app.token_for(BUYER, Role::User);
    let ga = hold(
        &app,
        &token,
        json!({"eventId": event.id, "ticketTypeId": event.ga(), "quantity": 3}),
    )
    .await;
    assert_eq!(ga.status, 201, "{}", ga.body);
    assert_eq!(
        ga.body["priceSnapshot"],
        json!({"total": "370370367037037036703703703670", "currency": "ETH"})
    );
    assert_eq!(
        ga.body["items"][0]["price"],
        "123456789012345678901234567890"
    );
    let seats = hold(
        &app,
        &token,
        json!({"eventId": event.id, "seats": [seat(0), seat(1), seat(2)]}),
    )
    .await;
    assert_eq!(seats.status, 201, "{}", seats.body);
    assert_eq!(seats.body["priceSnapshot"]["total"], "2999999999999999997");
    assert_eq!(seats.body["items"][2]["seatLabel"], seat(2));
    assert!(seats.body["items"][0]["seatLabel"].is_string());
    assert!(ga.body["items"][0]["seatLabel"].is_null(), "{}", ga.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_big_prices_are_exact() {
    big_prices_are_exact(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_big_prices_are_exact() {
    big_prices_are_exact(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_catalog_changes_reach_the_next_hold() {
    catalog_changes_reach_the_next_hold(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_catalog_changes_reach_the_next_hold() {
    catalog_changes_reach_the_next_hold(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_redis_loss_mid_sale_is_rebuilt_from_libsql() {
    redis_loss_mid_sale_is_rebuilt_from_libsql(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_redis_loss_mid_sale_is_rebuilt_from_libsql() {
    redis_loss_mid_sale_is_rebuilt_from_libsql(Runtime::Wasmtime).await;
}
