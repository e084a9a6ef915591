//! A ticket's one-time check-in lock in Redis: who admitted it, and what the door shows for it,
//! so a duplicate is answered from the lock alone.
//!
//! The value is three lines, `event\nfirstScan\nticket`: the ticket's event id, the first scan
//! as its body fragment (`{"at","gate","deviceId"}`) and the ticket's door view (`null` while
//! the admission is *pending*). Lines, not one JSON document, because `scan_begin.lua` glues
//! the two JSON texts into a body as they are (compact serde_json never writes a raw newline).
//!
//! Lifecycle: `scan_begin.lua` takes a *pending* lock (`SET NX`, a short lease) when a genuine
//! code finds none; after libSQL admitted the ticket the lock is *confirmed* with the door view
//! for [`LOCK_KEEP_SECS`], after the response; a refused admission gives the pending lock back
//! (compare-and-delete); a lease that lapsed (the instance died) only sends the next scan to
//! libSQL, whose unique `checkins(ticket_id)` row decides and repairs the lock.

use super::ticket::{DoorTicket, FirstScan};
use crate::keys;
use crate::services::Services;
use shared::redis::{Command, Script};
use std::sync::LazyLock;

/// The lock outlives any event; libSQL is the truth after that.
pub const LOCK_KEEP_SECS: u64 = 90 * 24 * 3600;

/// Compare-and-delete: gives a lock back only if it still holds our value.
pub static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/checkin_release.lua")));

/// The value of a confirmed lock: `first` admitted `ticket`.
pub fn confirmed(first: &FirstScan, ticket: &DoorTicket) -> String {
    format!("{}\n{}\n{}", ticket.event_id, first.json(), ticket.json())
}

/// The first-scan line of the pending lock a live scan at `at_ms` takes (the script puts the
/// key's event before it and `null` after it, and returns the whole value).
pub fn pending_first(at_ms: i64, gate: &str, device_id: &str) -> String {
    serde_json::json!({"at": at_ms, "gate": gate, "deviceId": device_id}).to_string()
}

/// Sets ticket `ticket_id`'s lock to the admission libSQL holds (confirming ours, or repairing
/// a lock Redis lost).
pub fn confirm<S: Services>(services: &S, first: &FirstScan, ticket: &DoorTicket) -> Command {
    Command::new("SET")
        .arg(keys::checkin_lock(services, &ticket.id))
        .arg(confirmed(first, ticket))
        .arg("EX")
        .arg(LOCK_KEEP_SECS)
}

/// Gives ticket `ticket_id`'s lock back if it still holds `ours`. A plain `EVAL`: it may run
/// after the response, where a `NOSCRIPT` is not retried.
pub fn release<S: Services>(services: &S, ticket_id: &str, ours: &str) -> Command {
    Command::new("EVAL")
        .arg(RELEASE.source())
        .arg(1)
        .arg(keys::checkin_lock(services, ticket_id))
        .arg(ours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::ticket::PassState;

    #[test]
    fn values_are_three_lines_whatever_the_gate_says() {
        let first = FirstScan {
            at_ms: 1_767_225_600_123,
            gate: "North\nline two".into(),
            device_id: "d".into(),
            verifier_key_id: "vk_1".into(),
            nonce: "n".into(),
            offline: false,
        };
        let ticket = DoorTicket {
            id: "tkt_1".into(),
            event_id: "evt_a".into(),
            status: "used".into(),
            owner: "0xabc".into(),
            seat: None,
            serial: Some("7".into()),
            token_id: None,
            type_name: None,
            order_status: None,
            first_scan: None,
            pass: PassState::NotAsked,
        };
        let value = confirmed(&first, &ticket);
        let lines: Vec<&str> = value.split('\n').collect();
        assert_eq!(lines.len(), 3, "{value}");
        assert_eq!(lines[0], "evt_a");
        let first_json: serde_json::Value = serde_json::from_str(lines[1]).expect("json");
        assert_eq!(first_json, first.json());
        assert_eq!(lines[2], ticket.json().to_string());
        assert!(!pending_first(1, "a\nb", "c").contains('\n'));
    }
}
