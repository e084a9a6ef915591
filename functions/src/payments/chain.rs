//! Applies on-chain payment facts the indexer recorded (`deposits`, `refunds`) to orders, in
//! chain order, each exactly once (a `chain_settlements` row per fact, written in the same
//! batch as its effect). A deposit for an event whose sale is paused stays pending until the
//! sale resumes. A reorg that removes a fact undoes its row's effect (see the indexer's
//! rebuild). Whether a deposit is in time is judged by Redis's clock (`standing.rs`), and a
//! deposit for an order whose seat went to another order after its hold lapsed fails the
//! order with a refund record, so no fact can stop the ones after it.

use super::fulfil::{Payment, Refund, Settled, end_unpaid, return_items, settle};
use super::order::{ORDER_COLUMNS, OrderRecord};
use super::standing;
use crate::services::Services;
use alloy_primitives::U256;
use shared::error::Error;
use shared::ports::{Clock, Rng, Sql};
use shared::sale::SaleSettings;
use shared::sql::{Row, Statement};

/// How many facts one call applies at most (the next tick continues).
const BATCH: i64 = 200;

/// The token contract that pays an order priced in `currency`, if it can be paid on chain.
pub fn token_for(currency: &str) -> Option<String> {
    if currency == "ETH" {
        return Some(format!("0x{}", "0".repeat(40)));
    }
    currency.starts_with("0x").then(|| currency.to_lowercase())
}

/// One unapplied fact.
struct Fact {
    kind: String,
    order_ref: String,
    payer: String,
    token: Option<String>,
    amount: String,
    tx_hash: String,
    log_index: i64,
    block_number: i64,
}

impl Fact {
    fn from_row(row: &Row<'_>) -> Result<Self, Error> {
        Ok(Fact {
            kind: row.get("kind")?,
            order_ref: row.get("order_ref")?,
            payer: row.get("payer")?,
            token: row.get("token")?,
            amount: row.get("amount")?,
            tx_hash: row.get("tx_hash")?,
            log_index: row.get("log_index")?,
            block_number: row.get("block_number")?,
        })
    }

    /// The fact's position, as refund records name their source.
    fn source(&self) -> String {
        format!(
            "chain:{}:{}:{}",
            self.block_number, self.tx_hash, self.log_index
        )
    }

    /// The settlement row.
    fn settlement(&self, order: Option<&OrderRecord>, outcome: &str, now: i64) -> Statement {
        Statement::new(
            "INSERT INTO chain_settlements (block_number, tx_hash, log_index, kind, order_id, prev_status, outcome, settled_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(self.block_number)
        .bind(self.tx_hash.as_str())
        .bind(self.log_index)
        .bind(self.kind.as_str())
        .bind(order.map(|o| o.id.clone()))
        .bind(order.map(|o| o.status.clone()))
        .bind(outcome)
        .bind(now)
    }
}

/// Applies pending facts; returns how many were applied.
///
/// # Errors
/// 503 when libSQL is down (what was applied stays applied).
pub async fn settle_pending<S: Services>(services: &S) -> Result<usize, Error> {
    let rows = services
        .sql()
        .execute(
            Statement::new(
                "SELECT * FROM ( \
                 SELECT 'deposit' AS kind, order_ref, payer, token, amount, tx_hash, log_index, block_number FROM deposits d \
                 WHERE NOT EXISTS (SELECT 1 FROM chain_settlements s WHERE s.block_number = d.block_number \
                   AND s.tx_hash = d.tx_hash AND s.log_index = d.log_index) \
                 UNION ALL \
                 SELECT 'refund', order_ref, payer, NULL, amount, tx_hash, log_index, block_number FROM refunds r \
                 WHERE NOT EXISTS (SELECT 1 FROM chain_settlements s WHERE s.block_number = r.block_number \
                   AND s.tx_hash = r.tx_hash AND s.log_index = r.log_index)) \
                 ORDER BY block_number, log_index LIMIT ?",
            )
            .bind(BATCH),
        )
        .await?;
    let facts = rows
        .iter()
        .map(|r| Fact::from_row(&r))
        .collect::<Result<Vec<_>, Error>>()?;
    let mut applied = 0;
    for fact in &facts {
        if apply(services, fact).await? {
            applied += 1;
        }
    }
    Ok(applied)
}

/// The order a fact names (if any), whether its sale is paused (a global pause also holds
/// back deposits for unknown orders), and its waitlist offer time. One round trip.
async fn order_of<S: Services>(
    services: &S,
    order_ref: &str,
) -> Result<(Option<OrderRecord>, bool, u32), Error> {
    let rows = services
        .sql()
        .execute(
            Statement::new(format!(
                "SELECT {ORDER_COLUMNS}, EXISTS (SELECT 1 FROM sale_pauses p WHERE p.scope = '*' OR p.scope = o.event_id) AS paused, \
                 (SELECT waitlist_offer_secs FROM sale_settings s WHERE s.event_id = o.event_id) AS offer_secs \
                 FROM (SELECT 1) LEFT JOIN orders o ON o.order_ref = ?"
            ))
            .bind(order_ref),
        )
        .await?;
    let row = rows
        .row(0)
        .ok_or_else(|| Error::Internal("the order lookup returned no row".to_owned()))?;
    let paused = row.get::<i64>("paused")? != 0;
    if row.get::<Option<String>>("id")?.is_none() {
        return Ok((None, paused, SaleSettings::DEFAULT_WAITLIST_OFFER_SECS));
    }
    let offer_secs = row
        .get::<Option<i64>>("offer_secs")?
        .and_then(|secs| u32::try_from(secs).ok())
        .unwrap_or(SaleSettings::DEFAULT_WAITLIST_OFFER_SECS);
    Ok((Some(OrderRecord::from_row(&row)?), paused, offer_secs))
}

/// Applies one fact; `false` when it must wait (paused sale).
async fn apply<S: Services>(services: &S, fact: &Fact) -> Result<bool, Error> {
    let (order, paused, offer_secs) = order_of(services, &fact.order_ref).await?;
    if paused {
        return Ok(false);
    }
    let now = services.clock().now_ms() as i64;
    // Drawn up front: a closure cannot use `?`, and a failed generator must end the call.
    let refund_id = format!("rfd_{}", services.rng().hex(10)?);
    if fact.kind == "refund" {
        return apply_refund(services, fact, order.as_ref(), offer_secs, now).await;
    }
    let refund = |order: Option<&OrderRecord>, reason: &str, amount: &str| {
        Refund {
            order,
            order_ref: &fact.order_ref,
            reason,
            method: "chain",
            payer: Some(fact.payer.clone()),
            token: fact.token.clone(),
            amount,
            source: Some(fact.source()),
            ..Refund::default()
        }
        .insert(refund_id.clone(), now)
    };
    let Some(order) = order else {
        write(
            services,
            vec![
                fact.settlement(None, "unknown_order", now),
                refund(None, "unknown_order", &fact.amount),
            ],
        )
        .await?;
        return Ok(true);
    };
    let token_ok = token_for(&order.currency).is_some_and(|t| {
        fact.token
            .as_deref()
            .is_some_and(|paid| paid.eq_ignore_ascii_case(&t))
    });
    if order.status != "pending_payment" || !token_ok {
        let reason = if token_ok {
            "order_not_payable"
        } else {
            "wrong_token"
        };
        write(
            services,
            vec![
                fact.settlement(None, reason, now),
                refund(Some(&order), reason, &fact.amount),
            ],
        )
        .await?;
        return Ok(true);
    }
    // Late is late by Redis's clock, the one the hold and the deadline were set by.
    let expired = || {
        vec![
            fact.settlement(None, "expired_order", now),
            refund(Some(&order), "expired_order", &fact.amount),
        ]
    };
    let paid = U256::from_str_radix(&fact.amount, 10).unwrap_or_default();
    let total = U256::from_str_radix(&order.total, 10).unwrap_or_default();
    if paid < total {
        if standing::is_late(services, &order).await {
            return end_expired(services, &order, expired()).await;
        }
        let outcome = vec![
            fact.settlement(Some(&order), "underpaid", now),
            refund(Some(&order), "underpaid", &fact.amount),
        ];
        if !end_unpaid(services, &order, "underpaid", outcome).await? {
            return Box::pin(apply(services, fact)).await;
        }
        return Ok(true);
    }
    let (status, last) = if paid > total {
        let excess = (paid - total).to_string();
        ("overpaid", vec![refund(Some(&order), "overpaid", &excess)])
    } else {
        ("paid", vec![])
    };
    let payment = Payment {
        via: "chain",
        amount: fact.amount.clone(),
        token: fact.token.clone(),
        payment_intent: None,
    };
    let first = vec![fact.settlement(Some(&order), status, now)];
    match settle(services, &order, None, status, &payment, first, last).await? {
        Settled::Paid | Settled::Duplicate => Ok(true),
        Settled::Expired => end_expired(services, &order, expired()).await,
        // The seat went to another order after the hold lapsed: the order fails and the whole
        // deposit is owed back, in one batch, so the fact is applied and never retried.
        Settled::SeatTaken => {
            let outcome = vec![
                fact.settlement(Some(&order), "seat_taken", now),
                refund(Some(&order), "seat_taken", &fact.amount),
            ];
            if end_unpaid(services, &order, "failed", outcome).await? {
                Ok(true)
            } else {
                Box::pin(apply(services, fact)).await
            }
        }
        // Paid or ended by someone else meanwhile: read again and refund.
        Settled::NotPending => Box::pin(apply(services, fact)).await,
    }
}

/// Ends a pending order past its deadline as `expired` with `outcome` (its settlement and
/// refund record); an order someone else ended meanwhile gets just `outcome`.
async fn end_expired<S: Services>(
    services: &S,
    order: &OrderRecord,
    outcome: Vec<Statement>,
) -> Result<bool, Error> {
    if !end_unpaid(services, order, "expired", outcome.clone()).await? {
        write(services, outcome).await?;
    }
    Ok(true)
}

/// An on-chain `Refunded`: closes the open chain refund records of the order ref; with none
/// open, an operator refunded a paid order directly, so the order is refunded here.
async fn apply_refund<S: Services>(
    services: &S,
    fact: &Fact,
    order: Option<&OrderRecord>,
    offer_secs: u32,
    now: i64,
) -> Result<bool, Error> {
    let close = Statement::new(
        "UPDATE refund_records SET status = 'closed', closed_by = ?, closed_at = ? \
         WHERE order_ref = ? AND method = 'chain' AND status = 'open'",
    )
    .bind(fact.source())
    .bind(now)
    .bind(fact.order_ref.as_str());
    let open = services
        .sql()
        .execute(
            Statement::new(
                "SELECT count(*) AS n FROM refund_records WHERE order_ref = ? AND method = 'chain' AND status = 'open'",
            )
            .bind(fact.order_ref.as_str()),
        )
        .await?
        .count()?;
    match order {
        Some(order) if open == 0 && order.is_sold() => {
            let batch = vec![
                fact.settlement(Some(order), "refunded", now),
                Statement::new(
                    "UPDATE orders SET status = 'refunded', updated_at = ? WHERE id = ? AND status IN ('paid', 'overpaid')",
                )
                .bind(now)
                .bind(order.id.as_str()),
                Statement::new(
                    "UPDATE tickets SET status = 'revoked', updated_at = ? WHERE order_id = ? AND status = 'valid'",
                )
                .bind(now)
                .bind(order.id.as_str()),
            ];
            write(services, batch).await?;
            if let Err(e) = return_items(services, order, u64::from(offer_secs) * 1000).await {
                services.log_error(&format!(
                    "order {} refunded on chain but Redis did not follow ({e})",
                    order.id
                ));
            }
        }
        _ => {
            write(
                services,
                vec![fact.settlement(order, "closed_records", now), close],
            )
            .await?;
        }
    }
    Ok(true)
}

/// Writes one fact's batch; a settlement row that already exists means another run applied
/// the fact first, which is fine.
async fn write<S: Services>(services: &S, batch: Vec<Statement>) -> Result<(), Error> {
    match services.sql().batch_atomic(batch).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_unique_violation() => Ok(()),
        Err(e) => Err(e.into()),
    }
}
