//! The scheduled drain of the audit buffer ([`super::buffer`]): moves buffered `scans` rows
//! into libSQL, so no audit row is lost to the live path's one-round-trip answers.
//!
//! One drain runs at a time (a Redis lease, `SET NX PX`). Each round reads the head of the list
//! (`LRANGE`), inserts the rows in ONE statement that is idempotent (`ON CONFLICT
//! (verifier_key_id, nonce) DO NOTHING`, the unique index of `scans`), and only after libSQL
//! committed removes them (`LTRIM`, only while the lease is still ours). Rows are only ever
//! appended at the tail, and only the drain removes from the head, so the head it read is the
//! head it trims. A crash between insert and trim inserts the rows again next time: nothing.
//! Bounded per run: [`ROUNDS`] rounds of [`BATCH`] rows, each one libSQL request and one Redis
//! pipeline (the trim rides with the next read or with the lease's release) — at most
//! `2 + 2 × ROUNDS` subrequests, inside a Workers Free cron's 50.

use super::buffer::BufferedScan;
use super::lock::RELEASE;
use crate::keys;
use crate::services::Services;
use shared::error::Error;
use shared::ports::{Redis, Rng, Sql};
use shared::redis::{Command, RedisError, Script, Value};
use shared::sql::Statement;
use std::sync::LazyLock;

/// Rows per round (one `INSERT … SELECT … FROM json_each(?)`).
pub const BATCH: usize = 500;
/// Rounds per run.
pub const ROUNDS: usize = 4;
/// The lease outlives any run (each call has its dependency deadline).
const LEASE_MS: u64 = 60_000;

static TRIM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/scan_drain_trim.lua")));

/// Moves up to `BATCH × ROUNDS` buffered rows into libSQL; returns how many. Another drain
/// holding the lease: 0.
///
/// # Errors
/// 503 when Redis or libSQL is down (the rows stay buffered for the next run).
pub async fn drain<S: Services>(services: &S) -> Result<usize, Error> {
    let buffer = keys::scan_buffer(services);
    let lease = keys::scan_drain_lease(services);
    let dead = keys::scan_buffer_dead(services);
    let token = services.rng().hex(8)?;
    let read = || Command::new("LRANGE").arg(&buffer).arg(0).arg(BATCH - 1);
    let release = || {
        Command::new("EVAL")
            .arg(RELEASE.source())
            .arg(1)
            .arg(&lease)
            .arg(&token)
    };
    let taken = services
        .redis()
        .pipeline(vec![
            Command::new("SET")
                .arg(&lease)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(LEASE_MS),
            read(),
        ])
        .await?;
    if nth(&taken, 0)?.is_nil() {
        return Ok(0);
    }
    let mut rows = texts(nth(&taken, 1)?);
    let mut moved = 0;
    for round in 1..=ROUNDS {
        if rows.is_empty() {
            services.redis().exec(release()).await?;
            break;
        }
        let (good, unreadable) = split(&rows);
        if !good.is_empty()
            && let Err(e) = services.sql().execute(insert(&good)).await
        {
            let _ = services.redis().exec(release()).await;
            return Err(e.into());
        }
        let more = rows.len() == BATCH && round < ROUNDS;
        let trim = Command::new("EVAL")
            .arg(TRIM.source())
            .arg(3)
            .arg(&buffer)
            .arg(&lease)
            .arg(&dead)
            .arg(&token)
            .arg(rows.len())
            .args(unreadable);
        let replies = services
            .redis()
            .pipeline(vec![trim, if more { read() } else { release() }])
            .await?;
        if nth(&replies, 0)?.as_i64() != Some(1) {
            // The lease lapsed and another drain took over: it commits and trims these rows.
            return Ok(moved);
        }
        moved += good.len();
        if !more {
            break;
        }
        rows = texts(nth(&replies, 1)?);
    }
    Ok(moved)
}

fn nth(replies: &[Result<Value, RedisError>], i: usize) -> Result<&Value, Error> {
    match replies.get(i) {
        Some(Ok(value)) => Ok(value),
        Some(Err(e)) => Err(e.clone().into()),
        None => Err(Error::Internal("a pipeline reply is missing".into())),
    }
}

fn texts(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// The rows that read as audit rows, and the text of those that do not.
fn split(rows: &[String]) -> (Vec<BufferedScan>, Vec<&str>) {
    let mut good = Vec::with_capacity(rows.len());
    let mut unreadable = Vec::new();
    for row in rows {
        match serde_json::from_str::<BufferedScan>(row) {
            Ok(scan) => good.push(scan),
            Err(_) => unreadable.push(row.as_str()),
        }
    }
    (good, unreadable)
}

/// One idempotent insert of `rows`.
fn insert(rows: &[BufferedScan]) -> Statement {
    Statement::new(
        "INSERT INTO scans (event_id, verifier_key_id, device_id, gate, nonce, ticket_id, result, offline, scanned_at, received_at, response) \
         SELECT json_extract(value, '$.event'), json_extract(value, '$.keyId'), json_extract(value, '$.deviceId'), \
                json_extract(value, '$.gate'), json_extract(value, '$.nonce'), json_extract(value, '$.ticketId'), \
                json_extract(value, '$.result'), json_extract(value, '$.offline'), json_extract(value, '$.scannedAt'), \
                json_extract(value, '$.receivedAt'), json_extract(value, '$.response') \
           FROM json_each(?) WHERE true \
         ON CONFLICT (verifier_key_id, nonce) DO NOTHING",
    )
    .bind(serde_json::to_string(rows).unwrap_or_else(|_| "[]".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_rows_are_set_apart_not_dropped() {
        let good = BufferedScan {
            event: "evt_1".into(),
            result: "invalid".into(),
            received_at: 2,
            key_id: "vk_1".into(),
            device_id: "d".into(),
            gate: "g".into(),
            nonce: "n".into(),
            ticket_id: None,
            offline: false,
            scanned_at: 1,
            response: "{}".into(),
        };
        let rows = vec![
            serde_json::to_string(&good).expect("json"),
            "not a row".to_owned(),
        ];
        let (read, unreadable) = split(&rows);
        assert_eq!(read, vec![good.clone()]);
        assert_eq!(unreadable, vec!["not a row"]);
        let statement = insert(&read);
        assert!(
            statement
                .sql
                .contains("ON CONFLICT (verifier_key_id, nonce) DO NOTHING")
        );
        assert_eq!(statement.args.len(), 1);
    }
}
