//! The resale market: the facts `listing_events` and `trades`, and the materialised
//! `market_listings` (per batch, and rebuilt after a rollback).

use super::rows::{address, at, dec, hex32, insert_rows, positioned};
use shared::chain::{ChainEvent, RawLog};
use shared::sql::{SqlValue, Statement};
use std::collections::BTreeMap;

/// A listing created within one batch.
struct Listed {
    token: String,
    seller: String,
    price: String,
    block: i64,
}

/// Final state of a listing within one batch.
#[derive(Default)]
struct ListingChange {
    listed: Option<Listed>,
    status: Option<&'static str>,
    last_block: i64,
}

/// Market facts of one batch and each touched listing's final state.
#[derive(Default)]
pub(super) struct Market {
    events: Vec<Vec<SqlValue>>,
    trades: Vec<Vec<SqlValue>>,
    changes: BTreeMap<String, ListingChange>,
}

impl Market {
    /// Takes `Listed`, `ListingCancelled` and `Sold`; ignores anything else.
    pub(super) fn record(&mut self, log: &RawLog, event: &ChainEvent) {
        let block = log.block_number as i64;
        match event {
            ChainEvent::Listed {
                listing_id,
                token_id,
                seller,
                price,
            } => {
                self.events.push(at(
                    log,
                    vec![
                        dec(listing_id).into(),
                        "listed".into(),
                        dec(token_id).into(),
                        address(seller).into(),
                        SqlValue::Null,
                        dec(price).into(),
                    ],
                ));
                let change = self.changes.entry(dec(listing_id)).or_default();
                change.listed = Some(Listed {
                    token: dec(token_id),
                    seller: address(seller),
                    price: dec(price),
                    block,
                });
                change.last_block = block;
            }
            ChainEvent::ListingCancelled { listing_id } => {
                self.events.push(at(
                    log,
                    vec![
                        dec(listing_id).into(),
                        "cancelled".into(),
                        SqlValue::Null,
                        SqlValue::Null,
                        SqlValue::Null,
                        SqlValue::Null,
                    ],
                ));
                let change = self.changes.entry(dec(listing_id)).or_default();
                change.status = Some("cancelled");
                change.last_block = block;
            }
            ChainEvent::Sold {
                listing_id,
                buyer,
                price,
            } => {
                self.events.push(at(
                    log,
                    vec![
                        dec(listing_id).into(),
                        "sold".into(),
                        SqlValue::Null,
                        SqlValue::Null,
                        address(buyer).into(),
                        dec(price).into(),
                    ],
                ));
                self.trades.push(vec![
                    dec(listing_id).into(),
                    address(buyer).into(),
                    dec(price).into(),
                    hex32(&log.tx_hash).into(),
                    (log.log_index as i64).into(),
                    block.into(),
                ]);
                let change = self.changes.entry(dec(listing_id)).or_default();
                change.status = Some("sold");
                change.last_block = block;
            }
            _ => {}
        }
    }

    /// The fact inserts; the materialised rows come later ([`Market::materialise`]).
    pub(super) fn facts(&mut self, out: &mut Vec<Statement>) {
        insert_rows(
            "listing_events",
            &positioned(&["listing_id", "kind", "token_id", "seller", "buyer", "price"]),
            std::mem::take(&mut self.events),
            out,
        );
        insert_rows(
            "trades",
            &[
                "listing_id",
                "buyer",
                "price",
                "tx_hash",
                "log_index",
                "block_number",
            ],
            std::mem::take(&mut self.trades),
            out,
        );
    }

    /// Each touched listing's final state. Runs after the ticket facts: a listing's event is
    /// its token's mint's, which may be in the same batch.
    pub(super) fn materialise(self, out: &mut Vec<Statement>) {
        for (id, change) in self.changes {
            match change.listed {
                Some(listed) => out.push(
                    Statement::new(
                        "INSERT OR IGNORE INTO market_listings (id, token_id, event_id, seller, price, currency, status, created_block, updated_block)
                         VALUES (?, ?, (SELECT chain_event_id FROM ticket_mints WHERE token_id = ? LIMIT 1), ?, ?, 'ETH', ?, ?, ?)",
                    )
                    .bind(id)
                    .bind(listed.token.as_str())
                    .bind(listed.token.as_str())
                    .bind(listed.seller)
                    .bind(listed.price)
                    .bind(change.status.unwrap_or("listed"))
                    .bind(listed.block)
                    .bind(change.last_block),
                ),
                None => out.push(
                    Statement::new("UPDATE market_listings SET status = COALESCE(?, status), updated_block = ? WHERE id = ?")
                        .bind(change.status)
                        .bind(change.last_block)
                        .bind(id),
                ),
            }
        }
    }
}

/// Rebuilds, before a rollback to `fork` deletes the facts above it, the `market_listings`
/// rows of the listings with an event above `fork`, from their events up to `fork` (a
/// listing created above the fork is gone). Other listings keep their rows: the cost follows
/// the reorg, not the history (issue 12).
pub(super) fn rebuild(fork: i64) -> Vec<Statement> {
    let scope = "SELECT listing_id FROM listing_events WHERE block_number > ?1";
    vec![
        Statement::new(format!("DELETE FROM market_listings WHERE id IN ({scope})")).bind(fork),
        Statement::new(format!(
            "INSERT INTO market_listings (id, token_id, event_id, seller, price, currency, status, created_block, updated_block)
             SELECT l.listing_id, l.token_id,
                 (SELECT m.chain_event_id FROM ticket_mints m WHERE m.token_id = l.token_id AND m.block_number <= ?1 LIMIT 1),
                 l.seller, l.price, 'ETH',
                 COALESCE((SELECT e.kind FROM listing_events e WHERE e.listing_id = l.listing_id AND e.kind <> 'listed'
                           AND e.block_number <= ?1 ORDER BY e.block_number DESC, e.log_index DESC LIMIT 1), 'listed'),
                 l.block_number,
                 (SELECT max(e.block_number) FROM listing_events e WHERE e.listing_id = l.listing_id AND e.block_number <= ?1)
             FROM listing_events l WHERE l.kind = 'listed' AND l.block_number <= ?1 AND l.listing_id IN ({scope})"
        ))
        .bind(fork),
    ]
}
