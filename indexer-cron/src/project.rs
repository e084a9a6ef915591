//! Projections: the SQL that turns one batch of decoded logs into table rows, the rollback above
//! a fork block, and the full rebuild of the materialised tables.
//!
//! Append-only tables (`raw_logs`, `transfers`, `ticket_mints`, `ticket_status_changes`,
//! `listing_events`, `trades`, `deposits`, `refunds`, `chain_events`, `chain_ticket_types`) are
//! keyed by the log's position, so replaying a batch is a no-op (`INSERT OR IGNORE`). The
//! materialised `tickets` (chain rows) and `market_listings` are updated per batch with each
//! entity's final state in the batch, and rebuilt from the append-only tables after a rollback;
//! the consistency checker rebuilds them the same way and compares.

use alloy_primitives::{Address, B256, U256};
use shared::chain::{ChainEvent, RawLog};
use shared::domain::WalletAddress;
use shared::sql::{SqlValue, Statement};
use std::collections::BTreeMap;

/// Rows per multi-row INSERT (well under SQLite's 32766 bound variables).
const ROWS_PER_INSERT: usize = 200;

/// A log with its decoding.
#[derive(Debug, Clone)]
pub struct Indexed {
    pub log: RawLog,
    pub event: Option<ChainEvent>,
}

fn hex32(value: &B256) -> String {
    format!("{value:#x}")
}

fn address(value: &Address) -> String {
    WalletAddress::from(*value).checksummed()
}

fn dec(value: &U256) -> String {
    value.to_string()
}

/// `INSERT OR IGNORE INTO <table> (<columns>) VALUES (…), (…)` in chunks.
fn insert_rows(table: &str, columns: &[&str], rows: Vec<Vec<SqlValue>>, out: &mut Vec<Statement>) {
    let placeholders = format!("({})", vec!["?"; columns.len()].join(", "));
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values = vec![placeholders.as_str(); chunk.len()].join(", ");
        let sql = format!(
            "INSERT OR IGNORE INTO {table} ({}) VALUES {values}",
            columns.join(", ")
        );
        let statement = chunk
            .iter()
            .flatten()
            .cloned()
            .fold(Statement::new(sql), Statement::bind);
        out.push(statement);
    }
}

fn position(log: &RawLog) -> [SqlValue; 3] {
    [
        (log.block_number as i64).into(),
        hex32(&log.tx_hash).into(),
        (log.log_index as i64).into(),
    ]
}

/// Final state of a ticket within one batch.
#[derive(Default)]
struct TicketChange {
    minted: Option<(String, String, String, String, i64)>, // event, type, mint tx, first owner, block
    owner: Option<String>,
    status: Option<&'static str>,
}

/// Final state of a listing within one batch.
#[derive(Default)]
struct ListingChange {
    listed: Option<(String, String, String, i64)>, // token, seller, price, block
    status: Option<&'static str>,
    last_block: i64,
}

/// The statements that project one batch, in dependency order (facts first).
pub fn batch(chain_id: u64, indexed: &[Indexed], now_ms: u64) -> Vec<Statement> {
    let mut out = Vec::new();
    let raw: Vec<Vec<SqlValue>> = indexed
        .iter()
        .map(|i| {
            let log = &i.log;
            let topics: Vec<String> = log.topics.iter().map(hex32).collect();
            vec![
                (chain_id as i64).into(),
                (log.block_number as i64).into(),
                hex32(&log.block_hash).into(),
                hex32(&log.tx_hash).into(),
                (log.log_index as i64).into(),
                address(&log.address).into(),
                topics.first().cloned().into(),
                serde_json::Value::from(topics).to_string().into(),
                format!("0x{}", hex::encode(&log.data)).into(),
                i.event.is_some().into(),
            ]
        })
        .collect();
    insert_rows(
        "raw_logs",
        &[
            "chain_id",
            "block_number",
            "block_hash",
            "tx_hash",
            "log_index",
            "address",
            "topic0",
            "topics",
            "data",
            "decoded",
        ],
        raw,
        &mut out,
    );

    let (mut events, mut types, mut mints, mut transfers, mut statuses) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut listing_events, mut trades) = (vec![], vec![]);
    let (mut deposits, mut refunds): (Vec<Vec<SqlValue>>, Vec<Vec<SqlValue>>) = (vec![], vec![]);
    let mut tickets: BTreeMap<String, TicketChange> = BTreeMap::new();
    let mut listings: BTreeMap<String, ListingChange> = BTreeMap::new();
    for Indexed { log, event } in indexed {
        let Some(event) = event else { continue };
        let at = position(log);
        let block = log.block_number as i64;
        match event {
            ChainEvent::EventCreated {
                event_id,
                organizer,
                name,
            } => {
                events.push(
                    [
                        at.to_vec(),
                        vec![
                            dec(event_id).into(),
                            address(organizer).into(),
                            name.clone().into(),
                        ],
                    ]
                    .concat(),
                );
            }
            ChainEvent::TicketTypeCreated {
                event_id,
                type_id,
                price,
                supply,
            } => {
                types.push(
                    [
                        at.to_vec(),
                        vec![
                            dec(event_id).into(),
                            dec(type_id).into(),
                            dec(price).into(),
                            dec(supply).into(),
                        ],
                    ]
                    .concat(),
                );
            }
            ChainEvent::TicketMinted {
                token_id,
                event_id,
                type_id,
                to,
            } => {
                mints.push(
                    [
                        at.to_vec(),
                        vec![
                            dec(token_id).into(),
                            dec(event_id).into(),
                            dec(type_id).into(),
                            address(to).into(),
                        ],
                    ]
                    .concat(),
                );
                let change = tickets.entry(dec(token_id)).or_default();
                change.minted = Some((
                    dec(event_id),
                    dec(type_id),
                    hex32(&log.tx_hash),
                    address(to),
                    block,
                ));
            }
            ChainEvent::Transfer { from, to, token_id } => {
                transfers.push(
                    [
                        at.to_vec(),
                        vec![
                            dec(token_id).into(),
                            address(from).into(),
                            address(to).into(),
                        ],
                    ]
                    .concat(),
                );
                tickets.entry(dec(token_id)).or_default().owner = Some(address(to));
            }
            ChainEvent::TicketUsed { token_id } | ChainEvent::TicketRevoked { token_id } => {
                let status = if matches!(event, ChainEvent::TicketUsed { .. }) {
                    "used"
                } else {
                    "revoked"
                };
                statuses.push([at.to_vec(), vec![dec(token_id).into(), status.into()]].concat());
                tickets.entry(dec(token_id)).or_default().status = Some(status);
            }
            ChainEvent::Listed {
                listing_id,
                token_id,
                seller,
                price,
            } => {
                listing_events.push(
                    [
                        at.to_vec(),
                        vec![
                            dec(listing_id).into(),
                            "listed".into(),
                            dec(token_id).into(),
                            address(seller).into(),
                            SqlValue::Null,
                            dec(price).into(),
                        ],
                    ]
                    .concat(),
                );
                let change = listings.entry(dec(listing_id)).or_default();
                change.listed = Some((dec(token_id), address(seller), dec(price), block));
                change.last_block = block;
            }
            ChainEvent::ListingCancelled { listing_id } => {
                listing_events.push(
                    [
                        at.to_vec(),
                        vec![
                            dec(listing_id).into(),
                            "cancelled".into(),
                            SqlValue::Null,
                            SqlValue::Null,
                            SqlValue::Null,
                            SqlValue::Null,
                        ],
                    ]
                    .concat(),
                );
                let change = listings.entry(dec(listing_id)).or_default();
                change.status = Some("cancelled");
                change.last_block = block;
            }
            ChainEvent::Sold {
                listing_id,
                buyer,
                price,
            } => {
                listing_events.push(
                    [
                        at.to_vec(),
                        vec![
                            dec(listing_id).into(),
                            "sold".into(),
                            SqlValue::Null,
                            SqlValue::Null,
                            address(buyer).into(),
                            dec(price).into(),
                        ],
                    ]
                    .concat(),
                );
                trades.push(vec![
                    dec(listing_id).into(),
                    address(buyer).into(),
                    dec(price).into(),
                    hex32(&log.tx_hash).into(),
                    (log.log_index as i64).into(),
                    block.into(),
                ]);
                let change = listings.entry(dec(listing_id)).or_default();
                change.status = Some("sold");
                change.last_block = block;
            }
            ChainEvent::Deposit {
                order_ref,
                payer,
                token,
                amount,
            } => {
                deposits.push(vec![
                    hex32(order_ref).into(),
                    address(payer).into(),
                    address(token).into(),
                    dec(amount).into(),
                    hex32(&log.tx_hash).into(),
                    (log.log_index as i64).into(),
                    block.into(),
                ]);
            }
            ChainEvent::Refunded {
                order_ref,
                payer,
                amount,
            } => {
                refunds.push(vec![
                    hex32(order_ref).into(),
                    address(payer).into(),
                    dec(amount).into(),
                    hex32(&log.tx_hash).into(),
                    (log.log_index as i64).into(),
                    block.into(),
                ]);
            }
            ChainEvent::Approval | ChainEvent::ApprovalForAll => {}
        }
    }
    let pos = ["block_number", "tx_hash", "log_index"];
    insert_rows(
        "chain_events",
        &[&pos[..], &["chain_event_id", "organizer", "name"]].concat(),
        events,
        &mut out,
    );
    insert_rows(
        "chain_ticket_types",
        &[
            &pos[..],
            &["chain_event_id", "chain_type_id", "price", "supply"],
        ]
        .concat(),
        types,
        &mut out,
    );
    insert_rows(
        "ticket_mints",
        &[
            &pos[..],
            &["token_id", "chain_event_id", "chain_type_id", "to_address"],
        ]
        .concat(),
        mints,
        &mut out,
    );
    insert_rows(
        "transfers",
        &[&pos[..], &["token_id", "from_address", "to_address"]].concat(),
        transfers,
        &mut out,
    );
    insert_rows(
        "ticket_status_changes",
        &[&pos[..], &["token_id", "status"]].concat(),
        statuses,
        &mut out,
    );
    insert_rows(
        "listing_events",
        &[
            &pos[..],
            &["listing_id", "kind", "token_id", "seller", "buyer", "price"],
        ]
        .concat(),
        listing_events,
        &mut out,
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
        trades,
        &mut out,
    );
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
        deposits,
        &mut out,
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
        refunds,
        &mut out,
    );

    let now = now_ms as i64;
    let mut new_tickets = Vec::new();
    for (token, change) in tickets {
        match change.minted {
            Some((event, kind, tx, first_owner, block)) => new_tickets.push(vec![
                format!("chain:{token}").into(),
                token.into(),
                event.into(),
                kind.into(),
                change.owner.unwrap_or(first_owner).into(),
                change.status.unwrap_or("valid").into(),
                tx.into(),
                block.into(),
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
    insert_rows(
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
        &mut out,
    );
    for (id, change) in listings {
        match change.listed {
            Some((token, seller, price, block)) => out.push(
                Statement::new(
                    "INSERT OR IGNORE INTO market_listings (id, token_id, event_id, seller, price, currency, status, created_block, updated_block)
                     VALUES (?, ?, (SELECT chain_event_id FROM ticket_mints WHERE token_id = ? LIMIT 1), ?, ?, 'ETH', ?, ?, ?)",
                )
                .bind(id)
                .bind(token.as_str())
                .bind(token.as_str())
                .bind(seller)
                .bind(price)
                .bind(change.status.unwrap_or("listed"))
                .bind(block)
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
    out
}

/// Facts above `fork` (exclusive), dropped by a rollback.
const FACT_TABLES: &[&str] = &[
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

/// Deletes everything above `fork` and rebuilds the materialised tables.
pub fn rollback(chain_id: u64, fork: u64, now_ms: u64) -> Vec<Statement> {
    let fork = fork as i64;
    let mut out = vec![
        Statement::new("DELETE FROM raw_logs WHERE chain_id = ? AND block_number > ?")
            .bind(chain_id as i64)
            .bind(fork),
        Statement::new("DELETE FROM indexed_blocks WHERE chain_id = ? AND number > ?")
            .bind(chain_id as i64)
            .bind(fork),
    ];
    for table in FACT_TABLES {
        out.push(Statement::new(format!("DELETE FROM {table} WHERE block_number > ?")).bind(fork));
    }
    out.extend(rebuild(now_ms));
    out
}

/// A `chain_settlements` row (`s`) whose deposit or refund is gone.
const VANISHED: &str = "NOT EXISTS (SELECT 1 FROM deposits d WHERE d.block_number = s.block_number AND d.tx_hash = s.tx_hash AND d.log_index = s.log_index)
     AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.block_number = s.block_number AND r.tx_hash = s.tx_hash AND r.log_index = s.log_index)";

/// Rebuilds `tickets` (chain rows), `market_listings` and chain-paid order states from the
/// append-only tables.
pub fn rebuild(now_ms: u64) -> Vec<Statement> {
    let now = now_ms as i64;
    vec![
        // Chain tickets are updated in place, never deleted and inserted again: the pass
        // revocation trigger (migrations/0004) sees an owner, seat or status that a rollback
        // changed, like any other change (and a ticket with a pass, which a foreign key
        // references, can be rolled back at all). A ticket whose mint is gone is deleted, which
        // revokes its pass (migrations/0006). An unchanged row is not written at all.
        Statement::new(
            "DELETE FROM tickets WHERE token_id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM ticket_mints m WHERE m.token_id = tickets.token_id)",
        ),
        Statement::new(
            "INSERT INTO tickets (id, token_id, event_id, ticket_type_id, owner, status, mint_tx, mint_block, created_at, updated_at)
             SELECT 'chain:' || m.token_id, m.token_id, m.chain_event_id, m.chain_type_id,
                 COALESCE((SELECT t.to_address FROM transfers t WHERE t.token_id = m.token_id
                           ORDER BY t.block_number DESC, t.log_index DESC LIMIT 1), m.to_address),
                 COALESCE((SELECT s.status FROM ticket_status_changes s WHERE s.token_id = m.token_id
                           ORDER BY s.block_number DESC, s.log_index DESC LIMIT 1), 'valid'),
                 m.tx_hash, m.block_number, ?1, ?1
             FROM ticket_mints m WHERE true
             ON CONFLICT (id) DO UPDATE SET
                 token_id = excluded.token_id, event_id = excluded.event_id,
                 ticket_type_id = excluded.ticket_type_id, owner = excluded.owner,
                 status = excluded.status,
                 mint_tx = excluded.mint_tx, mint_block = excluded.mint_block,
                 updated_at = excluded.updated_at
             WHERE tickets.token_id IS NOT excluded.token_id OR tickets.event_id IS NOT excluded.event_id
                OR tickets.ticket_type_id IS NOT excluded.ticket_type_id OR tickets.owner IS NOT excluded.owner
                OR tickets.status IS NOT excluded.status
                OR tickets.mint_tx IS NOT excluded.mint_tx OR tickets.mint_block IS NOT excluded.mint_block",
        )
        .bind(now),
        Statement::new("DELETE FROM market_listings"),
        Statement::new(
            "INSERT INTO market_listings (id, token_id, event_id, seller, price, currency, status, created_block, updated_block)
             SELECT l.listing_id, l.token_id,
                 (SELECT m.chain_event_id FROM ticket_mints m WHERE m.token_id = l.token_id LIMIT 1),
                 l.seller, l.price, 'ETH',
                 COALESCE((SELECT e.kind FROM listing_events e WHERE e.listing_id = l.listing_id AND e.kind <> 'listed'
                           ORDER BY e.block_number DESC, e.log_index DESC LIMIT 1), 'listed'),
                 l.block_number,
                 (SELECT max(e.block_number) FROM listing_events e WHERE e.listing_id = l.listing_id)
             FROM listing_events l WHERE l.kind = 'listed'",
        ),
        // Chain payments applied to orders (`chain_settlements`, written by the API's sale
        // upkeep) whose fact a rollback removed are undone from what their row recorded.
        Statement::new(format!(
            "DELETE FROM tickets WHERE token_id IS NULL AND order_id IN
                 (SELECT s.order_id FROM chain_settlements s WHERE s.kind = 'deposit' AND s.prev_status IS NOT NULL AND {VANISHED})"
        )),
        Statement::new(format!(
            "UPDATE tickets SET status = 'valid', updated_at = ?1 WHERE token_id IS NULL AND status = 'revoked' AND order_id IN
                 (SELECT s.order_id FROM chain_settlements s WHERE s.kind = 'refund' AND s.prev_status IS NOT NULL AND {VANISHED})"
        ))
        .bind(now),
        Statement::new(format!(
            "UPDATE orders SET status = (SELECT s.prev_status FROM chain_settlements s WHERE s.order_id = orders.id
                     AND s.prev_status IS NOT NULL AND {VANISHED} ORDER BY s.block_number, s.log_index LIMIT 1),
                 paid_via = CASE WHEN paid_via = 'chain' AND status IN ('paid', 'overpaid') THEN NULL ELSE paid_via END,
                 paid_at = CASE WHEN paid_via = 'chain' AND status IN ('paid', 'overpaid') THEN NULL ELSE paid_at END,
                 updated_at = ?1
             WHERE id IN (SELECT s.order_id FROM chain_settlements s WHERE s.prev_status IS NOT NULL AND {VANISHED})"
        ))
        .bind(now),
        Statement::new(format!(
            "DELETE FROM refund_records WHERE source IN (SELECT 'chain:' || s.block_number || ':' || s.tx_hash || ':' || s.log_index
                 FROM chain_settlements s WHERE {VANISHED})"
        )),
        Statement::new(format!(
            "UPDATE refund_records SET status = 'open', closed_by = NULL, closed_at = NULL WHERE closed_by IN
                 (SELECT 'chain:' || s.block_number || ':' || s.tx_hash || ':' || s.log_index FROM chain_settlements s WHERE {VANISHED})"
        )),
        Statement::new(format!("DELETE FROM chain_settlements AS s WHERE {VANISHED}")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

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
