//! `POST /v1/orders` `{holdId}` with `Idempotency-Key`: turns a hold into an order waiting
//! for payment.
//!
//! Order: the hold is claimed in Redis (the order id attached, its expiry moved to the
//! payment deadline), then the order is written in one atomic libSQL batch. If libSQL fails,
//! the claim is undone, so the hold is intact and a retry with the same key succeeds. The
//! order id is derived from the caller and the key, so a retry after a lost response finds
//! the order it already wrote instead of writing a second.

use super::idempotency::{self, Claimed};
use super::view_of;
use crate::call::Call;
use crate::extract::{authenticate_token, json_body};
use crate::gate::Gate;
use crate::http::Response;
use crate::inventory::{UNCLAIM, texts};
use crate::keys;
use crate::payments::order::{OrderItem, OrderRecord};
use crate::routes::holds::{HoldId, sale_refusal};
use crate::sale::catalog;
use crate::sale::{admitted_event, issued_elsewhere};
use crate::services::Services;
use alloy_primitives::U256;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Clock, Sql};
use shared::redis::{Script, Value as Reply};
use shared::sql::Statement;
use std::sync::LazyLock;

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

/// Places the order (`order_place.lua`, gated, with the hold and catalog functions).
static PLACE: LazyLock<Script> = crate::gated_script!(
    "order_place.lua"; "inventory_keys.lua", "live_lib.lua", "hold_lib.lua", "catalog_lib.lua"
);

/// `POST /v1/orders`: one Redis round trip (gate, idempotency key, sale rules, claim) and one
/// Hrana request (the order and its items, atomically); the idempotent response is stored
/// after the response is sent.
///
/// # Errors
/// 400 `IDEMPOTENCY_KEY_REQUIRED` / `VALIDATION_FAILED`; 401; 429; 403 `HOLD_NOT_OWNER` /
/// `ADMISSION_*`; 404 `HOLD_NOT_FOUND`; 409 `HOLD_ORDERED` / `IDEMPOTENCY_IN_FLIGHT` /
/// `SALE_NOT_STARTED` / `SALE_ENDED` (outside the window of the sale or of a type of the hold,
/// see `scripts/catalog_lib.lua`); 422 `IDEMPOTENCY_KEY_REUSED`; 503 `SALES_PAUSED` / `*_UNAVAILABLE` (the
/// hold is kept; retry with the same key).
pub async fn create<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate_token(services, call.request)?;
    let key = idempotency::key_of(call.request)?;
    let input: OrderInput = json_body(call.request)?;
    let hold = HoldId::parse(&input.hold_id).ok_or_else(|| hold_not_found(&input.hold_id))?;
    let gate = Gate::new(services, call, Some(&caller));
    let wallet = caller.wallet.checksummed();
    let order_id = derived_id(&wallet, key);
    let admitted = admitted_event(services, call.request, &caller.wallet);
    let prefix = &services.config().redis.key_prefix;
    let record = keys::hold_record(prefix, hold.as_str());
    let idempotency_key = keys::idempotency(services, &wallet, key);
    let epoch = keys::catalog_epoch(prefix);
    let hash = idempotency::body_hash(&call.request.body);
    let lease = idempotency::lease_ms().to_string();
    let admitted_to = admitted
        .as_ref()
        .ok()
        .cloned()
        .flatten()
        .unwrap_or_default();
    let record_prefix = keys::hold_record_prefix(prefix);
    let args = [
        record_prefix.as_str(),
        hold.as_str(),
        &wallet,
        &order_id,
        prefix,
        &hash,
        &lease,
        &admitted_to,
    ];
    let mut parts = Vec::new();
    for _ in 0..3 {
        let reply = gate
            .eval(
                services,
                call,
                &PLACE,
                &[&record, &idempotency_key, &epoch],
                &args,
            )
            .await?;
        parts = match reply {
            Reply::Array(parts) => texts(&parts),
            other => {
                return Err(Error::Internal(format!(
                    "order_place.lua answered {other:?}"
                )));
            }
        };
        let event = parts.get(1).map(String::as_str).unwrap_or_default();
        match parts.first().map(String::as_str) {
            Some("NOCATALOG") => catalog::load(services, &event_of(&hold, event)?).await?,
            Some("UNLOADED") => {
                crate::inventory::of(services.config(), &event_of(&hold, event)?)
                    .load_sold(services.redis(), services.sql())
                    .await?;
            }
            _ => break,
        }
    }
    let part = |i: usize| parts.get(i).map(String::as_str).unwrap_or_default();
    match part(0) {
        "OK" => {}
        "SEEN" => return idempotency::replay(part(1), &hash),
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
        "ADMISSION" => {
            return Err(match admitted {
                Err(e) => e,
                // A valid token of another event.
                Ok(Some(_)) => issued_elsewhere(),
                Ok(None) => Error::forbidden(
                    "ADMISSION_REQUIRED",
                    "this sale has a waiting room: send the admission token in X-Admission-Token",
                ),
            });
        }
        other => {
            return Err(sale_refusal(other, part(1), part(1))
                .unwrap_or_else(|| Error::Internal(format!("order_place.lua answered {other}"))));
        }
    }
    let claimed = Claimed::new(idempotency_key, hash);
    let event_id = event_of(&hold, part(1))?;
    let deadline: i64 = part(6)
        .parse()
        .map_err(|_| Error::Internal("order_place.lua answered no deadline".into()))?;
    let outcome = write(
        services,
        &hold,
        &order_id,
        &event_id,
        &wallet,
        deadline,
        part(3),
    )
    .await;
    match &outcome {
        // libSQL failed: keep the hold as it was and forget the key, so the client can retry.
        Err(e) if e.status() >= 500 => {
            let inventory = crate::inventory::of(services.config(), &event_id);
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
            services.defer(claimed.finish_command(&outcome, call.request_id));
        }
        _ => services.defer(claimed.finish_command(&outcome, call.request_id)),
    }
    outcome
}

fn event_of(hold: &HoldId, event: &str) -> Result<EventId, Error> {
    EventId::parse(event)
        .map_err(|e| Error::Internal(format!("hold {hold} names event {event:?}: {e}")))
}

/// Writes the order in one atomic Hrana request and answers it. An order with this id exists
/// already when an earlier attempt wrote it and its answer was lost: that order is the answer.
async fn write<S: Services>(
    services: &S,
    hold: &HoldId,
    order_id: &str,
    event_id: &EventId,
    wallet: &str,
    deadline: i64,
    snapshot: &str,
) -> Result<Response, Error> {
    let now = services.clock().now_ms() as i64;
    let (order, statements) = order_statements(&OrderRow {
        id: order_id,
        event_id,
        payer: wallet,
        hold: hold.as_str(),
        deadline,
        now,
        snapshot,
    })?;
    let order = match services.sql().batch_atomic(statements).await {
        Ok(_) => order,
        Err(e) if e.failed_index() == Some(0) && e.is_unique_violation() => {
            OrderRecord::load(services.sql(), "id", order_id)
                .await?
                .ok_or_else(|| Error::Internal(format!("order {order_id} vanished")))?
        }
        Err(e) => return Err(e.into()),
    };
    let items = snapshot_items(snapshot);
    let mut response = Response::json(201, &view_of(services, &order, items));
    response
        .headers
        .set("location", format!("/v1/orders/{order_id}"));
    Ok(response)
}

/// The items of a hold's stored snapshot, as the order's items.
fn snapshot_items(snapshot: &str) -> Vec<OrderItem> {
    let stored: Value = serde_json::from_str(snapshot).unwrap_or_default();
    stored["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| OrderItem {
                    ticket_type_id: item["ticketTypeId"].as_str().unwrap_or_default().to_owned(),
                    seat_label: item["seatLabel"].as_str().map(str::to_owned),
                    price: item["price"].as_str().unwrap_or("0").to_owned(),
                    quantity: item["quantity"].as_i64().unwrap_or(1),
                })
                .collect()
        })
        .unwrap_or_default()
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
