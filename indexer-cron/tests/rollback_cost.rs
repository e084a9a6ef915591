//! What a reorg rollback reads, measured on the real engine: the local Hrana front (libSQL)
//! with the project's migrations, the indexer's own statements (`project::batch` to write a
//! history, `project::rollback` for a depth-1 reorg), and the front's counters (rows read as
//! libSQL counts them, what Turso bills).
//!
//! Issue 12: a rollback used to rebuild every chain ticket and listing and re-check every
//! chain settlement, so the same one-block reorg cost more the longer the chain's history.
//! Its cost must depend on the reorg window only.

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
