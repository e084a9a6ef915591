//! Native indexer operations: re-indexing from a block, and the consistency checker that
//! rebuilds every projection from the raw logs into a scratch database and diffs it against
//! the live one (the chaos tests use it as their oracle).

use crate::front::{self, FrontConfig, HranaConfig};
use crate::http::ReqwestHttp;
use alloy_primitives::{Address, B256};
use indexer_cron::project::{self, Indexed};
use shared::chain::{RawLog, decode};
use shared::hrana::HranaClient;
use shared::ports::Sql;
use shared::sql::{Rows, SqlError, Statement};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn client(url: &str, auth_token: Option<&str>) -> Result<HranaClient<ReqwestHttp>, String> {
    let http = ReqwestHttp::new(Duration::from_secs(60)).map_err(|e| e.to_string())?;
    Ok(HranaClient::new(http, url, auth_token))
}

/// Drops every raw log and projection at or above `from_block` and moves the cursor below it,
/// in one atomic batch; the next ticks re-index from the chain.
///
/// # Errors
/// A message when the database fails.
pub async fn reindex(
    url: &str,
    auth_token: Option<&str>,
    chain_id: u64,
    from_block: u64,
) -> Result<(), String> {
    let sql = client(url, auth_token)?;
    let fork = from_block.saturating_sub(1);
    let mut statements = project::rollback(chain_id, fork, now_ms());
    statements.push(
        Statement::new(
            "UPDATE indexer_cursor SET last_block = ?, last_block_hash = NULL, updated_at = ? WHERE chain_id = ? AND last_block > ?",
        )
        .bind(fork as i64)
        .bind(now_ms() as i64)
        .bind(chain_id as i64)
        .bind(fork as i64),
    );
    sql.batch_atomic(statements)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Differences in one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDiff {
    pub table: &'static str,
    pub live_rows: usize,
    pub rebuilt_rows: usize,
    /// Rows only in the live table / only in the rebuild (a few examples, as text).
    pub only_live: Vec<String>,
    pub only_rebuilt: Vec<String>,
}

/// The checker's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub raw_logs: usize,
    pub tables: Vec<TableDiff>,
}

impl CheckReport {
    /// Whether every projection equals its rebuild.
    pub fn consistent(&self) -> bool {
        self.tables
            .iter()
            .all(|t| t.only_live.is_empty() && t.only_rebuilt.is_empty())
    }
}

/// Projections compared, with the columns that must agree (timestamps of the write differ).
const COMPARED: &[(&str, &str)] = &[
    (
        "chain_events",
        "block_number, tx_hash, log_index, chain_event_id, organizer, name",
    ),
    (
        "chain_ticket_types",
        "block_number, tx_hash, log_index, chain_event_id, chain_type_id, price, supply",
    ),
    (
        "ticket_mints",
        "block_number, tx_hash, log_index, token_id, chain_event_id, chain_type_id, to_address",
    ),
    (
        "transfers",
        "block_number, tx_hash, log_index, token_id, from_address, to_address",
    ),
    (
        "ticket_status_changes",
        "block_number, tx_hash, log_index, token_id, status",
    ),
    (
        "listing_events",
        "block_number, tx_hash, log_index, listing_id, kind, token_id, seller, buyer, price",
    ),
    (
        "trades",
        "listing_id, buyer, price, tx_hash, log_index, block_number",
    ),
    (
        "deposits",
        "order_ref, payer, token, amount, tx_hash, log_index, block_number",
    ),
    (
        "refunds",
        "order_ref, payer, amount, tx_hash, log_index, block_number",
    ),
    (
        "tickets",
        "id, token_id, event_id, ticket_type_id, owner, status, mint_tx, mint_block",
    ),
    (
        "market_listings",
        "id, token_id, event_id, seller, price, currency, status, created_block, updated_block",
    ),
];

fn rows_as_text(rows: &Rows) -> Vec<String> {
    let mut out: Vec<String> = rows.rows.iter().map(|r| format!("{r:?}")).collect();
    out.sort();
    out
}

async fn table<S: Sql>(sql: &S, table: &str, columns: &str) -> Result<Vec<String>, SqlError> {
    let filter = if table == "tickets" {
        // A tombstone (a checked-in ticket whose mint a reorg removed, migration 0008) is
        // history, not a projection of the chain: the rebuild has no row for it.
        " WHERE token_id IS NOT NULL AND removed_at IS NULL"
    } else {
        ""
    };
    Ok(rows_as_text(
        &sql.execute(Statement::new(format!(
            "SELECT {columns} FROM {table}{filter}"
        )))
        .await?,
    ))
}

fn raw_log(row: shared::sql::Row<'_>) -> Result<RawLog, String> {
    let text = |name: &str| row.get::<String>(name).map_err(|e| e.to_string());
    let hash = |name: &str| -> Result<B256, String> {
        text(name)?.parse().map_err(|e| format!("{name}: {e}"))
    };
    let topics: Vec<String> = serde_json::from_str(&text("topics")?).map_err(|e| e.to_string())?;
    Ok(RawLog {
        address: text("address")?
            .parse::<Address>()
            .map_err(|e| e.to_string())?,
        topics: topics
            .iter()
            .map(|t| t.parse().map_err(|e| format!("topic: {e}")))
            .collect::<Result<_, String>>()?,
        data: hex::decode(text("data")?.trim_start_matches("0x")).map_err(|e| e.to_string())?,
        block_number: row.get::<i64>("block_number").map_err(|e| e.to_string())? as u64,
        block_hash: hash("block_hash")?,
        tx_hash: hash("tx_hash")?,
        log_index: row.get::<i64>("log_index").map_err(|e| e.to_string())? as u64,
    })
}

/// Rebuilds the projections of `chain_id` from the live raw logs into a scratch database (a
/// temporary local Hrana front with the same migrations) and compares every table.
///
/// # Errors
/// A message when a database fails.
pub async fn check(
    url: &str,
    auth_token: Option<&str>,
    chain_id: u64,
    migrations: &Path,
) -> Result<CheckReport, String> {
    let live = client(url, auth_token)?;
    let rows = live
        .execute(
            Statement::new(
                "SELECT address, topics, data, block_number, block_hash, tx_hash, log_index FROM raw_logs
                 WHERE chain_id = ? ORDER BY block_number, log_index",
            )
            .bind(chain_id as i64),
        )
        .await
        .map_err(|e| e.to_string())?;
    let logs: Vec<RawLog> = rows.iter().map(raw_log).collect::<Result<_, _>>()?;

    let scratch_token = "scratch";
    let fronts = front::serve(FrontConfig {
        upstash: None,
        hrana: Some(HranaConfig::new(":memory:", scratch_token)),
    })
    .await
    .map_err(|e| e.to_string())?;
    let scratch_url = fronts.hrana_url().ok_or("scratch front has no address")?;
    let result = async {
        crate::migrations::apply_dir(migrations, &scratch_url, Some(scratch_token))
            .await
            .map_err(|e| e.to_string())?;
        let scratch = client(&scratch_url, Some(scratch_token))?;
        // Replay in block order, a few thousand logs per batch, through the indexer's own code.
        for chunk in logs.chunk_by(|a, b| a.block_number / 1000 == b.block_number / 1000) {
            let indexed: Vec<Indexed> = chunk
                .iter()
                .map(|log| Indexed {
                    event: decode(log).ok(),
                    log: log.clone(),
                })
                .collect();
            scratch
                .batch_atomic(project::batch(chain_id, &indexed, now_ms()))
                .await
                .map_err(|e| e.to_string())?;
        }
        let mut tables = Vec::new();
        for (name, columns) in COMPARED {
            let live_rows = table(&live, name, columns)
                .await
                .map_err(|e| e.to_string())?;
            let rebuilt = table(&scratch, name, columns)
                .await
                .map_err(|e| e.to_string())?;
            let only = |a: &[String], b: &[String]| -> Vec<String> {
                a.iter()
                    .filter(|r| b.binary_search(r).is_err())
                    .take(5)
                    .cloned()
                    .collect()
            };
            tables.push(TableDiff {
                table: name,
                live_rows: live_rows.len(),
                rebuilt_rows: rebuilt.len(),
                only_live: only(&live_rows, &rebuilt),
                only_rebuilt: only(&rebuilt, &live_rows),
            });
        }
        Ok(CheckReport {
            raw_logs: logs.len(),
            tables,
        })
    }
    .await;
    let _ = fronts.shutdown().await;
    result
}
