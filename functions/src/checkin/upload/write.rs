//! One decided chunk as one atomic Hrana batch: its `scans` rows, its admissions (check-in row,
//! ticket marked used, the relayer's instruction for an on-chain ticket) and the rewritten rows
//! of the admissions it displaced — all written or none.
//!
//! The chunk was decided on a read that may be stale by now (another device's upload, a live
//! scan at the door, a refund). The batch opens with a guard that every ticket it admits is
//! still exactly as read — status, owner and check-in — so a concurrent writer makes it fail
//! (and the chunk is read and decided again) instead of writing a wrong state; a nonce stored
//! meanwhile fails its `scans` insert the same way.

use super::super::input::{Mode, ScanInput};
use super::super::offline::{admission_row, chain_mark_used, mark_used, rewrite_displaced};
use super::super::record::scan_row;
use super::super::ticket::DoorTicket;
use super::decide::{Decided, Verdict};
use crate::extract::Verifier;
use serde_json::json;
use shared::sql::Statement;

/// The statements that write `decided` (scans of `scans`, received at `now_ms`); empty when the
/// chunk only replays.
pub fn statements(
    verifier: &Verifier,
    scans: &[ScanInput],
    decided: &Decided,
    now_ms: i64,
) -> Vec<Statement> {
    let mut batch = Vec::new();
    if !decided.admissions.is_empty() {
        let before: Vec<&DoorTicket> = decided.admissions.iter().map(|a| &a.before).collect();
        batch.push(unchanged(&before));
    }
    for (index, verdict) in &decided.verdicts {
        if let (Verdict::Fresh(answer), Some(input)) = (verdict, scans.get(*index)) {
            let body = answer.body(input, Mode::Offline);
            batch.push(scan_row(
                verifier,
                input,
                Mode::Offline,
                answer,
                &body,
                now_ms,
            ));
        }
    }
    for admission in &decided.admissions {
        let Some(input) = scans.get(admission.index) else {
            continue;
        };
        let ticket = &admission.before;
        batch.push(admission_row(verifier, input, admission.at_ms, ticket));
        batch.push(Statement::guard_changed());
        batch.push(mark_used(&ticket.id, now_ms));
        batch.extend(chain_mark_used(ticket, now_ms));
    }
    for displaced in decided.displacements.iter().filter(|d| !d.in_chunk) {
        batch.push(rewrite_displaced(&displaced.previous, &displaced.by.json()));
    }
    batch
}

/// A guard that holds while every ticket of `tickets` is as read: same status and owner (a
/// refund or transfer revokes), same check-in (by time, key and nonce; none read as `-1` and
/// empty). One statement for the chunk, its expectations as one JSON argument.
pub fn unchanged(tickets: &[&DoorTicket]) -> Statement {
    let expected: Vec<serde_json::Value> = tickets
        .iter()
        .map(|t| {
            let first = t.first_scan.as_ref();
            json!([
                t.id,
                t.status,
                t.owner,
                first.map_or(-1, |f| f.at_ms),
                first.map_or("", |f| f.verifier_key_id.as_str()),
                first.map_or("", |f| f.nonce.as_str()),
            ])
        })
        .collect();
    Statement::guard(
        "SELECT 1 WHERE NOT EXISTS ( \
           SELECT 1 FROM json_each(?) j \
             LEFT JOIN tickets t ON t.id = json_extract(j.value, '$[0]') \
             LEFT JOIN checkins c ON c.ticket_id = t.id \
            WHERE t.id IS NULL \
               OR t.status IS NOT json_extract(j.value, '$[1]') \
               OR t.owner IS NOT json_extract(j.value, '$[2]') \
               OR coalesce(c.scanned_at, -1) IS NOT json_extract(j.value, '$[3]') \
               OR coalesce(c.verifier_key_id, '') IS NOT json_extract(j.value, '$[4]') \
               OR coalesce(c.nonce, '') IS NOT json_extract(j.value, '$[5]'))",
        [serde_json::Value::from(expected).to_string().into()],
    )
}
