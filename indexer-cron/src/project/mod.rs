//! Projections: the SQL that turns one batch of decoded logs into table rows, the rollback above
//! a fork block, and the rebuild of the materialised tables.
//!
//! Append-only tables (`raw_logs`, `transfers`, `ticket_mints`, `ticket_status_changes`,
//! `listing_events`, `trades`, `deposits`, `refunds`, `chain_events`, `chain_ticket_types`) are
//! keyed by the log's position, so replaying a batch is a no-op (`INSERT OR IGNORE`). The
//! materialised `tickets` (chain rows) and `market_listings` are updated per batch with each
//! entity's final state in the batch, and rebuilt from the append-only tables after a rollback
//! (only the entities the removed blocks touched); the consistency checker rebuilds them from
//! the raw logs and compares.
//!
//! One file per concept: `raw` logs, the `catalog`, `tickets` and owners, the `market`,
//! `payments`, and the `rollback`; this file assembles a batch from them.

mod catalog;
mod market;
mod payments;
mod raw;
mod rollback;
mod rows;
mod tickets;

pub use rollback::rollback;

use shared::chain::{ChainEvent, RawLog};
use shared::sql::Statement;

/// A log with its decoding.
#[derive(Debug, Clone)]
pub struct Indexed {
    pub log: RawLog,
    pub event: Option<ChainEvent>,
}

/// The statements that project one batch, in dependency order: facts first (raw logs, catalog,
/// tickets, market, payments), then the materialised tickets and listings.
pub fn batch(chain_id: u64, indexed: &[Indexed], now_ms: u64) -> Vec<Statement> {
    let mut out = Vec::new();
    raw::insert(chain_id, indexed, &mut out);
    let mut catalog = catalog::Catalog::default();
    let mut tickets = tickets::Tickets::default();
    let mut market = market::Market::default();
    let mut payments = payments::Payments::default();
    for Indexed { log, event } in indexed {
        let Some(event) = event else { continue };
        match event {
            ChainEvent::EventCreated { .. } | ChainEvent::TicketTypeCreated { .. } => {
                catalog.record(log, event);
            }
            ChainEvent::TicketMinted { .. }
            | ChainEvent::Transfer { .. }
            | ChainEvent::TicketUsed { .. }
            | ChainEvent::TicketRevoked { .. } => tickets.record(log, event),
            ChainEvent::Listed { .. }
            | ChainEvent::ListingCancelled { .. }
            | ChainEvent::Sold { .. } => market.record(log, event),
            ChainEvent::Deposit { .. } | ChainEvent::Refunded { .. } => {
                payments.record(log, event);
            }
            ChainEvent::Approval | ChainEvent::ApprovalForAll => {}
        }
    }
    catalog.facts(&mut out);
    tickets.facts(&mut out);
    market.facts(&mut out);
    payments.facts(&mut out);
    tickets.materialise(now_ms as i64, &mut out);
    market.materialise(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::rows::address;
    use super::*;
    use alloy_primitives::{Address, B256, U256};
    use shared::sql::SqlValue;

    fn log(block: u64, index: u64) -> RawLog {
        RawLog {
            address: Address::repeat_byte(1),
            topics: vec![B256::repeat_byte(9)],
            data: vec![],
            block_number: block,
            block_hash: B256::repeat_byte(block as u8),
            tx_hash: B256::repeat_byte(0xee),
            log_index: index,
        }
    }

    #[test]
    fn a_mint_then_transfer_in_one_batch_inserts_the_final_owner() {
        let to = Address::repeat_byte(2);
        let buyer = Address::repeat_byte(3);
        let id = U256::from(7);
        let indexed = vec![
            Indexed {
                log: log(5, 0),
                event: Some(ChainEvent::Transfer {
                    from: Address::ZERO,
                    to,
                    token_id: id,
                }),
            },
            Indexed {
                log: log(5, 1),
                event: Some(ChainEvent::TicketMinted {
                    token_id: id,
                    event_id: U256::from(1),
                    type_id: U256::from(2),
                    to,
                }),
            },
            Indexed {
                log: log(6, 0),
                event: Some(ChainEvent::Transfer {
                    from: to,
                    to: buyer,
                    token_id: id,
                }),
            },
            Indexed {
                log: log(6, 1),
                event: None,
            },
        ];
        let statements = batch(31337, &indexed, 1);
        let ticket = statements
            .iter()
            .find(|s| s.sql.starts_with("INSERT OR IGNORE INTO tickets"))
            .expect("ticket insert");
        assert_eq!(ticket.args[4], SqlValue::Text(address(&buyer)));
        assert_eq!(ticket.args[5], SqlValue::Text("valid".into()));
        let raw = statements
            .iter()
            .find(|s| s.sql.starts_with("INSERT OR IGNORE INTO raw_logs"))
            .expect("raw");
        assert_eq!(
            raw.args.len(),
            4 * 10,
            "every log is kept raw, decoded or not"
        );
        assert!(
            !statements
                .iter()
                .any(|s| s.sql.starts_with("UPDATE tickets")),
            "no update for a token minted in the batch"
        );
    }

    #[test]
    fn large_batches_are_chunked() {
        let indexed: Vec<Indexed> = (0..450)
            .map(|i| Indexed {
                log: log(1, i),
                event: None,
            })
            .collect();
        let raw: Vec<_> = batch(1, &indexed, 0)
            .into_iter()
            .filter(|s| s.sql.contains("raw_logs"))
            .collect();
        assert_eq!(raw.len(), 3);
    }
}
