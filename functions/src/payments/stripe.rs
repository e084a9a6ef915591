//! `POST /v1/payments/webhook/stripe`: card payments. The `Stripe-Signature` header is
//! verified exactly as Stripe specifies (`shared::payments::stripe`); each event is handled
//! once, by id (a `payment_events` row written in the same batch as its effect).
//!
//! What the server reads of an event (the accepted shape, documented in `openapi.json` as
//! `StripeEvent`): `id`, `type`, and of `data.object` (a payment intent) `id`, `amount`,
//! `amount_received` (what a succeeded intent collected: the amount compared with the order's
//! total), `currency` (lower-case, compared without case with the order's upper-case code) and
//! `metadata.orderId`.

use super::fulfil::{PayOutcome, Payment, Refund, end_unpaid, pay};
use super::order::{ORDER_COLUMNS, OrderItem, OrderRecord};
use crate::call::Call;
use crate::http::Response;
use crate::services::Services;
use serde_json::json;
use shared::error::Error;
use shared::payments::stripe::{self, DEFAULT_TOLERANCE_SECS, StripeEvent, StripeSignatureError};
use shared::ports::{Clock, Rng, Sql};
use shared::sql::Statement;

fn event_row(event: &StripeEvent, order_id: Option<&str>, outcome: &str, now: i64) -> Statement {
    Statement::new(
        "INSERT INTO payment_events (provider, event_id, kind, order_id, outcome, received_at) VALUES ('stripe', ?, ?, ?, ?, ?)",
    )
    .bind(event.id.as_str())
    .bind(event.event_type.as_str())
    .bind(order_id.map(str::to_owned))
    .bind(outcome)
    .bind(now)
}

fn received(event: &StripeEvent, outcome: &str) -> Response {
    Response::json(
        200,
        &json!({ "received": true, "eventId": event.id, "outcome": outcome }),
    )
}

/// `POST /v1/payments/webhook/stripe`.
///
/// # Errors
/// 400 `STRIPE_SIGNATURE_MISSING` / `STRIPE_SIGNATURE_INVALID` / `STRIPE_TIMESTAMP_STALE` /
/// `STRIPE_EVENT_INVALID`; 503 `PAYMENTS_DISABLED` (no webhook secret configured).
pub async fn webhook<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let Some(secret) = &services.config().stripe_webhook_secret else {
        return Err(Error::Client {
            status: 503,
            code: "PAYMENTS_DISABLED",
            message: "card payments are not configured (STRIPE_WEBHOOK_SECRET)".to_owned(),
        });
    };
    let header = call
        .request
        .headers
        .get("stripe-signature")
        .ok_or_else(|| {
            Error::bad_request(
                "STRIPE_SIGNATURE_MISSING",
                "send the Stripe-Signature header",
            )
        })?;
    let now_ms = services.clock().now_ms() as i64;
    let event = stripe::verify(
        &call.request.body,
        header,
        secret.expose(),
        now_ms / 1000,
        DEFAULT_TOLERANCE_SECS,
    )
    .map_err(|e| match e {
        StripeSignatureError::TimestampOutsideTolerance { .. } => Error::bad_request(
            "STRIPE_TIMESTAMP_STALE",
            "the signature's timestamp is outside the 5-minute tolerance",
        ),
        StripeSignatureError::InvalidEvent(_) => {
            Error::bad_request("STRIPE_EVENT_INVALID", "the body is not a Stripe event")
        }
        other => Error::bad_request("STRIPE_SIGNATURE_INVALID", other.to_string()),
    })?;
    // One statement reads all the webhook needs: was the event seen, the order, its items.
    let order_id = event.metadata.get("orderId").cloned().unwrap_or_default();
    let rows = services
        .sql()
        .execute(
            Statement::new(format!(
                "SELECT (SELECT outcome FROM payment_events WHERE provider = 'stripe' AND event_id = ?1) AS seen, \
                        {}, i.ticket_type_id, i.seat_label, i.price, i.quantity \
                   FROM (SELECT 1) \
                   LEFT JOIN orders o ON o.id = ?2 \
                   LEFT JOIN order_items i ON i.order_id = o.id \
                  ORDER BY i.rowid",
                ORDER_COLUMNS
                    .split(", ")
                    .map(|c| format!("o.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .bind(event.id.as_str())
            .bind(order_id.as_str()),
        )
        .await?;
    let first = rows
        .row(0)
        .ok_or_else(|| Error::Internal("the webhook read returned no row".into()))?;
    if let Some(outcome) = first.get::<Option<String>>("seen")? {
        return Ok(received(&event, &outcome));
    }
    let order = match first.get::<Option<String>>("id")? {
        Some(_) => Some((
            OrderRecord::from_row(&first)?,
            rows.iter()
                .filter(|row| {
                    row.get::<Option<String>>("ticket_type_id")
                        .ok()
                        .flatten()
                        .is_some()
                })
                .map(|row| {
                    Ok(OrderItem {
                        ticket_type_id: row.get("ticket_type_id")?,
                        seat_label: row.get("seat_label")?,
                        price: row.get("price")?,
                        quantity: row.get("quantity")?,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?,
        )),
        None => None,
    };
    let outcome = match event.event_type.as_str() {
        "payment_intent.succeeded" => {
            let received = amount_received(&call.request.body).or(event.amount);
            succeeded(services, &event, received, order, now_ms).await?
        }
        "payment_intent.payment_failed" => {
            failed(services, &event, order.map(|(o, _)| o), now_ms).await?
        }
        _ => {
            record(services, vec![event_row(&event, None, "ignored", now_ms)]).await?;
            "ignored".to_owned()
        }
    };
    Ok(received(&event, &outcome))
}

/// Writes a batch whose first statement is the event's row; a duplicate key means a
/// concurrent delivery of the same event got there first.
async fn record<S: Services>(services: &S, batch: Vec<Statement>) -> Result<bool, Error> {
    match services.sql().batch_atomic(batch).await {
        Ok(_) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// `data.object.amount_received` of an authentic event body: what a succeeded payment intent
/// actually collected. `amount` is what was asked for; the two differ when a capture was
/// partial, and an order is paid only by what arrived. `None` when the field is absent (an
/// older API version or another object), and the caller falls back to `amount`.
fn amount_received(body: &[u8]) -> Option<i64> {
    let event: serde_json::Value = serde_json::from_slice(body).ok()?;
    event.pointer("/data/object/amount_received")?.as_i64()
}

/// `received` is the amount the intent collected, in the currency's minor unit.
async fn succeeded<S: Services>(
    services: &S,
    event: &StripeEvent,
    received: Option<i64>,
    order: Option<(OrderRecord, Vec<OrderItem>)>,
    now: i64,
) -> Result<String, Error> {
    let (order, items) = match order {
        Some((order, items)) => (Some(order), items),
        None => (None, Vec::new()),
    };
    let amount = received.map(|a| a.to_string()).unwrap_or_default();
    // Drawn up front: a closure cannot use `?`, and a failed generator must end the call.
    let refund_id = format!("rfd_{}", services.rng().hex(10)?);
    let refund = |order: Option<&OrderRecord>, reason: &str| {
        Refund {
            order,
            order_ref: order.map_or("", |o| o.order_ref.as_str()),
            reason,
            method: "card",
            payment_intent: event.payment_intent_id.clone(),
            amount: &amount,
            source: Some(format!("stripe:{}", event.id)),
            ..Refund::default()
        }
        .insert(refund_id.clone(), now)
    };
    let Some(order) = order else {
        let outcome = "refund_unknown_order";
        record(
            services,
            vec![
                event_row(event, None, outcome, now),
                refund(None, "unknown_order"),
            ],
        )
        .await?;
        return Ok(outcome.to_owned());
    };
    let matches = received.is_some_and(|a| a.to_string() == order.total)
        && event
            .currency
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(&order.currency));
    if !matches {
        let outcome = "refund_amount_mismatch";
        record(
            services,
            vec![
                event_row(event, Some(&order.id), outcome, now),
                refund(Some(&order), "amount_mismatch"),
            ],
        )
        .await?;
        return Ok(outcome.to_owned());
    }
    let payment = Payment {
        via: "card",
        amount: amount.clone(),
        token: None,
        payment_intent: event.payment_intent_id.clone(),
    };
    let first = vec![event_row(event, Some(&order.id), "paid", now)];
    match pay(
        services,
        &order,
        Some(items),
        "paid",
        &payment,
        first,
        vec![],
    )
    .await?
    {
        PayOutcome::Paid => Ok("paid".to_owned()),
        PayOutcome::Duplicate => Ok("duplicate".to_owned()),
        PayOutcome::NotPayable => {
            let outcome = "refund_order_not_payable";
            record(
                services,
                vec![
                    event_row(event, Some(&order.id), outcome, now),
                    refund(Some(&order), "order_not_payable"),
                ],
            )
            .await?;
            Ok(outcome.to_owned())
        }
    }
}

async fn failed<S: Services>(
    services: &S,
    event: &StripeEvent,
    order: Option<OrderRecord>,
    now: i64,
) -> Result<String, Error> {
    let Some(order) = order else {
        record(
            services,
            vec![event_row(event, None, "ignored_unknown_order", now)],
        )
        .await?;
        return Ok("ignored_unknown_order".to_owned());
    };
    let row = event_row(event, Some(&order.id), "failed", now);
    if end_unpaid(services, &order, "failed", vec![row]).await? {
        return Ok("failed".to_owned());
    }
    record(
        services,
        vec![event_row(
            event,
            Some(&order.id),
            "ignored_not_pending",
            now,
        )],
    )
    .await?;
    Ok("ignored_not_pending".to_owned())
}

#[cfg(test)]
mod tests {
    use super::amount_received;

    #[test]
    fn amount_received_is_read_from_the_payment_intent() {
        let body = br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"amount":4200,"amount_received":4000}}}"#;
        assert_eq!(amount_received(body), Some(4000));
        let older = br#"{"id":"evt_1","data":{"object":{"amount":4200}}}"#;
        assert_eq!(amount_received(older), None);
        assert_eq!(amount_received(b"not json"), None);
    }
}
