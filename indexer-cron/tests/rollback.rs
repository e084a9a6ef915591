//! Reorg rollbacks on the real engine: the local Hrana front (libSQL) with the project's
//! migrations, the indexer's own statements (`project::batch` to write a history,
//! `project::rollback` for the reorg) and the front's counters (rows read as libSQL counts
//! them, what Turso bills).
//!
//! Issue 12: a rollback used to rebuild every chain ticket and listing and re-check every
//! chain settlement, so the same one-block reorg cost more the longer the chain's history; its
//! cost must depend on the reorg window only. And a rollback that removed the mint (or the
//! paying deposit) of a ticket checked in at the door failed on the check-in's foreign key,
//! stopping the indexer at the fork.

use alloy_primitives::{Address, B256, U256};
use indexer_cron::project::{self, Indexed};
use ops::front::{FrontConfig, HranaConfig, HranaCosts, RunningFronts, STATS_PATH};
use ops::http::ReqwestHttp;
use shared::chain::{ChainEvent, RawLog};
use shared::hrana::HranaClient;
use shared::ports::Sql;
use shared::sql::Statement;
use std::path::Path;
use std::time::Duration;

const CHAIN_ID: u64 = 31337;
const TOKEN: &str = "rollback-cost-token";
/// The first block of a history.
const FIRST_BLOCK: u64 = 100;

/// A scratch database behind the Hrana front, migrated.
struct Db {
    fronts: RunningFronts,
    url: String,
    sql: HranaClient<ReqwestHttp>,
}

impl Db {
    async fn start() -> Db {
        let fronts = ops::front::serve(FrontConfig {
            upstash: None,
            hrana: Some(HranaConfig::new(":memory:", TOKEN)),
        })
        .await
        .expect("the Hrana front starts");
        let url = fronts.hrana_url().expect("hrana address");
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        ops::migrations::apply_dir(&migrations, &url, Some(TOKEN))
            .await
            .expect("migrations apply");
        let http = ReqwestHttp::new(Duration::from_secs(60)).expect("http client");
        let sql = HranaClient::new(http, &url, Some(TOKEN));
        Db { fronts, url, sql }
    }

    /// The front's counters so far.
    async fn costs(&self) -> HranaCosts {
        reqwest::Client::new()
            .get(format!("{}{STATS_PATH}", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("stats request")
            .json()
            .await
            .expect("stats body")
    }

    async fn count(&self, sql: &str) -> i64 {
        let rows = self.sql.execute(Statement::new(sql)).await.expect(sql);
        rows.row(0).expect("a row").get::<i64>("n").expect("n")
    }
}

fn log(block: u64, index: u64) -> RawLog {
    RawLog {
        address: Address::repeat_byte(0x11),
        topics: vec![B256::repeat_byte(0x22)],
        data: vec![],
        block_number: block,
        block_hash: B256::from(U256::from(block)),
        tx_hash: B256::from(U256::from(block * 1000 + index)),
        log_index: index,
    }
}

fn holder(n: u64) -> Address {
    Address::from_word(B256::from(U256::from(0xa000 + n % 7)))
}

/// One token's story in its own block: mint, a resale every third token, a listing sold every
/// tenth, a vault deposit every tenth.
fn block_of(token: u64) -> Vec<Indexed> {
    let block = FIRST_BLOCK + token;
    let id = U256::from(token);
    let mut events = vec![
        ChainEvent::Transfer {
            from: Address::ZERO,
            to: holder(token),
            token_id: id,
        },
        ChainEvent::TicketMinted {
            token_id: id,
            event_id: U256::from(1),
            type_id: U256::from(1),
            to: holder(token),
        },
    ];
    if token.is_multiple_of(3) {
        events.push(ChainEvent::Transfer {
            from: holder(token),
            to: holder(token + 1),
            token_id: id,
        });
    }
    if token.is_multiple_of(10) {
        events.push(ChainEvent::Listed {
            listing_id: id,
            token_id: id,
            seller: holder(token + 1),
            price: U256::from(5),
        });
        events.push(ChainEvent::Sold {
            listing_id: id,
            buyer: holder(token + 2),
            price: U256::from(5),
        });
        events.push(ChainEvent::Deposit {
            order_ref: B256::from(U256::from(token)),
            payer: holder(token),
            token: Address::ZERO,
            amount: U256::from(1000),
        });
    }
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| Indexed {
            log: log(block, i as u64),
            event: Some(event),
        })
        .collect()
}

/// A database holding a history of `tokens` tokens (one block each, with what the sale
/// upkeep records for every deposit), and the block of the last one.
async fn history(tokens: u64) -> (Db, u64) {
    let db = Db::start().await;
    let all: Vec<u64> = (1..=tokens).collect();
    for chunk in all.chunks(100) {
        let indexed: Vec<Indexed> = chunk.iter().flat_map(|t| block_of(*t)).collect();
        let mut statements = project::batch(CHAIN_ID, &indexed, 1);
        for t in chunk.iter().filter(|t| t.is_multiple_of(10)) {
            let deposit = block_of(*t).pop().expect("the deposit log").log;
            statements.push(
                Statement::new(
                    "INSERT INTO chain_settlements (block_number, tx_hash, log_index, kind, outcome, settled_at)
                     VALUES (?, ?, ?, 'deposit', 'unknown_order', 1)",
                )
                .bind(deposit.block_number as i64)
                .bind(format!("{:#x}", deposit.tx_hash))
                .bind(deposit.log_index as i64),
            );
        }
        db.sql
            .batch_atomic(statements)
            .await
            .expect("history written");
    }
    (db, FIRST_BLOCK + tokens)
}

/// Rolls back the last block of a history of `tokens` tokens; what it cost.
async fn depth_1_rollback_after(tokens: u64) -> HranaCosts {
    let (db, last) = history(tokens).await;
    assert_eq!(
        db.count("SELECT count(*) AS n FROM tickets").await,
        tokens as i64
    );
    let before = db.costs().await;
    db.sql
        .batch_atomic(project::rollback(CHAIN_ID, last - 1, 2))
        .await
        .expect("rollback");
    let after = db.costs().await;
    // The last token's mint is gone, everything below stays.
    assert_eq!(
        db.count("SELECT count(*) AS n FROM tickets").await,
        tokens as i64 - 1
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM tickets WHERE token_id = '{}'",
            tokens - 1
        ))
        .await,
        1
    );
    let _ = db.fronts.shutdown().await;
    HranaCosts {
        requests: after.requests - before.requests,
        statements: after.statements - before.statements,
        rows_read: after.rows_read - before.rows_read,
        rows_written: after.rows_written - before.rows_written,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_depth_1_rollback_reads_as_many_rows_after_500_tokens_as_after_50() {
    // Token 50 and token 500 both have a resale, a listing sold and a deposit: the removed
    // block holds the same story in both histories.
    let short = depth_1_rollback_after(50).await;
    let long = depth_1_rollback_after(500).await;
    println!("depth-1 rollback after 50 tokens: {short:?}");
    println!("depth-1 rollback after 500 tokens: {long:?}");
    assert_eq!(long.statements, short.statements);
    // Before issue 12: 569 rows read after 50 tokens, 5,639 after 500.
    assert_eq!(
        long.rows_read, short.rows_read,
        "rows read grow with history: {} after 50 tokens, {} after 500",
        short.rows_read, long.rows_read
    );
    assert_eq!(
        long.rows_written, short.rows_written,
        "rows written grow with history: {} after 50 tokens, {} after 500",
        short.rows_written, long.rows_written
    );
}

/// The materialised rows, as text, in a stable order.
async fn materialised(db: &Db) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT id, token_id, event_id, ticket_type_id, owner, status, mint_tx, mint_block FROM tickets ORDER BY id",
        "SELECT id, token_id, event_id, seller, price, status, created_block, updated_block FROM market_listings ORDER BY id",
        "SELECT count(*) AS n FROM chain_settlements",
    ] {
        let rows = db.sql.execute(Statement::new(sql)).await.expect(sql);
        out.extend(rows.rows.iter().map(|r| format!("{r:?}")));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_leaves_what_indexing_up_to_the_fork_leaves() {
    // Tokens resold in a later block too, so a reorg removes a transfer of a token minted
    // below the fork, and a listing sold above the fork of a token listed below it.
    let later = |token: u64| -> Vec<Indexed> {
        let block = FIRST_BLOCK + 100 + token;
        let id = U256::from(token);
        [
            ChainEvent::Transfer {
                from: holder(token + 1),
                to: holder(token + 3),
                token_id: id,
            },
            ChainEvent::Listed {
                listing_id: U256::from(1000 + token),
                token_id: id,
                seller: holder(token + 3),
                price: U256::from(9),
            },
            ChainEvent::Sold {
                listing_id: U256::from(1000 + token),
                buyer: holder(token + 4),
                price: U256::from(9),
            },
        ]
        .into_iter()
        .enumerate()
        .map(|(i, event)| Indexed {
            log: log(block, i as u64),
            event: Some(event),
        })
        .collect()
    };
    let write = async |db: &Db, up_to: u64| {
        let mut indexed: Vec<Indexed> = (1..=60).flat_map(block_of).collect();
        indexed.extend((1..=30).flat_map(|t| {
            let mut logs = later(t);
            // The sale of a listing a block after it was listed.
            if let Some(sold) = logs.last_mut() {
                sold.log.block_number += 1;
            }
            logs
        }));
        indexed.retain(|i| i.log.block_number <= up_to);
        indexed.sort_by_key(|i| (i.log.block_number, i.log.log_index));
        db.sql
            .batch_atomic(project::batch(CHAIN_ID, &indexed, 1))
            .await
            .expect("history");
    };
    for fork in [
        FIRST_BLOCK + 130,
        FIRST_BLOCK + 120,
        FIRST_BLOCK + 101,
        FIRST_BLOCK + 55,
    ] {
        let rolled_back = Db::start().await;
        write(&rolled_back, u64::MAX).await;
        rolled_back
            .sql
            .batch_atomic(project::rollback(CHAIN_ID, fork, 2))
            .await
            .expect("rollback");
        let indexed_to_fork = Db::start().await;
        write(&indexed_to_fork, fork).await;
        assert_eq!(
            materialised(&rolled_back).await,
            materialised(&indexed_to_fork).await,
            "rollback to {fork}"
        );
        let _ = rolled_back.fronts.shutdown().await;
        let _ = indexed_to_fork.fronts.shutdown().await;
    }
}

/// One text column of the first row.
async fn text(db: &Db, sql: &str) -> Option<String> {
    let rows = db.sql.execute(Statement::new(sql)).await.expect(sql);
    rows.row(0)
        .and_then(|r| r.get::<Option<String>>("v").expect("v"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_keeps_checked_in_tickets_as_tombstones_and_the_check_ins() {
    let (db, last) = history(10).await;
    let fork = last - 1;
    let deposit = block_of(10)
        .pop()
        .expect("token 10's block has a deposit")
        .log;
    let holder_of_10 = shared::domain::WalletAddress::from(holder(10)).checksummed();
    // Token 10 (minted in the last block) and an order paid by the deposit of that block were
    // both admitted at the door; token 10's holder also had a pass.
    db.sql
        .batch_atomic(vec![
            Statement::new("INSERT INTO users (wallet, role, created_at) VALUES ('0xorg', 'organizer', 0)"),
            Statement::new(
                "INSERT INTO events (id, organizer, title, starts_at, ends_at, created_at, updated_at)
                 VALUES ('evt_1', '0xorg', 'e', 0, 1, 0, 0)",
            ),
            Statement::new(
                "INSERT INTO orders (id, order_ref, event_id, payer, status, total, currency, payment_deadline, paid_via, created_at, updated_at)
                 VALUES ('ord_1', '0xref', 'evt_1', '0xpayer', 'paid', '1000', 'ETH', 0, 'chain', 0, 0)",
            ),
            Statement::new(
                "INSERT INTO tickets (id, event_id, order_id, owner, status, created_at, updated_at)
                 VALUES ('tkt_1', 'evt_1', 'ord_1', '0xpayer', 'used', 0, 0)",
            ),
            Statement::new(
                "UPDATE chain_settlements SET order_id = 'ord_1', prev_status = 'pending_payment', outcome = 'paid'
                 WHERE block_number = ? AND log_index = ?",
            )
            .bind(deposit.block_number as i64)
            .bind(deposit.log_index as i64),
            Statement::new("UPDATE tickets SET status = 'used' WHERE id = 'chain:10'"),
            Statement::new(
                "INSERT INTO ticket_passes (pass_id, ticket_id, event_id, key_generation, owner, valid_from, valid_until, issued_at)
                 VALUES ('pass_10', 'chain:10', '1', 1, ?, 0, 1, 0)",
            )
            .bind(holder_of_10.as_str()),
            Statement::new(
                "INSERT INTO checkins (ticket_id, event_id, scanned_at) VALUES ('chain:10', '1', 5), ('tkt_1', 'evt_1', 6)",
            ),
        ])
        .await
        .expect("admissions");

    db.sql
        .batch_atomic(project::rollback(CHAIN_ID, fork, 7))
        .await
        .expect("the rollback goes through");

    for ticket in ["chain:10", "tkt_1"] {
        let rows = db
            .sql
            .execute(
                Statement::new("SELECT owner, status, removed_at FROM tickets WHERE id = ?")
                    .bind(ticket),
            )
            .await
            .expect("ticket");
        let row = rows.row(0).expect("the row stays as a tombstone");
        assert_eq!(
            row.get::<String>("owner").expect("owner"),
            "0x0000000000000000000000000000000000000000",
            "{ticket}: nobody owns it"
        );
        assert_eq!(row.get::<String>("status").expect("status"), "revoked");
        assert_eq!(row.get::<Option<i64>>("removed_at").expect("at"), Some(7));
    }
    assert_eq!(
        text(
            &db,
            "SELECT removed_owner AS v FROM tickets WHERE id = 'chain:10'"
        )
        .await,
        Some(holder_of_10.clone())
    );
    assert_eq!(db.count("SELECT count(*) AS n FROM checkins").await, 2);
    assert_eq!(
        text(
            &db,
            "SELECT reason AS v FROM pass_revocations WHERE pass_id = 'pass_10'"
        )
        .await,
        Some("ticket_removed".to_owned())
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM ticket_passes WHERE revoked_at = 7")
            .await,
        1
    );
    assert_eq!(
        text(&db, "SELECT status AS v FROM orders WHERE id = 'ord_1'").await,
        Some("pending_payment".to_owned())
    );

    // The new fork mints the same token again (the transaction re-included): the ticket is
    // back, still admitted.
    let again: Vec<Indexed> = block_of(10)
        .into_iter()
        .map(|mut i| {
            i.log.block_hash = B256::repeat_byte(0x77);
            i
        })
        .collect();
    db.sql
        .batch_atomic(project::batch(CHAIN_ID, &again, 8))
        .await
        .expect("re-mint");
    let rows = db
        .sql
        .execute(Statement::new(
            "SELECT owner, status, removed_at, removed_owner FROM tickets WHERE id = 'chain:10'",
        ))
        .await
        .expect("ticket");
    let row = rows.row(0).expect("ticket");
    assert_eq!(row.get::<String>("owner").expect("owner"), holder_of_10);
    assert_eq!(row.get::<String>("status").expect("status"), "used");
    assert_eq!(row.get::<Option<i64>>("removed_at").expect("at"), None);
    assert_eq!(
        row.get::<Option<String>>("removed_owner").expect("who"),
        None
    );
    let _ = db.fronts.shutdown().await;
}
