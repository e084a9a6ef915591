//! Chain payments: the facts `deposits` and `refunds`, and undoing what the API's sale upkeep
//! applied to orders (`chain_settlements`) when a rollback removes the fact it applied.

use super::rows::{address, dec, hex32, insert_rows};
use super::tickets;
use shared::chain::{ChainEvent, RawLog};
use shared::sql::{SqlValue, Statement};

/// Payment facts of one batch.
#[derive(Default)]
pub(super) struct Payments {
    deposits: Vec<Vec<SqlValue>>,
    refunds: Vec<Vec<SqlValue>>,
}

impl Payments {
    /// Takes `Deposit` and `Refunded`; ignores anything else.
    pub(super) fn record(&mut self, log: &RawLog, event: &ChainEvent) {
        let block = log.block_number as i64;
        match event {
            ChainEvent::Deposit {
                order_ref,
                payer,
                token,
                amount,
            } => self.deposits.push(vec![
                hex32(order_ref).into(),
                address(payer).into(),
                address(token).into(),
                dec(amount).into(),
                hex32(&log.tx_hash).into(),
                (log.log_index as i64).into(),
                block.into(),
            ]),
            ChainEvent::Refunded {
                order_ref,
                payer,
                amount,
            } => self.refunds.push(vec![
                hex32(order_ref).into(),
                address(payer).into(),
                dec(amount).into(),
                hex32(&log.tx_hash).into(),
                (log.log_index as i64).into(),
                block.into(),
            ]),
            _ => {}
        }
    }

    /// The fact inserts.
    pub(super) fn facts(self, out: &mut Vec<Statement>) {
        insert_rows(
            "deposits",
            &[
                "order_ref",
                "payer",
                "token",
                "amount",
                "tx_hash",
                "log_index",
                "block_number",
            ],
            self.deposits,
            out,
        );
        insert_rows(
            "refunds",
            &[
                "order_ref",
                "payer",
                "amount",
                "tx_hash",
                "log_index",
                "block_number",
            ],
            self.refunds,
            out,
        );
    }
}

/// A `chain_settlements` row (`s`) whose deposit or refund a rollback to `?1` removed. Only
/// rows above the fork block can be (their fact was above it): the block bound keeps the check
/// to a range of the position key instead of every settlement ever made (issue 12).
const VANISHED: &str = "s.block_number > ?1
     AND NOT EXISTS (SELECT 1 FROM deposits d WHERE d.block_number = s.block_number AND d.tx_hash = s.tx_hash AND d.log_index = s.log_index)
     AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.block_number = s.block_number AND r.tx_hash = s.tx_hash AND r.log_index = s.log_index)";

/// Undoes, after a rollback to `fork` deleted the facts above it and from what their row
/// recorded, the chain payments applied to orders (`chain_settlements`, written by the API's
/// sale upkeep) whose fact is gone.
///
/// The tickets an undone deposit issued are deleted, except one checked in at the door: the
/// check-in references it, so it becomes a tombstone like a chain ticket whose mint is gone.
pub(super) fn undo_vanished(fork: i64, now: i64) -> Vec<Statement> {
    let issued_by_vanished_deposit = format!(
        "token_id IS NULL AND order_id IN
             (SELECT s.order_id FROM chain_settlements s WHERE s.kind = 'deposit' AND s.prev_status IS NOT NULL AND {VANISHED})"
    );
    let checked_in = "EXISTS (SELECT 1 FROM checkins c WHERE c.ticket_id = tickets.id)";
    vec![
        Statement::new(format!(
            "UPDATE tickets SET {tombstone} WHERE {issued_by_vanished_deposit} AND removed_at IS NULL AND {checked_in}",
            tombstone = tickets::tombstone()
        ))
        .bind(fork)
        .bind(now),
        Statement::new(format!(
            "DELETE FROM tickets WHERE {issued_by_vanished_deposit} AND NOT {checked_in}"
        ))
        .bind(fork),
        Statement::new(format!(
            "UPDATE tickets SET status = 'valid', updated_at = ?2 WHERE token_id IS NULL AND status = 'revoked' AND removed_at IS NULL AND order_id IN
                 (SELECT s.order_id FROM chain_settlements s WHERE s.kind = 'refund' AND s.prev_status IS NOT NULL AND {VANISHED})"
        ))
        .bind(fork)
        .bind(now),
        Statement::new(format!(
            "UPDATE orders SET status = (SELECT s.prev_status FROM chain_settlements s WHERE s.order_id = orders.id
                     AND s.prev_status IS NOT NULL AND {VANISHED} ORDER BY s.block_number, s.log_index LIMIT 1),
                 paid_via = CASE WHEN paid_via = 'chain' AND status IN ('paid', 'overpaid') THEN NULL ELSE paid_via END,
                 paid_at = CASE WHEN paid_via = 'chain' AND status IN ('paid', 'overpaid') THEN NULL ELSE paid_at END,
                 updated_at = ?2
             WHERE id IN (SELECT s.order_id FROM chain_settlements s WHERE s.prev_status IS NOT NULL AND {VANISHED})"
        ))
        .bind(fork)
        .bind(now),
        Statement::new(format!(
            "DELETE FROM refund_records WHERE source IN (SELECT 'chain:' || s.block_number || ':' || s.tx_hash || ':' || s.log_index
                 FROM chain_settlements s WHERE {VANISHED})"
        ))
        .bind(fork),
        Statement::new(format!(
            "UPDATE refund_records SET status = 'open', closed_by = NULL, closed_at = NULL WHERE closed_by IN
                 (SELECT 'chain:' || s.block_number || ':' || s.tx_hash || ':' || s.log_index FROM chain_settlements s WHERE {VANISHED})"
        ))
        .bind(fork),
        Statement::new(format!("DELETE FROM chain_settlements AS s WHERE {VANISHED}")).bind(fork),
    ]
}
