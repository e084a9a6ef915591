//! Runs the indexer tick with this request's services (both cron triggers call this).

use crate::services::Services;
use indexer_cron::{Deps, TickReport, Trigger};
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
    let deps = Deps {
        redis: services.redis(),
        sql: services.sql(),
        chain: services.chain(),
        clock: services.clock(),
        key_prefix: &config.redis.key_prefix,
        chain_id: config.chain_id.get(),
        owner: &owner,
        log: &log,
    };
    Ok(indexer_cron::tick(&deps, &config.indexer, trigger).await?)
}
