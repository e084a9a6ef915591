//! Issue 13, item 6: a payment that arrives for an order whose hold lapsed and whose seat
//! another wallet bought meanwhile. The order ends `failed` with one refund record at once and
//! the webhook answers 2xx (Stripe would retry anything else for days); a redelivery of the
//! same event answers the same and writes nothing; the seat stays sold exactly once.
//!
//! A hold lapses by Redis `TIME`. The tests move the hold's expiry into the past in Redis
//! instead of waiting out the shortest payment window (60 s): once with libSQL's deadline
//! still ahead (an edge clock behind Redis's, or a Redis that lost the hold), once with the
//! deadline past too (the plain late payment). The chain variant sends the late payment as a
//! PaymentVault deposit on anvil: the indexer's deposit application fails the order with a
//! refund record and goes on to the next deposit instead of stopping at it.

use crate::indexer::Chain;
use e2e::catalog::{EventSpec, publish_event, seat};
use e2e::payments::{now_ms, pay_by_card, payment_event, stripe_delivery, webhook};
use e2e::{App, Reply, Runtime, STRIPE_WEBHOOK_SECRET, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use shared::ports::{Redis, Sql};
use shared::redis::Command;
use shared::sql::Statement;

const OVERRIDES: &[(&str, &str)] = &[("RATE_LIMIT_WRITE", "100000:100000")];

/// `wallet` holds `seat` and orders it; returns the order's body.
async fn hold_and_order(app: &App, event_id: &str, wallet: &str, seat: &str) -> (String, Value) {
    let token = app.token_for(wallet, Role::User);
    let held = app
        .send(
            Method::POST,
            "/v1/holds",
            Some(&token),
            Some(json!({"eventId": event_id, "seats": [seat]})),
            &[],
        )
        .await;
    assert_eq!(held.status, 201, "hold for {wallet}: {}", held.body);
    let hold_id = held.body["holdId"].as_str().expect("hold id").to_owned();
    let key = format!("order-{wallet}");
    let order = app
        .send(
            Method::POST,
            "/v1/orders",
            Some(&token),
            Some(json!({"holdId": hold_id})),
            &[("idempotency-key", key.as_str())],
        )
        .await;
    assert_eq!(order.status, 201, "order for {wallet}: {}", order.body);
    (hold_id, order.body)
}

/// Lets hold `hold_id` lapse now by Redis's reckoning: its expiry moves into the past, so the
/// next hold script's sweep releases it.
async fn lapse_hold(stack: &Stack, event_id: &str, hold_id: &str) {
    let redis = stack.redis();
    let keys = redis
        .exec(Command::new("KEYS").arg(format!("*inv:{{{event_id}}}:expiry")))
        .await
        .expect("keys");
    let key = match keys {
        shared::redis::Value::Array(items) => items[0].as_str().expect("key").to_owned(),
        other => panic!("{other:?}"),
    };
    let changed = redis
        .exec(
            Command::new("ZADD")
                .arg(&key)
                .arg("XX")
                .arg("CH")
                .arg(1)
                .arg(hold_id),
        )
        .await
        .expect("zadd");
    assert_eq!(changed.as_i64(), Some(1), "hold {hold_id} was not in {key}");
}

async fn count(stack: &Stack, sql: &str, args: &[&str]) -> i64 {
    let statement = args
        .iter()
        .fold(Statement::new(sql), |s, a| s.bind((*a).to_owned()));
    let rows = stack.sql().execute(statement).await.expect("count");
    rows.row(0).expect("row").get::<i64>("n").expect("n")
}

/// The order's stored status (read from libSQL: `GET /v1/orders/{id}` would expire a
/// pending order past its deadline on the spot and hide what the payment did).
async fn stored_status(stack: &Stack, order_id: &str) -> String {
    let rows = stack
        .sql()
        .execute(Statement::new("SELECT status FROM orders WHERE id = ?").bind(order_id))
        .await
        .expect("status");
    rows.row(0)
        .expect("row")
        .get::<String>("status")
        .expect("status")
}

/// Rows a payment writes, summed per order: a redelivery must not add any.
async fn rows_of(stack: &Stack, order_id: &str) -> (i64, i64, i64) {
    (
        count(
            stack,
            "SELECT count(*) AS n FROM refund_records WHERE order_id = ?",
            &[order_id],
        )
        .await,
        count(
            stack,
            "SELECT count(*) AS n FROM payment_events WHERE order_id = ?",
            &[order_id],
        )
        .await,
        count(
            stack,
            "SELECT count(*) AS n FROM tickets WHERE order_id = ?",
            &[order_id],
        )
        .await,
    )
}

/// `first` ordered `label`, its hold lapsed, `second` held, ordered and paid the same seat;
/// now `first`'s card payment arrives (and is delivered again).
async fn late_card_payment(
    app: &App,
    stack: &Stack,
    event_id: &str,
    (first, second): (&str, &str),
    label: &str,
    deadline_past: bool,
) {
    let (hold_id, late) = hold_and_order(app, event_id, first, label).await;
    let late_id = late["orderId"].as_str().expect("order id").to_owned();
    lapse_hold(stack, event_id, &hold_id).await;
    if deadline_past {
        stack
            .sql()
            .execute(
                Statement::new("UPDATE orders SET payment_deadline = ? WHERE id = ?")
                    .bind(now_ms() - 1_000)
                    .bind(late_id.as_str()),
            )
            .await
            .expect("deadline");
    }
    let (_, winner) = hold_and_order(app, event_id, second, label).await;
    let paid = pay_by_card(app, &winner, &format!("evt_win_{label}")).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["outcome"], "paid", "{}", paid.body);

    let payload = payment_event(
        &format!("evt_late_{label}"),
        "payment_intent.succeeded",
        &late,
        None,
    );
    let signature = stripe_delivery(&payload, now_ms() / 1000, STRIPE_WEBHOOK_SECRET).await;
    let answer: Reply = webhook(app, &payload, &signature).await;
    assert_eq!(
        answer.status,
        200,
        "{:?}: the late payment must be acknowledged: {}",
        app.runtime,
        String::from_utf8_lossy(&answer.raw)
    );
    assert_eq!(answer.body["received"], true, "{}", answer.body);
    assert_eq!(stored_status(stack, &late_id).await, "failed");
    let rows = rows_of(stack, &late_id).await;
    assert_eq!(rows, (1, 1, 0), "refund record, event row, no tickets");
    assert_eq!(
        count(
            stack,
            "SELECT count(*) AS n FROM refund_records WHERE order_id = ? AND method = 'card' \
             AND amount = ? AND status = 'open' AND payment_intent = ?",
            &[
                &late_id,
                late["total"].as_str().expect("total"),
                &format!("pi_late_{label}"),
            ],
        )
        .await,
        1
    );
    // The seat is sold once, to the wallet that paid in time.
    assert_eq!(
        count(
            stack,
            "SELECT count(*) AS n FROM tickets WHERE event_id = ? AND seat_label = ? \
             AND status IN ('valid', 'used')",
            &[event_id, label],
        )
        .await,
        1
    );
    assert_eq!(
        count(
            stack,
            "SELECT count(*) AS n FROM tickets WHERE order_id = ? AND seat_label = ?",
            &[winner["orderId"].as_str().expect("id"), label],
        )
        .await,
        1
    );

    // Stripe redelivers the same event: the same answer, no new rows.
    let again = webhook(app, &payload, &signature).await;
    assert_eq!(again.status, 200, "{}", String::from_utf8_lossy(&again.raw));
    assert_eq!(again.body, answer.body);
    assert_eq!(rows_of(stack, &late_id).await, rows);
}

async fn story(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let event = publish_event(&app, &EventSpec::new(3, 10)).await;
    let wallet = |n: u32| format!("0x{:040x}", 0xb000 + n);

    // Redis lapsed the hold while libSQL's deadline is still minutes ahead (the payment is
    // not judged by Redis that far from the deadline: libSQL's seat index tells).
    late_card_payment(
        &app,
        &stack,
        &event.id,
        (&wallet(1), &wallet(2)),
        &seat(0),
        false,
    )
    .await;
    // The deadline passed on every clock (Redis's verdict: lapsed, the seat taken).
    late_card_payment(
        &app,
        &stack,
        &event.id,
        (&wallet(3), &wallet(4)),
        &seat(1),
        true,
    )
    .await;
    // A payment 30 s before its deadline, the hold standing: Redis's clock says in time.
    let (_, near) = hold_and_order(&app, &event.id, &wallet(5), &seat(2)).await;
    let near_id = near["orderId"].as_str().expect("order id");
    stack
        .sql()
        .execute(
            Statement::new("UPDATE orders SET payment_deadline = ? WHERE id = ?")
                .bind(now_ms() + 30_000)
                .bind(near_id),
        )
        .await
        .expect("deadline");
    let paid = pay_by_card(&app, &near, "evt_near").await;
    assert_eq!(paid.body["outcome"], "paid", "{}", paid.body);
    assert_eq!(stored_status(&stack, near_id).await, "paid");

    let availability = app
        .send(
            Method::GET,
            &format!("/v1/events/{}/availability", event.id),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(
        availability.body["seats"]["sold"], 3,
        "{}",
        availability.body
    );
    assert_eq!(
        availability.body["seats"]["held"], 0,
        "{}",
        availability.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_late_card_payment_for_a_retaken_seat_fails_and_refunds() {
    story(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_late_card_payment_for_a_retaken_seat_fails_and_refunds() {
    story(Runtime::Wasmtime).await;
}

/// `first` ordered a seat priced in wei, its hold lapsed, `second` ordered and paid it on
/// chain; then `first`'s deposit arrives (once with the deadline still ahead, once past it),
/// followed by another wallet's deposit for another seat. One indexer catch-up applies them
/// all: a late one fails its order with a refund record (settled, so never applied again),
/// the next one pays.
async fn chain_story(runtime: Runtime) {
    let chain = Chain::start(runtime, OVERRIDES).await;
    let app = &chain.app;
    let spec = EventSpec {
        title: "Chain seats",
        seat_price: "1000",
        currency: "ETH",
        ..EventSpec::new(3, 0)
    };
    let event = publish_event(app, &spec).await;
    let deposit = async |order: &Value| {
        chain
            .deposit(
                order["orderRef"].as_str().expect("ref"),
                order["total"].as_str().expect("total"),
            )
            .await;
    };
    let wallet = |n: u32| format!("0x{:040x}", 0xc000 + n);
    let (hold_id, late) = hold_and_order(app, &event.id, &wallet(1), &seat(0)).await;
    let late_id = late["orderId"].as_str().expect("order id").to_owned();
    lapse_hold(&chain.stack, &event.id, &hold_id).await;
    let (_, winner) = hold_and_order(app, &event.id, &wallet(2), &seat(0)).await;
    deposit(&winner).await;
    chain.catch_up().await;
    let winner_id = winner["orderId"].as_str().expect("order id");
    assert_eq!(stored_status(&chain.stack, winner_id).await, "paid");

    // The same with the deadline past on every clock (judged by Redis's). Its winner's deposit
    // and its own are applied in one tick, before the tick's sweep would expire the order.
    let (past_hold, past) = hold_and_order(app, &event.id, &wallet(4), &seat(2)).await;
    let past_id = past["orderId"].as_str().expect("order id").to_owned();
    lapse_hold(&chain.stack, &event.id, &past_hold).await;
    chain
        .stack
        .sql()
        .execute(
            Statement::new("UPDATE orders SET payment_deadline = ? WHERE id = ?")
                .bind(now_ms() - 1_000)
                .bind(past_id.as_str()),
        )
        .await
        .expect("deadline");
    let (_, past_winner) = hold_and_order(app, &event.id, &wallet(5), &seat(2)).await;
    let (_, next) = hold_and_order(app, &event.id, &wallet(3), &seat(1)).await;
    deposit(&late).await;
    deposit(&past_winner).await;
    deposit(&past).await;
    deposit(&next).await;
    chain.catch_up().await;
    let past_winner_id = past_winner["orderId"].as_str().expect("order id");
    assert_eq!(stored_status(&chain.stack, past_winner_id).await, "paid");
    assert_eq!(stored_status(&chain.stack, &past_id).await, "failed");
    assert_eq!(rows_of(&chain.stack, &past_id).await, (1, 0, 0));
    assert_eq!(stored_status(&chain.stack, &late_id).await, "failed");
    assert_eq!(stored_status(&chain.stack, &past_id).await, "failed");
    assert_eq!(rows_of(&chain.stack, &past_id).await, (1, 0, 0));
    let next_id = next["orderId"].as_str().expect("order id");
    assert_eq!(
        stored_status(&chain.stack, next_id).await,
        "paid",
        "the deposit after the late one was not applied"
    );
    assert_eq!(
        count(
            &chain.stack,
            "SELECT count(*) AS n FROM refund_records WHERE order_id = ? AND method = 'chain' \
             AND reason = 'seat_taken' AND amount = '1000' AND status = 'open'",
            &[&late_id],
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &chain.stack,
            "SELECT count(*) AS n FROM chain_settlements WHERE order_id = ? AND outcome = 'seat_taken'",
            &[&late_id],
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &chain.stack,
            "SELECT count(*) AS n FROM tickets WHERE event_id = ? AND seat_label = ? \
             AND status IN ('valid', 'used')",
            &[&event.id, &seat(0)],
        )
        .await,
        1
    );
    // Later ticks apply nothing again.
    chain.catch_up().await;
    assert_eq!(rows_of(&chain.stack, &late_id).await, (1, 0, 0));
    chain.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_late_deposit_for_a_retaken_seat_fails_and_refunds() {
    chain_story(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_late_deposit_for_a_retaken_seat_fails_and_refunds() {
    chain_story(Runtime::Wasmtime).await;
}
