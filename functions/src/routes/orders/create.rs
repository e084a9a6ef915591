//! `POST /v1/orders` `{holdId}` with `Idempotency-Key`: turns a hold into an order waiting
//! for payment.
//!
//! Order: the hold is claimed in Redis (the order id attached, its expiry moved to the
//! payment deadline), then the order is written in one atomic libSQL batch. If libSQL fails,
//! the claim is undone, so the hold is intact and a retry with the same key succeeds. The
//! order id is derived from the caller and the key, so a retry after a lost response finds
//! the order it already wrote instead of writing a second.

use super::idempotency::{self, Begin};
use super::view;
use crate::call::Call;
use crate::extract::{Caller, authenticate, json_body};
use crate::http::Response;
use crate::inventory::{CLAIM, Inventory, UNCLAIM, texts};
use crate::keys;
use crate::payments::order::OrderRecord;
use crate::routes::holds::HoldId;
use crate::sale::{check_admission, load_state};
use crate::services::Services;
use alloy_primitives::U256;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Clock, Redis, Sql};
use shared::redis::Command;
use shared::sql::Statement;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OrderInput {
    hold_id: String,
}

fn hold_not_found(id: &str) -> Error {
    Error::not_found(
        "HOLD_NOT_FOUND",
        format!("there is no active hold {id:?} (it may have expired)"),
    )
}

/// `POST /v1/orders`.
///
/// # Errors
/// 400 `IDEMPOTENCY_KEY_REQUIRED` / `VALIDATION_FAILED`; 401; 403 `HOLD_NOT_OWNER` /
/// `ADMISSION_*`; 404 `HOLD_NOT_FOUND`; 409 `HOLD_ORDERED` / `IDEMPOTENCY_IN_FLIGHT` /
/// `SALE_ENDED`; 422 `IDEMPOTENCY_KEY_REUSED`; 503 `SALES_PAUSED` / `*_UNAVAILABLE` (the
/// hold is kept; retry with the same key).
pub async fn create<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let key = idempotency::key_of(call.request)?;
    let wallet = caller.wallet.checksummed();
    match idempotency::begin(services, &wallet, key, &call.request.body).await? {
        Begin::Replay(response) => Ok(response),
        Begin::Run(claimed) => {
            let outcome = place(services, call, &caller, key).await;
            claimed.finish(services, &outcome, call.request_id).await;
            outcome
        }
    }
}

async fn place<S: Services>(
    services: &S,
    call: &Call<'_>,
    caller: &Caller,
    key: &str,
) -> Result<Response, Error> {
    let input: OrderInput = json_body(call.request)?;
    let hold = HoldId::parse(&input.hold_id).ok_or_else(|| hold_not_found(&input.hold_id))?;
    let wallet = caller.wallet.checksummed();
    let order_id = derived_id(&wallet, key);
    if let Some(existing) = OrderRecord::load(services.sql(), "id", &order_id).await? {
        // Written by an earlier attempt whose answer was lost.
        return Ok(Response::json(201, &view(services, &existing).await?));
    }
    let prefix = &services.config().redis.key_prefix;
    let record = keys::hold_record(prefix, hold.as_str());
    let fields = services
        .redis()
        .exec(Command::new("HMGET").arg(&record).arg("event").arg("offer"))
        .await?;
    let fields = match fields {
        shared::redis::Value::Array(parts) => texts(&parts),
        _ => Vec::new(),
    };
    let event = fields
        .first()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| hold_not_found(hold.as_str()))?;
    let event_id = EventId::parse(event)
        .map_err(|e| Error::Internal(format!("hold {hold} names event {event:?}: {e}")))?;
    let is_offer = fields.get(1).is_some_and(|o| !o.is_empty());
    let sale = load_state(services, &event_id).await?;
    let now = services.clock().now_ms() as i64;
    sale.check_not_paused()?;
    if !is_offer {
        sale.check_not_ended(now)?;
    }
    // A waitlist offer is its own admission.
    if sale.needs_admission() && !is_offer {
        check_admission(services, call.request, &event_id, &caller.wallet)?;
    }
    let deadline = now + sale.payment_window_ms() as i64;
    let inventory = Inventory::new(prefix, &event_id);
    let (status, parts) = inventory
        .run(
            services.redis(),
            services.sql(),
            &CLAIM,
            &[&record],
            &[hold.as_str(), &wallet, &order_id, &deadline.to_string()],
        )
        .await?;
    match status.as_str() {
        "OK" => {}
        "NOT_FOUND" => return Err(hold_not_found(hold.as_str())),
        "NOT_OWNER" => {
            return Err(Error::forbidden(
                "HOLD_NOT_OWNER",
                "only the wallet that took a hold may order it",
            ));
        }
        "ORDERED" => {
            return Err(Error::conflict(
                "HOLD_ORDERED",
                "this hold already belongs to another order",
            ));
        }
        other => return Err(Error::Internal(format!("hold_claim.lua answered {other}"))),
    }
    let parts = texts(&parts);
    let (order, statements) = order_statements(&OrderRow {
        id: &order_id,
        event_id: &event_id,
        payer: &wallet,
        hold: hold.as_str(),
        deadline,
        now,
        snapshot: parts.get(1).map_or("", String::as_str),
    })?;
    match services.sql().batch_atomic(statements).await {
        Ok(_) => {}
        Err(e) => {
            // Keep the hold as it was, so the client can retry.
            let undo = inventory
                .run_loaded(
                    services.redis(),
                    &UNCLAIM,
                    &[&record],
                    &[hold.as_str(), &order_id],
                )
                .await;
            if let Err(undo) = undo {
                services.log_error(&format!(
                    "hold {hold} not unclaimed after a failed order: {undo}"
                ));
            }
            return Err(e.into());
        }
    }
    let mut response = Response::json(201, &view(services, &order).await?);
    response
        .headers
        .set("location", format!("/v1/orders/{order_id}"));
    Ok(response)
}

/// `ord_` + 20 hex digits of SHA-256(wallet, key): a retry with the same key names the same
/// order.
fn derived_id(wallet: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("order|{wallet}|{key}"));
    format!("ord_{}", &hex::encode(digest)[..20])
}

/// The `bytes32` the payment vault's `Deposit` names the order by.
pub fn order_ref(order_id: &str) -> String {
    format!(
        "0x{}",
        hex::encode(Sha256::digest(format!("order-ref|{order_id}")))
    )
}

struct OrderRow<'a> {
    id: &'a str,
    event_id: &'a EventId,
    payer: &'a str,
    hold: &'a str,
    deadline: i64,
    now: i64,
    /// The hold's stored `{"items": [...], "priceSnapshot": {"total", "currency"}}`.
    snapshot: &'a str,
}

/// The order (as written, so it need not be read back) and the statements writing it and its
/// items, from the hold's price snapshot (what the buyer saw).
fn order_statements(row: &OrderRow<'_>) -> Result<(OrderRecord, Vec<Statement>), Error> {
    let stored: Value = serde_json::from_str(row.snapshot)
        .map_err(|e| Error::Internal(format!("hold snapshot does not parse: {e}")))?;
    let items = stored["items"].as_array().cloned().unwrap_or_default();
    let total = stored["priceSnapshot"]["total"].as_str().unwrap_or("0");
    let currency = stored["priceSnapshot"]["currency"].as_str().unwrap_or("");
    if items.is_empty() || U256::from_str_radix(total, 10).is_err() {
        return Err(Error::Internal(format!(
            "hold {} has no usable snapshot",
            row.hold
        )));
    }
    let order = OrderRecord {
        id: row.id.to_owned(),
        order_ref: order_ref(row.id),
        event_id: row.event_id.as_str().to_owned(),
        payer: row.payer.to_owned(),
        status: "pending_payment".to_owned(),
        total: total.to_owned(),
        currency: currency.to_owned(),
        hold_id: Some(row.hold.to_owned()),
        payment_deadline: row.deadline,
        paid_at: None,
        paid_via: None,
        payment_intent: None,
        paid_amount: None,
        paid_token: None,
        created_at: row.now,
        updated_at: row.now,
    };
    let mut statements = vec![
        Statement::new(
            "INSERT INTO orders (id, order_ref, event_id, payer, status, total, currency, hold_id, payment_deadline, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(order.id.as_str())
        .bind(order.order_ref.as_str())
        .bind(order.event_id.as_str())
        .bind(order.payer.as_str())
        .bind(order.status.as_str())
        .bind(order.total.as_str())
        .bind(order.currency.as_str())
        .bind(row.hold)
        .bind(order.payment_deadline)
        .bind(order.created_at)
        .bind(order.updated_at),
    ];
    for item in &items {
        statements.push(
            Statement::new(
                "INSERT INTO order_items (order_id, ticket_type_id, seat_label, price, quantity) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(row.id)
            .bind(item["ticketTypeId"].as_str().unwrap_or_default())
            .bind(item["seatLabel"].as_str().map(str::to_owned))
            .bind(item["price"].as_str().unwrap_or("0"))
            .bind(item["quantity"].as_i64().unwrap_or(1)),
        );
    }
    Ok((order, statements))
}
