//! The audit buffer: `scans` rows of answers given without libSQL, waiting in one Redis list
//! (`scans:buffer`) until the scheduled drain ([`super::audit_drain`]) moves them to libSQL.
//!
//! Rows are pushed by `scan_begin.lua` (answers given inside the script) and by
//! `scan_settle.lua` after the response (admissions libSQL refused). Each row starts with
//! `{"event":"<id>",` — the scripts write it so and [`BufferedScan`] serialises `event` first —
//! which lets the event's stats pick its rows out of the list inside Redis ([`for_event`]).
//!
//! The price of the buffer: rows not yet drained are lost with Redis (a flush), as the nonce
//! answers and locks are; the admissions and their `scans` rows never go through it.

use super::answer::fragment;
use super::input::ScanInput;
use crate::keys;
use crate::services::Services;
use serde::{Deserialize, Serialize};
use shared::error::Error;
use shared::ports::Redis;
use shared::redis::{Script, Value};
use std::sync::LazyLock;

/// Most buffer rows the stats look at (the drain keeps the list far shorter).
pub const STATS_WINDOW: usize = 20_000;

static FOR_EVENT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/scan_buffered.lua")));

/// One buffered `scans` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BufferedScan {
    /// First, see the module doc.
    pub event: String,
    pub result: String,
    /// When the answer was given (ms; the Redis server's clock for the script's rows).
    pub received_at: i64,
    pub key_id: String,
    pub device_id: String,
    pub gate: String,
    pub nonce: String,
    pub ticket_id: Option<String>,
    pub offline: bool,
    pub scanned_at: i64,
    /// The body that was answered.
    pub response: String,
}

/// The members of a row that Rust knows before the script runs (the script adds `event`,
/// `result`, `receivedAt` and `response`).
pub fn row_fragment(key_id: &str, input: &ScanInput, ticket_id: Option<&str>) -> String {
    fragment(&serde_json::json!({
        "keyId": key_id,
        "deviceId": input.device_id,
        "gate": input.gate,
        "nonce": input.nonce,
        "ticketId": ticket_id,
        "offline": false,
        "scannedAt": input.scanned_at,
    }))
}

/// What every row of `event_id` starts with.
pub fn event_prefix(event_id: &str) -> String {
    format!("{{\"event\":{},", serde_json::Value::from(event_id))
}

/// The buffered rows of event `event_id` (within the first [`STATS_WINDOW`] rows), one Redis
/// round trip.
///
/// # Errors
/// 503 when Redis is down.
pub async fn for_event<S: Services>(
    services: &S,
    event_id: &str,
) -> Result<Vec<BufferedScan>, Error> {
    let key = keys::scan_buffer(services);
    let prefix = event_prefix(event_id);
    let window = STATS_WINDOW.to_string();
    let reply = services
        .redis()
        .eval(&FOR_EVENT, &[&key], &[&prefix, &window])
        .await?;
    let Value::Array(rows) = reply else {
        return Err(Error::Internal(format!(
            "scan_buffered.lua answered {reply:?}"
        )));
    };
    Ok(rows
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|row| serde_json::from_str(row).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_start_with_their_event() {
        let row = BufferedScan {
            event: "evt_00112233445566778899".into(),
            result: "already_redeemed".into(),
            received_at: 1_767_225_600_123,
            key_id: "vk_1".into(),
            device_id: "d".into(),
            gate: "g".into(),
            nonce: "n".into(),
            ticket_id: None,
            offline: false,
            scanned_at: 1,
            response: "{}".into(),
        };
        let text = serde_json::to_string(&row).expect("json");
        assert!(text.starts_with(&event_prefix(&row.event)), "{text}");
        assert_eq!(
            serde_json::from_str::<BufferedScan>(&text).expect("parse"),
            row
        );
    }

    #[test]
    fn a_script_row_parses() {
        // As scan_begin.lua glues it: its own members, then Rust's fragment, then the body.
        let input = ScanInput {
            code: "c".into(),
            gate: "West \"2\"".into(),
            device_id: "dev".into(),
            scanned_at: 1_767_225_600_123,
            nonce: "nonce-0001".into(),
        };
        let body = "{\"result\":\"expired\"}";
        let text = format!(
            "{{\"event\":\"evt_1\",\"result\":\"expired\",\"receivedAt\":1767225600999,{},\"response\":{}}}",
            row_fragment("vk_1", &input, Some("tkt_1")),
            serde_json::Value::from(body)
        );
        let row: BufferedScan = serde_json::from_str(&text).expect("parse");
        assert_eq!(row.gate, "West \"2\"");
        assert_eq!(row.ticket_id.as_deref(), Some("tkt_1"));
        assert_eq!(row.scanned_at, 1_767_225_600_123);
        assert_eq!(row.response, body);
    }
}
