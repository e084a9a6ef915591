//! Reconciling Redis inventories with libSQL in bounded steps, so the scheduled upkeep never
//! holds Redis for long and still visits every event.
//!
//! Two bounds:
//! - per run, [`next_batch`] picks at most `RECONCILE_EVENTS_PER_RUN` events
//!   (`reconcile_next.lua`): an SSCAN cursor stored in Redis walks the events set one page per
//!   run and adds what it finds to a schedule (sorted set: event → when last picked), and each
//!   run takes the events picked longest ago, new ones first. Every event is visited within a
//!   bounded number of runs (see the script), none is skipped because the set is large.
//! - per script call, [`event`] (`inventory_reconcile.lua`) sweeps at most [`SWEEP_LIMIT`]
//!   expired holds and patches only the fields that differ, so a reconcile that finds nothing
//!   writes nothing. Reading one event's hashes and live holds stays proportional to that
//!   event (it must be one atomic script to be exact against concurrent holds).
//!
//! Cost per event: `HGET` version, one libSQL read, one `EVALSHA` (three subrequests).

use crate::inventory::{Drift, Inventory};
use crate::keys;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Redis, Sql};
use shared::redis::{Command, Script, Value};
use std::sync::LazyLock;

/// Expired holds one reconcile call releases at most; the rest stay counted as held (which
/// keeps the counters exact) until a later sweep.
pub const SWEEP_LIMIT: usize = 200;

/// How many events' ids one run scans the events set for (a page of SSCAN).
const DISCOVER_PER_RUN: usize = 100;

static RECONCILE: LazyLock<Script> =
    crate::inventory::hold_script!("inventory_reconcile.lua", "inventory_state.lua");

static NEXT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/reconcile_next.lua")));

/// The schedule: event → when it was last picked (ms, server time).
fn schedule_key(prefix: &str) -> String {
    format!("{}:schedule", keys::inventory_events(prefix))
}

/// Where the SSCAN over the events set stopped.
fn cursor_key(prefix: &str) -> String {
    format!("{}:cursor", keys::inventory_events(prefix))
}

/// The events one run reconciles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub events: Vec<EventId>,
    /// Events the schedule knows so far.
    pub known: usize,
}

/// Picks the next `size` events, stamping them as picked.
///
/// # Errors
/// 503 when Redis is down; internal for a malformed reply.
pub async fn next_batch(redis: &impl Redis, prefix: &str, size: usize) -> Result<Batch, Error> {
    let (events_key, schedule, cursor) = (
        keys::inventory_events(prefix),
        schedule_key(prefix),
        cursor_key(prefix),
    );
    let reply = redis
        .eval(
            &NEXT,
            &[&events_key, &schedule, &cursor],
            &[&size.max(1).to_string(), &DISCOVER_PER_RUN.to_string()],
        )
        .await?;
    parse_batch(reply)
}

fn parse_batch(reply: Value) -> Result<Batch, Error> {
    let malformed = || Error::Internal(format!("reconcile_next.lua answered {reply:?}"));
    let Value::Array(parts) = &reply else {
        return Err(malformed());
    };
    let (Some(Value::Array(ids)), Some(known)) = (parts.first(), parts.get(1)) else {
        return Err(malformed());
    };
    Ok(Batch {
        // An id that does not parse was never written by us; it is skipped, not fatal.
        events: ids
            .iter()
            .filter_map(|v| EventId::parse(v.as_str()?).ok())
            .collect(),
        known: known
            .as_i64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(malformed)?,
    })
}

/// Puts events a failed run did not reconcile first in line for the next run.
///
/// # Errors
/// 503 when Redis is down.
pub async fn retry_first(redis: &impl Redis, prefix: &str, ids: &[EventId]) -> Result<(), Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut zadd = Command::new("ZADD").arg(schedule_key(prefix)).arg("XX");
    for id in ids {
        zadd = zadd.arg(0).arg(id.as_str());
    }
    redis.exec(zadd).await?;
    Ok(())
}

/// What one event's reconcile found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub drift: Drift,
    pub holds_swept: usize,
}

/// Reconciles one event (building its inventory if Redis lost it), retrying when a sale or
/// refund raced the libSQL read.
///
/// # Errors
/// 503s; internal when sales kept racing the read or the reply is malformed.
pub async fn event(
    redis: &impl Redis,
    sql: &impl Sql,
    prefix: &str,
    event_id: &EventId,
) -> Result<Outcome, Error> {
    let inventory = Inventory::new(prefix, event_id);
    let parts = [
        "meta", "seats", "stock", "wallets", "expiry", "waitlist", "waiting", "offers",
    ];
    let keys: Vec<&str> = parts.iter().map(|p| inventory.key(p)).collect();
    let limit = SWEEP_LIMIT.to_string();
    for _ in 0..5 {
        let version = redis
            .exec(
                Command::new("HGET")
                    .arg(inventory.key("meta"))
                    .arg("version"),
            )
            .await?;
        let version = version.as_str().unwrap_or("0").to_owned();
        let sold = inventory.sold_state(sql).await?;
        let args = [inventory.record_prefix(), &version, &sold, &limit];
        let reply = redis.eval(&RECONCILE, &keys, &args).await?;
        if let Some(outcome) = parse_outcome(event_id, reply)? {
            return Ok(outcome);
        }
    }
    Err(Error::Internal(format!(
        "sales of {event_id} kept changing during the reconcile"
    )))
}

/// `None` for `STALE`.
fn parse_outcome(event_id: &EventId, reply: Value) -> Result<Option<Outcome>, Error> {
    let malformed = || Error::Internal(format!("inventory_reconcile.lua answered {reply:?}"));
    let Value::Array(parts) = &reply else {
        return Err(malformed());
    };
    match parts.first().and_then(Value::as_str) {
        Some("STALE") => Ok(None),
        Some("RECONCILED") => {
            let report: serde_json::Value = parts
                .get(1)
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str(s).ok())
                .ok_or_else(malformed)?;
            let list = |name: &str| report[name].as_array().cloned().unwrap_or_default();
            Ok(Some(Outcome {
                drift: Drift {
                    event_id: event_id.as_str().to_owned(),
                    seats: list("seats"),
                    stock: list("stock"),
                },
                holds_swept: parts
                    .get(2)
                    .and_then(Value::as_i64)
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(0),
            }))
        }
        _ => Err(malformed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "evt_00000000000000000001";
    const B: &str = "evt_00000000000000000002";

    fn text(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_the_picked_events_and_skips_foreign_ids() {
        let reply = Value::Array(vec![
            Value::Array(vec![text(A), text("not an id!"), text(B)]),
            Value::Int(7),
        ]);
        let batch = parse_batch(reply).expect("batch");
        let ids: Vec<&str> = batch.events.iter().map(EventId::as_str).collect();
        assert_eq!((ids, batch.known), (vec![A, B], 7));
        assert!(parse_batch(Value::Int(1)).is_err());
    }

    #[test]
    fn reads_drift_and_sweeps_and_retries_on_stale() {
        let id = EventId::parse(A).expect("id");
        assert_eq!(
            parse_outcome(&id, Value::Array(vec![text("STALE")])).expect("stale"),
            None
        );
        let reply = Value::Array(vec![
            text("RECONCILED"),
            text(r#"{"seats":[["A-1","free","sold"]],"stock":[]}"#),
            Value::Int(3),
        ]);
        let outcome = parse_outcome(&id, reply).expect("ok").expect("reconciled");
        assert_eq!(outcome.holds_swept, 3);
        assert_eq!(outcome.drift.seats.len(), 1);
        assert!(outcome.drift.stock.is_empty());
        assert!(parse_outcome(&id, Value::Array(vec![text("NOPE")])).is_err());
    }
}
