//! The three ends of an order's payment: paid (tickets issued, hold sold), failed (hold
//! released; also a payment whose seat went to another order after its hold lapsed),
//! refunded (tickets revoked, seats back or offered to the waitlist).

use super::order::{OrderItem, OrderRecord, load_items, script_items};
use super::standing::{self, Hold};
use crate::inventory::{RELEASE, RETURN, SELL};
use crate::keys;
use crate::services::Services;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Clock, Rng, Sql};
use shared::sql::Statement;

/// How an order was paid.
#[derive(Debug, Clone)]
pub struct Payment {
    /// `card` or `chain`.
    pub via: &'static str,
    pub amount: String,
    /// Chain payments: the token contract (`0x0…0` for ETH).
    pub token: Option<String>,
    /// Card payments: the payment intent.
    pub payment_intent: Option<String>,
}

/// What [`pay`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayOutcome {
    /// The order is paid and its tickets exist.
    Paid,
    /// The order was no longer waiting for payment (paid, failed, expired, past deadline, or
    /// its seat was sold to someone else: then it is `failed` now).
    NotPayable,
    /// One of the `first` statements hit a unique key: this payment was already recorded.
    Duplicate,
}

/// What [`settle`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The order is paid and its tickets exist.
    Paid,
    /// One of the `first` statements hit a unique key: this payment was already recorded.
    Duplicate,
    /// The order was no longer `pending_payment` (nothing written).
    NotPending,
    /// The payment deadline passed by Redis's clock (nothing written).
    Expired,
    /// Another order holds or bought one of its seats since its hold lapsed (nothing written):
    /// the order cannot be fulfilled.
    SeatTaken,
}

/// [`settle`], with the order ended by this module when it can no longer be paid: `failed`
/// when its seat went to someone else, `expired` past its deadline. The caller records the
/// refund.
///
/// # Errors
/// 503 when libSQL is down.
pub async fn pay<S: Services>(
    services: &S,
    order: &OrderRecord,
    items: Option<Vec<OrderItem>>,
    status: &str,
    payment: &Payment,
    first: Vec<Statement>,
    last: Vec<Statement>,
) -> Result<PayOutcome, Error> {
    let ended = match settle(services, order, items, status, payment, first, last).await? {
        Settled::Paid => return Ok(PayOutcome::Paid),
        Settled::Duplicate => return Ok(PayOutcome::Duplicate),
        Settled::NotPending => return Ok(PayOutcome::NotPayable),
        Settled::Expired => "expired",
        Settled::SeatTaken => "failed",
    };
    // Written at once, so the order reads as what happened to it; whether this call or a
    // concurrent one wrote it does not matter.
    end_unpaid(services, order, ended, vec![]).await?;
    Ok(PayOutcome::NotPayable)
}

/// Marks `order` paid with `status` (`paid` or `overpaid`) and issues its tickets, after the
/// `first` statements (idempotency records) and before `last` (e.g. a refund record for the
/// overpaid part), all in one batch. Then turns the hold into sold items in Redis.
///
/// In time means before the deadline by Redis's clock (`standing.rs`), and a seat that went
/// to another order after the hold lapsed is `SeatTaken` whether Redis or libSQL's seat index
/// says so, so a late payment never fails on the index (and never makes its sender retry).
///
/// # Errors
/// 503 when libSQL is down (nothing written).
pub async fn settle<S: Services>(
    services: &S,
    order: &OrderRecord,
    items: Option<Vec<OrderItem>>,
    status: &str,
    payment: &Payment,
    first: Vec<Statement>,
    last: Vec<Statement>,
) -> Result<Settled, Error> {
    let items = match items {
        Some(items) => items,
        None => load_items(services.sql(), &order.id).await?,
    };
    let standing = standing::check(services, order, &items).await;
    if let Hold::Lapsed { taken } = &standing.hold
        && !taken.is_empty()
    {
        return Ok(Settled::SeatTaken);
    }
    if standing.past_deadline(order) {
        return Ok(Settled::Expired);
    }
    let now = standing.now;
    let skip = first.len();
    let mut batch = first;
    batch.push(
        Statement::new(
            "UPDATE orders SET status = ?, paid_via = ?, paid_at = ?, paid_amount = ?, paid_token = ?, \
             payment_intent = COALESCE(?, payment_intent), updated_at = ? \
             WHERE id = ? AND status = 'pending_payment' AND payment_deadline > ?",
        )
        .bind(status)
        .bind(payment.via)
        .bind(now)
        .bind(payment.amount.as_str())
        .bind(payment.token.clone())
        .bind(payment.payment_intent.clone())
        .bind(now)
        .bind(order.id.as_str())
        .bind(now),
    );
    batch.push(Statement::guard_changed());
    let tickets = batch.len();
    batch.push(issue_tickets(&order.id, now));
    batch.extend(last);
    match services.sql().batch_atomic(batch).await {
        Ok(_) => {}
        Err(e) if e.is_unique_violation() && e.failed_index().is_some_and(|i| i < skip) => {
            return Ok(Settled::Duplicate);
        }
        // libSQL knows a seat is sold that Redis did not (Redis lost it, or could not be asked).
        Err(e) if e.is_unique_violation() && e.failed_index() == Some(tickets) => {
            return Ok(Settled::SeatTaken);
        }
        Err(e) if e.is_guard_failure() => return Ok(Settled::NotPending),
        Err(e) => return Err(e.into()),
    }
    sell(services, order, items).await;
    Ok(Settled::Paid)
}

/// The `INSERT` of an order's tickets: one per seat, `quantity` per general-admission line,
/// serials numbered on from the event's highest. Rows read stay proportional to the order
/// (Turso bills rows read): the unit series stops at the order's largest quantity, and the
/// highest serial is one step down the `tickets_serial` index (serials are zero-padded, so
/// the text maximum is the numeric one), not a count over the event's tickets.
fn issue_tickets(order_id: &str, now: i64) -> Statement {
    Statement::new(
        "WITH RECURSIVE units(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM units \
           WHERE n < (SELECT max(quantity) FROM order_items WHERE order_id = ?1)) \
         INSERT INTO tickets (id, event_id, ticket_type_id, order_id, owner, seat_label, status, serial, created_at, updated_at) \
         SELECT 'tkt_' || lower(hex(randomblob(10))), o.event_id, i.ticket_type_id, o.id, o.payer, i.seat_label, 'valid', \
           printf('%06d', CAST(coalesce((SELECT max(t.serial) FROM tickets t \
                                         WHERE t.event_id = o.event_id AND t.serial IS NOT NULL), '0') AS INTEGER) \
             + row_number() OVER (ORDER BY i.rowid, u.n)), ?2, ?2 \
         FROM order_items i JOIN units u ON u.n <= i.quantity JOIN orders o ON o.id = i.order_id \
         WHERE i.order_id = ?1",
    )
    .bind(order_id)
    .bind(now)
}

/// Redis follows a sale libSQL recorded. A failure here is logged, not returned: the sale
/// stands, and the reconcile step brings Redis in line.
async fn sell<S: Services>(services: &S, order: &OrderRecord, items: Vec<OrderItem>) {
    let result = async {
        let event = EventId::parse(&order.event_id)
            .map_err(|e| Error::Internal(format!("order event id: {e}")))?;
        let prefix = &services.config().redis.key_prefix;
        let inventory = crate::inventory::of(services.config(), &event);
        let hold = order.hold_id.clone().unwrap_or_default();
        let record = if hold.is_empty() {
            String::new()
        } else {
            keys::hold_record(prefix, &hold)
        };
        inventory
            .run_loaded(
                services.redis(),
                &SELL,
                &[&record],
                &[&hold, &order.id, &order.payer, &script_items(&items)],
            )
            .await
    }
    .await;
    match result {
        Ok((status, parts)) if status == "RESTORED" && !parts.is_empty() => services.log_error(
            &format!(
                "order {} was paid after its hold lapsed; seats taken back from other holds: {parts:?}",
                order.id
            ),
        ),
        Ok(_) => {}
        Err(e) => services.log_error(&format!(
            "order {} is paid but Redis did not follow ({e}); reconcile will",
            order.id
        )),
    }
}

/// Ends a pending order without payment (`failed`, `underpaid`, `expired`) together with the
/// `extra` statements, and releases its hold. Returns whether the order was still pending.
///
/// # Errors
/// 503 when libSQL is down.
pub async fn end_unpaid<S: Services>(
    services: &S,
    order: &OrderRecord,
    status: &str,
    extra: Vec<Statement>,
) -> Result<bool, Error> {
    let now = services.clock().now_ms() as i64;
    let mut batch = vec![
        Statement::new(
            "UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = 'pending_payment'",
        )
        .bind(status)
        .bind(now)
        .bind(order.id.as_str()),
        Statement::guard_changed(),
    ];
    batch.extend(extra);
    match services.sql().batch_atomic(batch).await {
        Ok(_) => {}
        Err(e) if e.is_guard_failure() => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    release_hold(services, order).await;
    Ok(true)
}

/// Releases an order's hold (best effort: an unreleased hold still lapses at its expiry).
pub async fn release_hold<S: Services>(services: &S, order: &OrderRecord) {
    let (Some(hold), Ok(event)) = (&order.hold_id, EventId::parse(&order.event_id)) else {
        return;
    };
    let prefix = &services.config().redis.key_prefix;
    let record = keys::hold_record(prefix, hold);
    let result = crate::inventory::of(services.config(), &event)
        .run_loaded(services.redis(), &RELEASE, &[&record], &[hold, ""])
        .await;
    if let Err(e) = result {
        services.log_error(&format!(
            "hold {hold} of order {} not released ({e}); it lapses at its expiry",
            order.id
        ));
    }
}

/// Gives a refunded order's seats and units back to the pool, offering each line to the next
/// waitlisted wallet first. Returns the offers made as `(wallet, hold id)`.
pub async fn return_items<S: Services>(
    services: &S,
    order: &OrderRecord,
    offer_ttl_ms: u64,
) -> Result<Vec<(String, String)>, Error> {
    let event = EventId::parse(&order.event_id)
        .map_err(|e| Error::Internal(format!("order event id: {e}")))?;
    let items = load_items(services.sql(), &order.id).await?;
    // Per line: the offer's hold id and its price snapshot (the refunded order's price).
    let per_line: Vec<[String; 2]> = items
        .iter()
        .map(|item| {
            let line = serde_json::json!({
                "ticketTypeId": item.ticket_type_id, "seatLabel": item.seat_label,
                "quantity": item.quantity, "price": item.price, "currency": order.currency,
            });
            let total = alloy_primitives::U256::from_str_radix(&item.price, 10)
                .unwrap_or_default()
                .saturating_mul(alloy_primitives::U256::from(item.quantity.max(0) as u64));
            let snapshot = serde_json::json!({
                "items": [line],
                "priceSnapshot": {"total": total.to_string(), "currency": order.currency},
            });
            Ok([
                format!("hld_{}", services.rng().hex(10)?),
                snapshot.to_string(),
            ])
        })
        .collect::<Result<_, Error>>()?;
    let (ttl, script_items) = (offer_ttl_ms.to_string(), script_items(&items));
    let mut args: Vec<&str> = vec![
        &order.id,
        &order.payer,
        &script_items,
        &order.event_id,
        &ttl,
    ];
    args.extend(per_line.iter().flatten().map(String::as_str));
    let (status, parts) = crate::inventory::of(services.config(), &event)
        .run_loaded(services.redis(), &RETURN, &[], &args)
        .await?;
    if status != "OK" {
        return Ok(Vec::new());
    }
    Ok(parts
        .chunks_exact(2)
        .map(|pair| {
            (
                pair[0].as_str().unwrap_or_default().to_owned(),
                pair[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

/// What an operator must pay back, and why.
#[derive(Debug, Clone, Default)]
pub struct Refund<'a> {
    pub order: Option<&'a OrderRecord>,
    pub order_ref: &'a str,
    pub reason: &'a str,
    /// `card` or `chain`.
    pub method: &'a str,
    /// Defaults to the order's.
    pub payment_intent: Option<String>,
    /// Defaults to the order's payer.
    pub payer: Option<String>,
    pub token: Option<String>,
    pub amount: &'a str,
    /// What caused it (`chain:<block>:<tx>:<log>`, `stripe:<event>`, `api:<request>`).
    pub source: Option<String>,
}

impl Refund<'_> {
    /// The `INSERT` of the record with id `id`.
    pub fn insert(&self, id: String, now: i64) -> Statement {
        let order = self.order;
        Statement::new(
            "INSERT INTO refund_records (id, order_id, order_ref, reason, method, payment_intent, payer, token, amount, currency, status, source, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
        )
        .bind(id)
        .bind(order.map(|o| o.id.clone()))
        .bind(self.order_ref)
        .bind(self.reason)
        .bind(self.method)
        .bind(
            self.payment_intent
                .clone()
                .or_else(|| order.and_then(|o| o.payment_intent.clone())),
        )
        .bind(self.payer.clone().or_else(|| order.map(|o| o.payer.clone())))
        .bind(self.token.clone())
        .bind(self.amount)
        .bind(order.map(|o| o.currency.clone()))
        .bind(self.source.clone())
        .bind(now)
    }
}
