//! One indexer step (shovel's `Converge`): at most one batch, or one rollback. A tick drives it
//! in a loop; tests drive it directly.

use crate::project::{self, Indexed};
use crate::range::BatchSizer;
use crate::reorg::{self, ForkSearch};
use crate::store::{self, Cursor};
use crate::{Deps, IndexerError};
use alloy_primitives::B256;
use shared::chain::decode;
use shared::config::IndexerConfig;
use shared::ports::{ChainRpc, Clock, Redis, Sql};
use shared::rpc::RpcError;

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Indexed `from..=to`.
    Advanced {
        from: u64,
        to: u64,
        logs: usize,
        decode_errors: usize,
    },
    /// Already at `head - confirmations`.
    NothingNew { head: u64 },
    /// A reorg replaced blocks above `fork`; they were rolled back.
    RolledBack { fork: u64 },
    /// Nothing written; try again (range refused, or the chain moved under the batch).
    Retry { reason: String },
}

/// Where a step's time went (wall clock around I/O; on Workers the clock only advances at
/// I/O, so the CPU share there reads as 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    pub rpc_ms: u64,
    pub sql_ms: u64,
    pub cpu_ms: u64,
}

/// Times `future` into one of the `Timings` buckets.
async fn timed<K: Clock, T>(
    clock: &K,
    bucket: &mut u64,
    future: impl std::future::Future<Output = T>,
) -> T {
    let started = clock.now_ms();
    let out = future.await;
    *bucket += clock.now_ms().saturating_sub(started);
    out
}

/// A failed batch write: the guard tripping means another writer moved the cursor.
fn write_error(error: shared::sql::SqlError) -> IndexerError {
    if error.is_guard_failure() {
        IndexerError::CursorMoved
    } else {
        IndexerError::Sql(error)
    }
}

/// The chain's hash at `number`, or `None` when the chain is shorter.
async fn hash_at<C: ChainRpc>(chain: &C, number: u64) -> Result<Option<B256>, RpcError> {
    match chain.block_header(number).await {
        Ok(header) => Ok(Some(header.hash)),
        Err(RpcError::Decode(message)) if message.contains("does not exist") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Runs one step, indexing at most `budget_blocks` blocks.
///
/// # Errors
/// [`IndexerError`] when a dependency fails (nothing half-written) or a reorg is too deep.
pub async fn step<R, S, C, K>(
    deps: &Deps<'_, R, S, C, K>,
    config: &IndexerConfig,
    sizer: &mut BatchSizer,
    budget_blocks: u64,
    timings: &mut Timings,
) -> Result<Step, IndexerError>
where
    R: Redis,
    S: Sql,
    C: ChainRpc,
    K: Clock,
{
    let chain_id = deps.chain_id;
    let clock = deps.clock;
    let cursor = timed(
        clock,
        &mut timings.sql_ms,
        store::cursor(deps.sql, chain_id),
    )
    .await?;
    if let Some(cursor) = cursor
        && let Some(hash) = cursor.hash
        && timed(
            clock,
            &mut timings.rpc_ms,
            hash_at(deps.chain, cursor.block),
        )
        .await?
            != Some(hash)
    {
        return roll_back(deps, config, cursor).await;
    }
    let head = timed(clock, &mut timings.rpc_ms, deps.chain.block_number())
        .await?
        .0;
    let target = head.saturating_sub(config.confirmations);
    let from = cursor.map_or(config.start_block, |c| c.block + 1);
    if from > target {
        return Ok(Step::NothingNew { head });
    }
    let to = (from + sizer.size().min(budget_blocks.max(1)) - 1).min(target);
    let before = timed(clock, &mut timings.rpc_ms, deps.chain.block_header(to)).await?;
    let logs = match timed(
        clock,
        &mut timings.rpc_ms,
        deps.chain.logs(&config.contracts, from, to),
    )
    .await
    {
        Err(RpcError::RangeTooWide {
            suggested_to,
            message,
        }) => {
            sizer.refused(from, to, suggested_to);
            return Ok(Step::Retry {
                reason: format!("range {from}..={to} refused: {message}"),
            });
        }
        other => other?,
    };
    if logs.len() > crate::range::MAX_LOGS_PER_BATCH && to > from {
        sizer.refused(from, to, None);
        return Ok(Step::Retry {
            reason: format!("{} logs in {from}..={to}; splitting the range", logs.len()),
        });
    }
    let after = timed(clock, &mut timings.rpc_ms, deps.chain.block_header(to)).await?;
    let consistent = before.hash == after.hash
        && logs.iter().all(|l| {
            (from..=to).contains(&l.block_number)
                && (l.block_number != to || l.block_hash == after.hash)
        });
    if !consistent {
        return Ok(Step::Retry {
            reason: format!("the chain changed while reading {from}..={to}"),
        });
    }
    let indexed: Vec<Indexed> = logs
        .into_iter()
        .map(|log| Indexed {
            event: decode(&log).ok(),
            log,
        })
        .collect();
    let decode_errors = indexed.iter().filter(|i| i.event.is_none()).count();
    let now = deps.clock.now_ms();
    let mut statements = vec![store::guard(chain_id, cursor)];
    statements.extend(project::batch(chain_id, &indexed, now));
    let mut kept: Vec<(u64, B256)> = indexed
        .iter()
        .map(|i| (i.log.block_number, i.log.block_hash))
        .collect();
    kept.dedup();
    for (number, hash) in kept.iter().filter(|(n, _)| *n != to) {
        statements.push(store::keep_block(chain_id, *number, hash, None));
    }
    statements.push(store::keep_block(
        chain_id,
        to,
        &after.hash,
        Some(&after.parent_hash),
    ));
    statements.push(store::set_cursor(chain_id, to, Some(&after.hash), now));
    statements.push(store::prune_blocks(
        chain_id,
        to.saturating_sub(config.reorg_window),
    ));
    deps.sql
        .batch_atomic(statements)
        .await
        .map_err(write_error)?;
    sizer.succeeded(indexed.len());
    Ok(Step::Advanced {
        from,
        to,
        logs: indexed.len(),
        decode_errors,
    })
}

async fn roll_back<R, S, C, K>(
    deps: &Deps<'_, R, S, C, K>,
    config: &IndexerConfig,
    cursor: Cursor,
) -> Result<Step, IndexerError>
where
    R: Redis,
    S: Sql,
    C: ChainRpc,
    K: Clock,
{
    let kept = store::kept_blocks(deps.sql, deps.chain_id).await?;
    let mut chain_hashes = Vec::new();
    let mut fork = ForkSearch::TooDeep;
    for (i, (number, _)) in kept.iter().enumerate() {
        chain_hashes.push(hash_at(deps.chain, *number).await?);
        fork = reorg::fork_point(&kept[..=i], &chain_hashes);
        if fork != ForkSearch::TooDeep {
            break;
        }
    }
    let fork = match fork {
        ForkSearch::ForkAt(fork)
            if reorg::within_window(cursor.block, fork, config.reorg_window) =>
        {
            fork
        }
        _ => {
            return Err(IndexerError::DeepReorg {
                cursor: cursor.block,
                window: config.reorg_window,
            });
        }
    };
    let fork_hash = kept.iter().find(|(n, _)| *n == fork).map(|(_, h)| *h);
    let now = deps.clock.now_ms();
    let mut statements = vec![store::guard(deps.chain_id, Some(cursor))];
    statements.extend(project::rollback(deps.chain_id, fork, now));
    statements.push(store::set_cursor(
        deps.chain_id,
        fork,
        fork_hash.as_ref(),
        now,
    ));
    deps.sql
        .batch_atomic(statements)
        .await
        .map_err(write_error)?;
    Ok(Step::RolledBack { fork })
}
