//! How chain values become SQL values, and the chunked multi-row `INSERT OR IGNORE` every
//! append-only table is written with.

use alloy_primitives::{Address, B256, U256};
use shared::chain::RawLog;
use shared::domain::WalletAddress;
use shared::sql::{SqlValue, Statement};

/// Rows per multi-row INSERT (well under SQLite's 32766 bound variables).
pub(super) const ROWS_PER_INSERT: usize = 200;

/// The columns of a log's position, the key of every append-only table.
pub(super) const POSITION: [&str; 3] = ["block_number", "tx_hash", "log_index"];

/// A hash as stored: `0x` and 64 lowercase hex digits.
pub(super) fn hex32(value: &B256) -> String {
    format!("{value:#x}")
}

/// An address as stored: EIP-55 checksummed.
pub(super) fn address(value: &Address) -> String {
    WalletAddress::from(*value).checksummed()
}

/// A token amount or id as stored: a decimal string, never rounded.
pub(super) fn dec(value: &U256) -> String {
    value.to_string()
}

/// The log's position (`block_number`, `tx_hash`, `log_index`) as values.
pub(super) fn position(log: &RawLog) -> [SqlValue; 3] {
    [
        (log.block_number as i64).into(),
        hex32(&log.tx_hash).into(),
        (log.log_index as i64).into(),
    ]
}

/// A row of an append-only table keyed by position: the position, then `values`.
pub(super) fn at(log: &RawLog, values: Vec<SqlValue>) -> Vec<SqlValue> {
    [position(log).to_vec(), values].concat()
}

/// `POSITION` followed by `columns`.
pub(super) fn positioned(columns: &[&'static str]) -> Vec<&'static str> {
    [&POSITION[..], columns].concat()
}

/// `INSERT OR IGNORE INTO <table> (<columns>) VALUES (…), (…)` in chunks.
pub(super) fn insert_rows(
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<SqlValue>>,
    out: &mut Vec<Statement>,
) {
    insert_rows_then(table, columns, rows, "", out);
}

/// [`insert_rows`] with `tail` after the values: an upsert clause for the primary key, while
/// `OR IGNORE` still covers every other constraint.
pub(super) fn insert_rows_then(
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<SqlValue>>,
    tail: &str,
    out: &mut Vec<Statement>,
) {
    let placeholders = format!("({})", vec!["?"; columns.len()].join(", "));
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values = vec![placeholders.as_str(); chunk.len()].join(", ");
        let sql = format!(
            "INSERT OR IGNORE INTO {table} ({}) VALUES {values}{tail}",
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
