//! A scan's `scans` row written straight to libSQL, and the answer a nonce already got there:
//! the path of offline uploads and of live scans while Redis is down (the live path otherwise
//! buffers its audit rows, see [`super::buffer`]).

use super::answer::{Answer, ScanOutcome};
use super::input::{Mode, ScanInput};
use crate::extract::Verifier;
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::Statement;

/// The `scans` row of `answer`, whose body is `body`, received at `now_ms`.
pub fn scan_row(
    verifier: &Verifier,
    input: &ScanInput,
    mode: Mode,
    answer: &Answer,
    body: &str,
    now_ms: i64,
) -> Statement {
    Statement::new(
        "INSERT INTO scans (event_id, verifier_key_id, device_id, gate, nonce, ticket_id, result, offline, scanned_at, received_at, response) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(verifier.event_id.as_str())
    .bind(verifier.key_id.as_str())
    .bind(input.device_id.as_str())
    .bind(input.gate.as_str())
    .bind(input.nonce.as_str())
    .bind(answer.ticket_id.clone())
    .bind(answer.result.as_str())
    .bind(mode == Mode::Offline)
    .bind(input.scanned_at)
    .bind(now_ms)
    .bind(body)
}

/// Writes the audit row of a scan that admits nobody; a nonce seen before replays its answer.
///
/// # Errors
/// 503 when libSQL is down.
pub async fn record(
    sql: &impl Sql,
    verifier: &Verifier,
    input: &ScanInput,
    mode: Mode,
    answer: &Answer,
    now_ms: i64,
) -> Result<ScanOutcome, Error> {
    let body = answer.body(input, mode);
    let statement = scan_row(verifier, input, mode, answer, &body, now_ms);
    match sql.execute(statement).await {
        Ok(_) => Ok(ScanOutcome::new(answer.result, body)),
        Err(e) if e.is_unique_violation() => replay(sql, &verifier.key_id, &input.nonce).await,
        Err(e) => Err(e.into()),
    }
}

/// The stored answer of an earlier scan with this nonce, which libSQL must hold.
///
/// # Errors
/// 503 when libSQL is down; internal when the row is missing or unreadable.
pub async fn replay(sql: &impl Sql, key_id: &str, nonce: &str) -> Result<ScanOutcome, Error> {
    stored(sql, key_id, nonce)
        .await?
        .ok_or_else(|| Error::Internal("scan nonce conflict without its row".into()))
}

/// The answer libSQL holds for this nonce, if any, labelled as a replay.
///
/// # Errors
/// 503 when libSQL is down; internal when the stored answer is unreadable.
pub async fn stored(
    sql: &impl Sql,
    key_id: &str,
    nonce: &str,
) -> Result<Option<ScanOutcome>, Error> {
    let rows = sql
        .execute(
            Statement::new(
                "SELECT response, received_at FROM scans WHERE verifier_key_id = ? AND nonce = ?",
            )
            .bind(key_id)
            .bind(nonce),
        )
        .await?;
    let Some(row) = rows.row(0) else {
        return Ok(None);
    };
    let text: String = row.get("response")?;
    let answered_at: Option<i64> = row.get("received_at")?;
    // libSQL keeps the answer for good: after a Redis loss the retry still learns it is one,
    // and when the first answer was given.
    ScanOutcome::replay_at(&text, answered_at)
        .map(Some)
        .ok_or_else(|| Error::Internal("stored scan answer unreadable".into()))
}
