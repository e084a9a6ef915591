//! The scheduled chain indexer.
//!
//! One cron tick ([`tick`]) takes a single-writer lease, records a heartbeat, then repeats
//! [`step::step`] — at most one `eth_getLogs` batch or one reorg rollback, each written in one
//! atomic Hrana batch together with the cursor — until it is caught up or its budget (time,
//! blocks) is spent. A tick cut off by the platform loses nothing: every batch is durable.

pub mod lease;
pub mod metrics;
pub mod project;
pub mod range;
pub mod reorg;
pub mod step;
pub mod store;

use shared::config::IndexerConfig;
use shared::ports::{ChainRpc, Clock, Redis, Sql};
use shared::redis::RedisError;
use shared::rpc::RpcError;
use shared::sql::{SqlError, Statement};
use step::Step;

/// The job name under which ticks record their heartbeat.
pub const JOB: &str = "indexer";

/// What the indexer needs.
pub struct Deps<'a, R, S, C, K> {
    pub redis: &'a R,
    pub sql: &'a S,
    pub chain: &'a C,
    pub clock: &'a K,
    /// Prefix of Redis keys (lease, metrics).
    pub key_prefix: &'a str,
    pub chain_id: u64,
    /// Identifies this tick as the lease owner.
    pub owner: &'a str,
    /// Operator-facing error log.
    pub log: &'a dyn Fn(&str),
    /// Told of each step that did not fail, with its wall time in ms (one log line each).
    pub on_step: &'a dyn Fn(&Step, u64),
}

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

/// Why a step failed. Nothing was half-written: the next tick starts from the cursor.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error("rpc: {0}")]
    Rpc(#[from] RpcError),
    #[error("libsql: {0}")]
    Sql(#[from] SqlError),
    #[error("redis: {0}")]
    Redis(#[from] RedisError),
    /// Another writer moved the cursor (should not happen under the lease).
    #[error("the cursor moved under this batch")]
    CursorMoved,
    /// A reorg deeper than the window: the indexer stops advancing rather than write wrong data.
    #[error(
        "reorg deeper than the {window}-block window below block {cursor}; re-index with `otctl reindex`"
    )]
    DeepReorg { cursor: u64, window: u64 },
}

/// How a tick ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// No contracts configured: only the heartbeat.
    Disabled,
    /// Another tick holds the lease.
    Skipped,
    /// Caught up (or budget spent) without errors.
    Ok,
    /// A dependency failed; the next tick resumes from the cursor.
    Failed,
    /// Stopped on a reorg deeper than the window.
    DeepReorg,
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
    pub outcome: Outcome,
    pub batches: u32,
    pub logs: u64,
    pub decode_errors: u64,
    pub reorgs: u32,
    pub last_block: Option<u64>,
    pub chain_head: Option<u64>,
    pub duration_ms: u64,
    /// Time in chain RPC calls, libSQL calls, and decoding + building the batch.
    pub rpc_ms: u64,
    pub sql_ms: u64,
    pub cpu_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

async fn heartbeat<S: Sql>(sql: &S, now: u64, trigger: Trigger) -> Result<i64, SqlError> {
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
    Ok(rows
        .row(0)
        .map(|r| r.get::<i64>("runs"))
        .transpose()?
        .unwrap_or(0))
}

/// Runs one tick.
///
/// # Errors
/// [`SqlError`] when the heartbeat cannot be written; indexing failures are in the report.
pub async fn tick<R, S, C, K>(
    deps: &Deps<'_, R, S, C, K>,
    config: &IndexerConfig,
    trigger: Trigger,
) -> Result<TickReport, SqlError>
where
    R: Redis,
    S: Sql,
    C: ChainRpc,
    K: Clock,
{
    let started = deps.clock.now_ms();
    let runs = heartbeat(deps.sql, started, trigger).await?;
    let mut report = TickReport {
        job: JOB,
        trigger,
        ran_at_ms: started,
        runs,
        outcome: Outcome::Disabled,
        batches: 0,
        logs: 0,
        decode_errors: 0,
        reorgs: 0,
        last_block: None,
        chain_head: None,
        duration_ms: 0,
        rpc_ms: 0,
        sql_ms: 0,
        cpu_ms: 0,
        error: None,
    };
    if config.contracts.is_empty() {
        return Ok(report);
    }
    let lease_key = format!("{}indexer:lease:{}", deps.key_prefix, deps.chain_id);
    // The lease outlives the tick's budget, so it never expires under a running tick.
    let lease_ms = config.max_tick_ms + 30_000;
    match lease::acquire(deps.redis, &lease_key, deps.owner, lease_ms).await {
        Ok(true) => {}
        Ok(false) => {
            report.outcome = Outcome::Skipped;
            return Ok(report);
        }
        Err(e) => {
            report.outcome = Outcome::Failed;
            report.error = Some(format!("lease: {e}"));
            return Ok(report);
        }
    }
    let mut sizer = range::BatchSizer::new(config.max_batch_blocks);
    let mut blocks = 0u64;
    let mut metrics = metrics::TickMetrics::default();
    let mut timings = step::Timings::default();
    report.outcome = Outcome::Ok;
    loop {
        if deps.clock.now_ms().saturating_sub(started) >= config.max_tick_ms
            || blocks >= config.max_blocks_per_tick
        {
            break;
        }
        let step_started = deps.clock.now_ms();
        let stepped = step::step(
            deps,
            config,
            &mut sizer,
            config.max_blocks_per_tick - blocks,
            &mut timings,
        )
        .await;
        if let Ok(done) = &stepped {
            (deps.on_step)(done, deps.clock.now_ms().saturating_sub(step_started));
        }
        match stepped {
            Ok(Step::Advanced {
                from,
                to,
                logs,
                decode_errors,
            }) => {
                report.batches += 1;
                report.logs += logs as u64;
                report.decode_errors += decode_errors as u64;
                report.last_block = Some(to);
                blocks += to - from + 1;
            }
            Ok(Step::NothingNew { head }) => {
                report.chain_head = Some(head);
                break;
            }
            Ok(Step::RolledBack { fork }) => {
                report.reorgs += 1;
                report.last_block = Some(fork);
            }
            Ok(Step::Retry { .. }) => {}
            Err(error) => {
                report.outcome = if matches!(error, IndexerError::DeepReorg { .. }) {
                    metrics.deep_reorgs += 1;
                    Outcome::DeepReorg
                } else {
                    Outcome::Failed
                };
                (deps.log)(&format!("indexer tick failed: {error}"));
                report.error = Some(error.to_string());
                break;
            }
        }
    }
    lease::release(deps.redis, &lease_key, deps.owner).await;
    if report.chain_head.is_none() {
        report.chain_head = deps.chain.block_number().await.ok().map(|b| b.0);
    }
    if report.last_block.is_none() {
        report.last_block = store::cursor(deps.sql, deps.chain_id)
            .await
            .ok()
            .flatten()
            .map(|c| c.block);
    }
    report.duration_ms = deps.clock.now_ms().saturating_sub(started);
    report.rpc_ms = timings.rpc_ms;
    report.sql_ms = timings.sql_ms;
    report.cpu_ms = timings.cpu_ms;
    metrics.last_block = report.last_block;
    metrics.chain_head = report.chain_head;
    metrics.batch_blocks = sizer.size();
    metrics.tick_duration_ms = report.duration_ms;
    metrics.logs_indexed = report.logs;
    metrics.decode_errors = report.decode_errors;
    metrics.reorgs = u64::from(report.reorgs);
    metrics::record(deps.redis, deps.key_prefix, &metrics).await;
    Ok(report)
}
