//! The cursor and the kept block hashes in libSQL.

use alloy_primitives::B256;
use shared::ports::Sql;
use shared::sql::{SqlError, Statement};

/// The last indexed block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub block: u64,
    /// Unknown after `otctl reindex`; then the next batch cannot be checked against it.
    pub hash: Option<B256>,
}

fn parse_hash(text: &str) -> Result<B256, SqlError> {
    text.parse()
        .map_err(|_| SqlError::Decode(format!("stored hash {text}")))
}

/// Reads the cursor (`None` before the first batch).
///
/// # Errors
/// When libSQL fails.
pub async fn cursor<S: Sql>(sql: &S, chain_id: u64) -> Result<Option<Cursor>, SqlError> {
    let rows = sql
        .execute(
            Statement::new(
                "SELECT last_block, last_block_hash FROM indexer_cursor WHERE chain_id = ?",
            )
            .bind(chain_id as i64),
        )
        .await?;
    let Some(row) = rows.row(0) else {
        return Ok(None);
    };
    let hash: Option<String> = row.get("last_block_hash")?;
    Ok(Some(Cursor {
        block: row.get::<i64>("last_block")? as u64,
        hash: hash
            .as_deref()
            .filter(|h| !h.is_empty())
            .map(parse_hash)
            .transpose()?,
    }))
}

/// Kept `(number, hash)` pairs, newest first.
///
/// # Errors
/// When libSQL fails.
pub async fn kept_blocks<S: Sql>(sql: &S, chain_id: u64) -> Result<Vec<(u64, B256)>, SqlError> {
    let rows = sql
        .execute(
            Statement::new("SELECT number, hash FROM indexed_blocks WHERE chain_id = ? ORDER BY number DESC LIMIT 10000")
                .bind(chain_id as i64),
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.get::<i64>("number")? as u64,
                parse_hash(&row.get::<String>("hash")?)?,
            ))
        })
        .collect()
}

/// A statement that aborts its batch unless the cursor is still `expected`.
pub fn guard(chain_id: u64, expected: Option<Cursor>) -> Statement {
    match expected {
        Some(cursor) => Statement::guard(
            "SELECT 1 FROM indexer_cursor WHERE chain_id = ? AND last_block = ?",
            [(chain_id as i64).into(), (cursor.block as i64).into()],
        ),
        None => Statement::guard(
            "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM indexer_cursor WHERE chain_id = ?)",
            [(chain_id as i64).into()],
        ),
    }
}

/// Moves the cursor.
pub fn set_cursor(chain_id: u64, block: u64, hash: Option<&B256>, now_ms: u64) -> Statement {
    Statement::new(
        "INSERT INTO indexer_cursor (chain_id, last_block, last_block_hash, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (chain_id) DO UPDATE SET last_block = ?2, last_block_hash = ?3, updated_at = ?4",
    )
    .bind(chain_id as i64)
    .bind(block as i64)
    .bind(hash.map(|h| format!("{h:#x}")))
    .bind(now_ms as i64)
}

/// Keeps a block's hash for reorg detection.
pub fn keep_block(chain_id: u64, number: u64, hash: &B256, parent: Option<&B256>) -> Statement {
    Statement::new("INSERT OR REPLACE INTO indexed_blocks (chain_id, number, hash, parent_hash) VALUES (?, ?, ?, ?)")
        .bind(chain_id as i64)
        .bind(number as i64)
        .bind(format!("{hash:#x}"))
        .bind(parent.map(|p| format!("{p:#x}")).unwrap_or_default())
}

/// Forgets hashes older than the window.
pub fn prune_blocks(chain_id: u64, below: u64) -> Statement {
    Statement::new("DELETE FROM indexed_blocks WHERE chain_id = ? AND number < ?")
        .bind(chain_id as i64)
        .bind(below as i64)
}
