//! Tickets and their owners: the facts `ticket_mints`, `transfers` and
//! `ticket_status_changes`, and the chain rows of the materialised `tickets` (per batch, and
//! rebuilt after a rollback).

use super::rows::{address, at, dec, hex32, insert_rows, insert_rows_then, positioned};
use shared::chain::{ChainEvent, RawLog};
use shared::sql::{SqlValue, Statement};
use std::collections::BTreeMap;

/// The mint of a ticket within one batch.
struct Mint {
    event: String,
    kind: String,
    tx: String,
    first_owner: String,
    block: i64,
}

/// Final state of a ticket within one batch.
#[derive(Default)]
struct TicketChange {
    minted: Option<Mint>,
    owner: Option<String>,
    status: Option<&'static str>,
}

/// Ticket facts of one batch and each touched ticket's final state.
#[derive(Default)]
pub(super) struct Tickets {
    mints: Vec<Vec<SqlValue>>,
    transfers: Vec<Vec<SqlValue>>,
    statuses: Vec<Vec<SqlValue>>,
    changes: BTreeMap<String, TicketChange>,
}

impl Tickets {
    /// Takes `TicketMinted`, `Transfer`, `TicketUsed` and `TicketRevoked`; ignores anything
    /// else.
    pub(super) fn record(&mut self, log: &RawLog, event: &ChainEvent) {
        match event {
            ChainEvent::TicketMinted {
                token_id,
                event_id,
                type_id,
                to,
            } => {
                self.mints.push(at(
                    log,
                    vec![
                        dec(token_id).into(),
                        dec(event_id).into(),
                        dec(type_id).into(),
                        address(to).into(),
                    ],
                ));
                self.changes.entry(dec(token_id)).or_default().minted = Some(Mint {
                    event: dec(event_id),
                    kind: dec(type_id),
                    tx: hex32(&log.tx_hash),
                    first_owner: address(to),
                    block: log.block_number as i64,
                });
            }
            ChainEvent::Transfer { from, to, token_id } => {
                self.transfers.push(at(
                    log,
                    vec![
                        dec(token_id).into(),
                        address(from).into(),
                        address(to).into(),
                    ],
                ));
                self.changes.entry(dec(token_id)).or_default().owner = Some(address(to));
            }
            ChainEvent::TicketUsed { token_id } | ChainEvent::TicketRevoked { token_id } => {
                let status = if matches!(event, ChainEvent::TicketUsed { .. }) {
                    "used"
                } else {
                    "revoked"
                };
                self.statuses
                    .push(at(log, vec![dec(token_id).into(), status.into()]));
                self.changes.entry(dec(token_id)).or_default().status = Some(status);
            }
            _ => {}
        }
    }

    /// The fact inserts; the materialised rows come later ([`Tickets::materialise`]).
    pub(super) fn facts(&mut self, out: &mut Vec<Statement>) {
        insert_rows(
            "ticket_mints",
            &positioned(&["token_id", "chain_event_id", "chain_type_id", "to_address"]),
            std::mem::take(&mut self.mints),
            out,
        );
        insert_rows(
            "transfers",
            &positioned(&["token_id", "from_address", "to_address"]),
            std::mem::take(&mut self.transfers),
            out,
        );
        insert_rows(
            "ticket_status_changes",
            &positioned(&["token_id", "status"]),
            std::mem::take(&mut self.statuses),
            out,
        );
    }

    /// Each touched ticket's final state: a new row for a ticket minted in the batch, an
    /// update of owner/status for one minted earlier.
    pub(super) fn materialise(self, now: i64, out: &mut Vec<Statement>) {
        let mut new_tickets = Vec::new();
        for (token, change) in self.changes {
            match change.minted {
                Some(mint) => new_tickets.push(vec![
                    format!("chain:{token}").into(),
                    token.into(),
                    mint.event.into(),
                    mint.kind.into(),
                    change.owner.unwrap_or(mint.first_owner).into(),
                    change.status.unwrap_or("valid").into(),
                    mint.tx.into(),
                    mint.block.into(),
                    now.into(),
                    now.into(),
                ]),
                None => out.push(
                    Statement::new(
                        "UPDATE tickets SET owner = COALESCE(?, owner), status = COALESCE(?, status), updated_at = ? WHERE token_id = ?",
                    )
                    .bind(change.owner)
                    .bind(change.status)
                    .bind(now)
                    .bind(token),
                ),
            }
        }
        // A token minted again after a reorg removed its mint (typically the same transaction,
        // included in the new fork) may still have its tombstone: the mint brings it back,
        // still `used` if it was checked in. Any other existing row is a replay: ignored.
        let revive = format!(
            " ON CONFLICT (id) DO UPDATE SET event_id = excluded.event_id,
                 ticket_type_id = excluded.ticket_type_id, owner = excluded.owner,
                 status = CASE WHEN excluded.status = 'valid' THEN {unset} ELSE excluded.status END,
                 mint_tx = excluded.mint_tx, mint_block = excluded.mint_block,
                 removed_at = NULL, removed_owner = NULL, updated_at = excluded.updated_at
             WHERE tickets.removed_at IS NOT NULL",
            unset = unset_status("tickets.id")
        );
        insert_rows_then(
            "tickets",
            &[
                "id",
                "token_id",
                "event_id",
                "ticket_type_id",
                "owner",
                "status",
                "mint_tx",
                "mint_block",
                "created_at",
                "updated_at",
            ],
            new_tickets,
            &revive,
            out,
        );
    }
}

/// The owner of a ticket whose mint a reorg removed but whose check-in history keeps its row:
/// nobody (the zero address, as a burn leaves it), so no wallet counts it as owned.
const NOBODY: &str = "0x0000000000000000000000000000000000000000";

/// The tokens a rollback to `?1` touches: those with a fact above the fork block. Each part is
/// a range of a position primary key, so the scope costs what the removed blocks hold.
const SCOPE: &str = "SELECT token_id FROM ticket_mints WHERE block_number > ?1
         UNION SELECT token_id FROM transfers WHERE block_number > ?1
         UNION SELECT token_id FROM ticket_status_changes WHERE block_number > ?1";

/// What a ticket row with check-in history becomes when its source (mint, or paying deposit)
/// is gone: a tombstone. The check-in and its audit stay true (someone was admitted with it);
/// the row stops counting as anyone's ticket, is refused at the door, and its live pass is
/// revoked as `ticket_removed` (migrations/0008). `?2` is the time.
pub(super) fn tombstone() -> String {
    format!(
        "removed_at = ?2, removed_owner = owner, owner = '{NOBODY}', status = 'revoked', updated_at = ?2"
    )
}

/// A chain ticket's status when the chain has said nothing: `used` once checked in at the door
/// (the scan wrote it; a rollback must not make an admitted ticket valid again), else `valid`.
fn unset_status(ticket_id: &str) -> String {
    format!(
        "CASE WHEN EXISTS (SELECT 1 FROM checkins c WHERE c.ticket_id = {ticket_id}) THEN 'used' ELSE 'valid' END"
    )
}

/// Rebuilds, before a rollback to `fork` deletes the facts above it, the chain rows of
/// `tickets` for the tokens with a fact above `fork`, from their facts up to `fork`. Tokens
/// untouched by the removed blocks keep their rows: the cost follows the reorg, not the
/// history (issue 12).
///
/// Chain tickets are updated in place, never deleted and inserted again: the pass revocation
/// trigger (migrations/0004) sees an owner, seat or status that a rollback changed, like any
/// other change. A ticket whose mint is gone is deleted, which revokes its pass
/// (migrations/0006), unless it was checked in: the check-in references it, so it becomes a
/// tombstone ([`tombstone`]). An unchanged row is not written at all.
pub(super) fn rebuild(fork: i64, now: i64) -> Vec<Statement> {
    let mint_gone = "NOT EXISTS (SELECT 1 FROM ticket_mints m WHERE m.token_id = tickets.token_id AND m.block_number <= ?1)";
    let checked_in = "EXISTS (SELECT 1 FROM checkins c WHERE c.ticket_id = tickets.id)";
    vec![
        Statement::new(format!(
            "UPDATE tickets SET {tombstone}
             WHERE token_id IN ({SCOPE}) AND removed_at IS NULL AND {mint_gone} AND {checked_in}",
            tombstone = tombstone()
        ))
        .bind(fork)
        .bind(now),
        Statement::new(format!(
            "DELETE FROM tickets WHERE token_id IN ({SCOPE}) AND {mint_gone} AND NOT {checked_in}"
        ))
        .bind(fork),
        Statement::new(format!(
            "INSERT INTO tickets (id, token_id, event_id, ticket_type_id, owner, status, mint_tx, mint_block, created_at, updated_at)
             SELECT 'chain:' || m.token_id, m.token_id, m.chain_event_id, m.chain_type_id,
                 COALESCE((SELECT t.to_address FROM transfers t WHERE t.token_id = m.token_id AND t.block_number <= ?1
                           ORDER BY t.block_number DESC, t.log_index DESC LIMIT 1), m.to_address),
                 COALESCE((SELECT s.status FROM ticket_status_changes s WHERE s.token_id = m.token_id AND s.block_number <= ?1
                           ORDER BY s.block_number DESC, s.log_index DESC LIMIT 1), {unset}),
                 m.tx_hash, m.block_number, ?2, ?2
             FROM ticket_mints m WHERE m.block_number <= ?1 AND m.token_id IN ({SCOPE})
             ON CONFLICT (id) DO UPDATE SET
                 token_id = excluded.token_id, event_id = excluded.event_id,
                 ticket_type_id = excluded.ticket_type_id, owner = excluded.owner,
                 status = excluded.status,
                 mint_tx = excluded.mint_tx, mint_block = excluded.mint_block,
                 removed_at = NULL, removed_owner = NULL,
                 updated_at = excluded.updated_at
             WHERE tickets.token_id IS NOT excluded.token_id OR tickets.event_id IS NOT excluded.event_id
                OR tickets.ticket_type_id IS NOT excluded.ticket_type_id OR tickets.owner IS NOT excluded.owner
                OR tickets.status IS NOT excluded.status
                OR tickets.mint_tx IS NOT excluded.mint_tx OR tickets.mint_block IS NOT excluded.mint_block
                OR tickets.removed_at IS NOT NULL",
            unset = unset_status("'chain:' || m.token_id"),
        ))
        .bind(fork)
        .bind(now),
    ]
}
