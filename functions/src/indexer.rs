//! Runs the indexer tick with this request's services (both cron triggers call this), logging
//! one JSON line per step and one for the tick.

use crate::logs::Level;
use crate::services::Services;
use indexer_cron::step::Step;
use indexer_cron::{Deps, Outcome, TickReport, Trigger};
use serde_json::json;
use shared::error::Error;
use shared::ports::Rng;

/// One indexer tick.
///
/// # Errors
/// 503 when the heartbeat cannot be written; indexing failures are in the report.
pub async fn run_tick<S: Services>(services: &S, trigger: Trigger) -> Result<TickReport, Error> {
    let config = services.config();
    let owner = services.rng().hex(12)?;
    let log = |line: &str| services.log_error(line);
    let on_step = |step: &Step, duration_ms: u64| {
        services.log_event(Level::Info, "indexer step", &step_fields(step, duration_ms));
    };
    let deps = Deps {
        redis: services.redis(),
        sql: services.sql(),
        chain: services.chain(),
        clock: services.clock(),
        key_prefix: &config.redis.key_prefix,
        chain_id: config.chain_id.get(),
        owner: &owner,
        log: &log,
        on_step: &on_step,
    };
    match indexer_cron::tick(&deps, &config.indexer, trigger).await {
        Ok(report) => {
            let level = match report.outcome {
                Outcome::Failed | Outcome::DeepReorg => Level::Error,
                _ => Level::Info,
            };
            let mut fields = json!({
                "job": report.job,
                "trigger": report.trigger,
                "outcome": report.outcome,
                "batches": report.batches,
                "logs": report.logs,
                "reorgs": report.reorgs,
                "last_block": report.last_block,
                "chain_head": report.chain_head,
                "duration_ms": report.duration_ms,
            });
            if let Some(error) = &report.error {
                fields["error"] = json!(error);
            }
            services.log_event(level, "indexer tick", &fields);
            Ok(report)
        }
        Err(e) => {
            services.log_error(&format!("indexer tick failed: heartbeat: {e}"));
            Err(e.into())
        }
    }
}

/// A step's own members (`step` names it).
fn step_fields(step: &Step, duration_ms: u64) -> serde_json::Value {
    match step {
        Step::Advanced {
            from,
            to,
            logs,
            decode_errors,
        } => json!({
            "step": "advanced", "from": from, "to": to, "logs": logs,
            "decode_errors": decode_errors, "duration_ms": duration_ms,
        }),
        Step::NothingNew { head } => {
            json!({ "step": "nothing_new", "head": head, "duration_ms": duration_ms })
        }
        Step::RolledBack { fork } => {
            json!({ "step": "rolled_back", "fork": fork, "duration_ms": duration_ms })
        }
        Step::Retry { reason } => {
            json!({ "step": "retry", "reason": reason, "duration_ms": duration_ms })
        }
    }
}
