//! Reorg rollback: drops every fact above the fork block and rebuilds what was materialised
//! from them, in the statements of one atomic batch (the caller adds the cursor guard and move).

use super::{market, payments, tickets};
use shared::sql::Statement;

/// Facts above `fork` (exclusive), dropped by a rollback.
pub(super) const FACT_TABLES: &[&str] = &[
    "chain_events",
    "chain_ticket_types",
    "ticket_mints",
    "transfers",
    "ticket_status_changes",
    "listing_events",
    "trades",
    "deposits",
    "refunds",
];

/// Deletes everything above `fork` and rebuilds what was materialised from it.
///
/// Only what the removed blocks touched is rebuilt: the tickets and listings with a fact
/// above `fork`, rebuilt *before* the facts go (from their facts up to `fork`, so the scope
/// is still readable), and the chain settlements above `fork`, undone after. Every read is a
/// range of a position key or an index seek per touched entity, so a rollback costs what the
/// reorg holds, never the history (issue 12; `tests/rollback.rs` measures it).
pub fn rollback(chain_id: u64, fork: u64, now_ms: u64) -> Vec<Statement> {
    let (fork, now) = (fork as i64, now_ms as i64);
    let mut out = tickets::rebuild(fork, now);
    out.extend(market::rebuild(fork));
    out.push(
        Statement::new("DELETE FROM raw_logs WHERE chain_id = ? AND block_number > ?")
            .bind(chain_id as i64)
            .bind(fork),
    );
    out.push(
        Statement::new("DELETE FROM indexed_blocks WHERE chain_id = ? AND number > ?")
            .bind(chain_id as i64)
            .bind(fork),
    );
    for table in FACT_TABLES {
        out.push(Statement::new(format!("DELETE FROM {table} WHERE block_number > ?")).bind(fork));
    }
    out.extend(payments::undo_vanished(fork, now));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_deletes_every_fact_table_above_the_fork() {
        let statements = rollback(1, 10, 0);
        for table in FACT_TABLES {
            assert!(
                statements
                    .iter()
                    .any(|s| s.sql == format!("DELETE FROM {table} WHERE block_number > ?")),
                "{table}"
            );
        }
        assert!(
            statements
                .iter()
                .any(|s| s.sql.starts_with("DELETE FROM market_listings"))
        );
    }
}
