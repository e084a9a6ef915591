//! The scheduled chain indexer.
//!
//! One cron tick is one call of [`tick`]. For now a tick records its heartbeat in libSQL so
//! operators (and tests) can see that the schedule fires on every runtime; block-range polling,
//! decoding, projections and reorg handling arrive with the indexer issue and will be driven
//! from this same entry point.

use shared::ports::{Clock, Sql};
use shared::sql::{SqlError, Statement};

/// The job name under which ticks record their heartbeat.
pub const JOB: &str = "indexer";

/// What triggered a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// A platform cron trigger (Workers `scheduled`).
    Cron,
    /// The authenticated HTTP route (Spin, or a manual run).
    Http,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Cron => "cron",
            Trigger::Http => "http",
        }
    }
}

/// The outcome of one tick.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TickReport {
    pub job: &'static str,
    pub trigger: Trigger,
    pub ran_at_ms: u64,
    /// How many ticks this job has recorded in total, this one included.
    pub runs: i64,
}

/// Runs one tick.
///
/// # Errors
/// [`SqlError`] when the heartbeat cannot be written.
pub async fn tick<S: Sql, C: Clock>(
    sql: &S,
    clock: &C,
    trigger: Trigger,
) -> Result<TickReport, SqlError> {
    let now = clock.now_ms();
    let rows = sql
        .execute(
            Statement::new(
                "INSERT INTO cron_heartbeats (job, last_run_at, last_trigger, runs) VALUES (?, ?, ?, 1)
                 ON CONFLICT (job) DO UPDATE SET last_run_at = excluded.last_run_at,
                     last_trigger = excluded.last_trigger, runs = cron_heartbeats.runs + 1
                 RETURNING runs",
            )
            .bind(JOB)
            .bind(now as i64)
            .bind(trigger.as_str()),
        )
        .await?;
    let runs = rows
        .row(0)
        .map(|r| r.get::<i64>("runs"))
        .transpose()?
        .unwrap_or(0);
    Ok(TickReport {
        job: JOB,
        trigger,
        ran_at_ms: now,
        runs,
    })
}
