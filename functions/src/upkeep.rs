//! The sale's scheduled upkeep, run after every indexer tick (Workers cron, or the
//! HTTP-triggered route on Spin): apply the chain payments the tick indexed, expire orders
//! past their payment deadline, and sweep and reconcile every event's Redis inventory against
//! libSQL. Each step is bounded and independent; a failing one is reported, not fatal.

use crate::inventory::{Drift, Inventory};
use crate::keys;
use crate::payments::chain::settle_pending;
use crate::payments::fulfil::end_unpaid;
use crate::payments::order::{ORDER_COLUMNS, OrderRecord};
use crate::services::Services;
use serde::Serialize;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Clock, Redis, Sql};
use shared::redis::{Command, Value};
use shared::sql::Statement;

/// How many events one run reconciles at most.
const MAX_EVENTS: usize = 200;
/// How many due orders one run expires at most.
const MAX_EXPIRED: i64 = 500;

/// What one run did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpkeepReport {
    pub deposits_applied: usize,
    pub orders_expired: usize,
    pub events_reconciled: usize,
    /// Events whose Redis inventory differed from libSQL (and was rebuilt).
    pub drift: Vec<Drift>,
    pub errors: Vec<String>,
}

/// Runs every step.
pub async fn run<S: Services>(services: &S) -> UpkeepReport {
    let mut report = UpkeepReport::default();
    match settle_pending(services).await {
        Ok(n) => report.deposits_applied = n,
        Err(e) => report.errors.push(format!("deposits: {e}")),
    }
    match expire_due(services).await {
        Ok(n) => report.orders_expired = n,
        Err(e) => report.errors.push(format!("expiry: {e}")),
    }
    match reconcile_all(
        services.redis(),
        services.sql(),
        &services.config().redis.key_prefix,
    )
    .await
    {
        Ok((n, drift)) => {
            report.events_reconciled = n;
            report.drift = drift;
        }
        Err(e) => report.errors.push(format!("reconcile: {e}")),
    }
    for line in &report.errors {
        services.log_error(&format!("sale upkeep: {line}"));
    }
    report
}

/// Expires pending orders whose deadline passed, releasing their holds.
async fn expire_due<S: Services>(services: &S) -> Result<usize, Error> {
    let now = services.clock().now_ms() as i64;
    let rows = services
        .sql()
        .execute(
            Statement::new(format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE status = 'pending_payment' AND payment_deadline <= ? \
                 ORDER BY payment_deadline LIMIT ?"
            ))
            .bind(now)
            .bind(MAX_EXPIRED),
        )
        .await?;
    let mut expired = 0;
    for row in rows.iter() {
        let order = OrderRecord::from_row(&row)?;
        if end_unpaid(services, &order, "expired", vec![]).await? {
            expired += 1;
        }
    }
    Ok(expired)
}

/// Reconciles every event that has an inventory (or only `only`); returns how many were
/// reconciled and the drift found. Also the native `otctl reconcile`.
///
/// # Errors
/// 503s when Redis or libSQL is down.
pub async fn reconcile_all(
    redis: &impl Redis,
    sql: &impl Sql,
    prefix: &str,
) -> Result<(usize, Vec<Drift>), Error> {
    let members = redis
        .exec(Command::new("SMEMBERS").arg(keys::inventory_events(prefix)))
        .await?;
    let events: Vec<String> = match members {
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .take(MAX_EVENTS)
            .collect(),
        _ => Vec::new(),
    };
    let mut drift = Vec::new();
    for event in &events {
        let Ok(id) = EventId::parse(event) else {
            continue;
        };
        let found = Inventory::new(prefix, &id).reconcile(redis, sql).await?;
        if !found.seats.is_empty() || !found.stock.is_empty() {
            drift.push(found);
        }
    }
    Ok((events.len(), drift))
}

/// Reconciles one event (`otctl reconcile --event`), loading it if Redis lost it.
///
/// # Errors
/// 503s when Redis or libSQL is down.
pub async fn reconcile_event(
    redis: &impl Redis,
    sql: &impl Sql,
    prefix: &str,
    event_id: &EventId,
) -> Result<Drift, Error> {
    let inventory = Inventory::new(prefix, event_id);
    let drift = inventory.reconcile(redis, sql).await?;
    redis
        .exec(
            Command::new("SADD")
                .arg(keys::inventory_events(prefix))
                .arg(event_id.as_str()),
        )
        .await?;
    Ok(drift)
}
