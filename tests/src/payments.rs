//! Paying for orders the way Stripe does (events signed by Stripe's own npm library), and
//! buying tickets end to end: hold, order, signed webhook.

use crate::{App, Reply, STRIPE_WEBHOOK_SECRET, root};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use std::time::{SystemTime, UNIX_EPOCH};

/// Now, ms since epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A Stripe event delivery, signed by Stripe's npm library.
pub async fn stripe_delivery(payload: &str, timestamp: i64, secret: &str) -> String {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new("node")
        .args(["tests/js/payments/sign.mjs", secret, &timestamp.to_string()])
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(payload.as_bytes()).await.expect("payload");
    drop(stdin);
    let output = child.wait_with_output().await.expect("signature");
    assert!(output.status.success());
    String::from_utf8(output.stdout).expect("utf-8")
}

pub fn payment_event(id: &str, kind: &str, order: &Value, amount: Option<&str>) -> String {
    let amount: i64 = amount
        .or(order["total"].as_str())
        .and_then(|a| a.parse().ok())
        .expect("amount");
    serde_json::to_string_pretty(&json!({
        "id": id, "object": "event", "type": kind, "created": now_ms() / 1000,
        "data": {"object": {"id": format!("pi_{}", &id[4..]), "object": "payment_intent",
            "amount": amount, "currency": "usd", "metadata": {"orderId": order["orderId"]}}},
    }))
    .expect("json")
}

pub async fn webhook(app: &App, payload: &str, signature: &str) -> Reply {
    let response = app
        .request(Method::POST, "/v1/payments/webhook/stripe")
        .header("stripe-signature", signature)
        .header("content-type", "application/json")
        .body(payload.to_owned())
        .send()
        .await
        .expect("webhook sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let raw = response.bytes().await.expect("body").to_vec();
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        raw,
    }
}

pub async fn pay_by_card(app: &App, order: &Value, event_id: &str) -> Reply {
    let payload = payment_event(event_id, "payment_intent.succeeded", order, None);
    let signature = stripe_delivery(&payload, now_ms() / 1000, STRIPE_WEBHOOK_SECRET).await;
    webhook(app, &payload, &signature).await
}

/// A paid order.
#[derive(Debug, Clone)]
pub struct Bought {
    pub order_id: String,
    /// Ticket ids in seat order.
    pub tickets: Vec<String>,
}

/// Buys `seats` (labels) of `event_id` for `wallet` by card. The event must sell without a
/// waiting room.
pub async fn buy_seats(app: &App, event_id: &str, wallet: &str, seats: &[String]) -> Bought {
    let token = app.token_for(wallet, Role::User);
    let held = app
        .send(
            Method::POST,
            "/v1/holds",
            Some(&token),
            Some(json!({"eventId": event_id, "seats": seats})),
            &[],
        )
        .await;
    assert_eq!(held.status, 201, "hold: {}", held.body);
    let key = format!("buy-{}", crate::unique("k"));
    let order = app
        .send(
            Method::POST,
            "/v1/orders",
            Some(&token),
            Some(json!({"holdId": held.body["holdId"]})),
            &[("idempotency-key", key.as_str())],
        )
        .await;
    assert_eq!(order.status, 201, "order: {}", order.body);
    let paid = pay_by_card(app, &order.body, &format!("evt_{}", crate::unique("pay"))).await;
    assert_eq!(paid.status, 200, "webhook: {}", paid.body);
    let mine = app
        .send(
            Method::GET,
            "/v1/me/tickets?pageSize=100",
            Some(&token),
            None,
            &[],
        )
        .await;
    let order_id = order.body["orderId"].as_str().unwrap_or_default();
    let mut tickets: Vec<(String, String)> = mine.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|t| t["orderId"].as_str() == Some(order_id))
                .map(|t| {
                    (
                        t["seatLabel"].as_str().unwrap_or_default().to_owned(),
                        t["ticketId"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    tickets.sort();
    assert_eq!(tickets.len(), seats.len(), "tickets: {}", mine.body);
    Bought {
        order_id: order_id.to_owned(),
        tickets: tickets.into_iter().map(|(_, id)| id).collect(),
    }
}
