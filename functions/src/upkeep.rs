//! The sale's scheduled upkeep, run after every indexer tick (Workers cron, or the
//! HTTP-triggered route on Spin): apply the chain payments the tick indexed, expire orders
//! past their payment deadline, and sweep and reconcile the next few events' Redis inventories
//! against libSQL (every event in turn over successive runs, see [`crate::reconcile`]). Each
//! step is bounded and independent; a failing one is reported, not fatal.

use crate::inventory::Drift;
use crate::keys;
use crate::logs::Level;
use crate::payments::chain::settle_pending;
use crate::payments::fulfil::end_unpaid;
use crate::payments::order::{ORDER_COLUMNS, OrderRecord};
use crate::reconcile;
use crate::services::Services;
use serde::Serialize;
use serde_json::json;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Clock, Redis, Sql};
use shared::redis::{Command, Value};
use shared::sql::Statement;

/// How many due orders one run expires at most.
const MAX_EXPIRED: i64 = 500;

/// What one run did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpkeepReport {
    pub deposits_applied: usize,
    pub orders_expired: usize,
    pub events_reconciled: usize,
    /// The events this run reconciled, in order.
    pub reconciled_events: Vec<String>,
    /// Events the reconcile schedule knows (each is visited every
    /// `ceil(known / RECONCILE_EVENTS_PER_RUN)` runs).
    pub events_known: usize,
    /// Expired holds the reconciles released.
    pub holds_swept: usize,
    /// Events whose Redis inventory differed from libSQL (and was repaired).
    pub drift: Vec<Drift>,
    /// Buffered scan audit rows moved into libSQL.
    pub scans_drained: usize,
    pub errors: Vec<String>,
}

/// Runs every step, logging one JSON line each (`upkeep step`, with its count or error).
pub async fn run<S: Services>(services: &S) -> UpkeepReport {
    let mut report = UpkeepReport::default();
    let started = services.clock().now_ms();
    let deposits = settle_pending(services).await;
    let started = logged(services, "deposits", started, &deposits, &mut report);
    report.deposits_applied = deposits.unwrap_or(0);
    let expired = expire_due(services).await;
    let started = logged(services, "expiry", started, &expired, &mut report);
    report.orders_expired = expired.unwrap_or(0);
    let reconciled = reconcile_next(
        services.redis(),
        services.sql(),
        &services.config().redis.key_prefix,
        services.config().reconcile_events_per_run,
        &mut report,
    )
    .await
    .map(|()| report.events_reconciled);
    let started = logged(services, "reconcile", started, &reconciled, &mut report);
    let drained = crate::checkin::audit_drain::drain(services).await;
    logged(services, "scan audit drain", started, &drained, &mut report);
    report.scans_drained = drained.unwrap_or(0);
    report
}

/// Logs step `name`'s line (an error line when it failed, which the report keeps too) and
/// returns when the next step starts.
fn logged<S: Services>(
    services: &S,
    name: &str,
    started: u64,
    outcome: &Result<usize, Error>,
    report: &mut UpkeepReport,
) -> u64 {
    let now = services.clock().now_ms();
    let duration_ms = now.saturating_sub(started);
    match outcome {
        Ok(count) => services.log_event(
            Level::Info,
            "upkeep step",
            &json!({ "step": name, "count": count, "duration_ms": duration_ms }),
        ),
        Err(e) => {
            report.errors.push(format!("{name}: {e}"));
            services.log_event(
                Level::Error,
                "upkeep step",
                &json!({ "step": name, "error": e.to_string(), "duration_ms": duration_ms }),
            );
        }
    }
    now
}

/// Expires pending orders whose deadline passed, releasing their holds.
async fn expire_due<S: Services>(services: &S) -> Result<usize, Error> {
    // Redis's clock, which the holds and the payment path judge deadlines by: an edge clock
    // running ahead must not expire an order its payment would still pay.
    let now = crate::payments::standing::redis_now(services).await;
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

/// Reconciles the next `size` events of the schedule into `report`. On a failure the events
/// not yet done go first in line for the next run.
///
/// # Errors
/// 503s when Redis or libSQL is down.
pub async fn reconcile_next(
    redis: &impl Redis,
    sql: &impl Sql,
    prefix: &str,
    size: usize,
    report: &mut UpkeepReport,
) -> Result<(), Error> {
    let batch = reconcile::next_batch(redis, prefix, size).await?;
    report.events_known = batch.known;
    for (done, id) in batch.events.iter().enumerate() {
        match reconcile::event(redis, sql, prefix, id).await {
            Ok(outcome) => record(report, outcome),
            Err(e) => {
                // Best effort: Redis may be what failed.
                let _ = reconcile::retry_first(redis, prefix, &batch.events[done..]).await;
                return Err(e);
            }
        }
    }
    Ok(())
}

fn record(report: &mut UpkeepReport, outcome: reconcile::Outcome) {
    report.events_reconciled += 1;
    report.holds_swept += outcome.holds_swept;
    report
        .reconciled_events
        .push(outcome.drift.event_id.clone());
    // `inventory_drift_total` (the InventoryDrift alert): flushed with the run's metrics.
    crate::metrics::pending::count("drift|seats".into(), outcome.drift.seats.len() as i64);
    crate::metrics::pending::count("drift|stock".into(), outcome.drift.stock.len() as i64);
    if !outcome.drift.seats.is_empty() || !outcome.drift.stock.is_empty() {
        report.drift.push(outcome.drift);
    }
}

/// Reconciles every event that has an inventory (`otctl reconcile`): walks the whole events
/// set page by page (each event is still one bounded script call) and returns how many were
/// reconciled and the drift found.
///
/// # Errors
/// 503s when Redis or libSQL is down.
pub async fn reconcile_all(
    redis: &impl Redis,
    sql: &impl Sql,
    prefix: &str,
) -> Result<(usize, Vec<Drift>), Error> {
    let mut report = UpkeepReport::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_owned();
    loop {
        let page = redis
            .exec(
                Command::new("SSCAN")
                    .arg(keys::inventory_events(prefix))
                    .arg(&cursor)
                    .arg("COUNT")
                    .arg(100),
            )
            .await?;
        let Value::Array(parts) = page else {
            return Err(Error::Internal(format!("SSCAN answered {page:?}")));
        };
        let (Some(next), Some(Value::Array(members))) =
            (parts.first().and_then(Value::as_str), parts.get(1))
        else {
            return Err(Error::Internal("SSCAN answered an odd reply".to_owned()));
        };
        cursor = next.to_owned();
        for member in members.iter().filter_map(Value::as_str) {
            // SSCAN may return a member twice; an id that does not parse is not ours.
            let Ok(id) = EventId::parse(member) else {
                continue;
            };
            if seen.insert(id.clone()) {
                record(
                    &mut report,
                    reconcile::event(redis, sql, prefix, &id).await?,
                );
            }
        }
        if cursor == "0" {
            return Ok((report.events_reconciled, report.drift));
        }
    }
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
    let drift = reconcile::event(redis, sql, prefix, event_id).await?.drift;
    redis
        .exec(
            Command::new("SADD")
                .arg(keys::inventory_events(prefix))
                .arg(event_id.as_str()),
        )
        .await?;
    Ok(drift)
}
