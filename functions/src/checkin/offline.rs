//! Offline scans (`POST /v1/checkin/upload`): decided at the device's `scannedAt`, and the
//! earliest scan of a ticket wins even if it arrives last: its check-in row replaces a later
//! one, whose answer becomes `already_redeemed` naming the other device.
//!
//! Uploads are not the door's latency path: each scan reads the ticket and writes its rows in
//! libSQL (the nonce replays from libSQL), and the ticket's Redis lock is pointed at the
//! admission after the response.

use super::answer::{Answer, ScanOutcome};
use super::decide::{self, Decoded};
use super::input::{Mode, ScanInput};
use super::record::{record, replay, scan_row};
use super::ticket::{self, DoorTicket, FirstScan};
use super::{lock, metrics};
use crate::extract::Verifier;
use crate::services::Services;
use serde_json::json;
use shared::checkin::ScanResult;
use shared::error::Error;
use shared::ports::{Clock, Sql};
use shared::sql::Statement;

/// Scans `input`, uploaded by `verifier`'s device.
///
/// # Errors
/// 503 when libSQL is down (nothing is written then; the upload can be sent again).
pub async fn scan<S: Services>(
    services: &S,
    verifier: &Verifier,
    input: &ScanInput,
) -> Result<ScanOutcome, Error> {
    let started = services.clock().now_ms();
    let outcome = decide_and_write(services, verifier, input).await?;
    if !outcome.replayed {
        let elapsed = services.clock().now_ms().saturating_sub(started);
        metrics::defer(services, outcome.result, elapsed);
    }
    Ok(outcome)
}

async fn decide_and_write<S: Services>(
    services: &S,
    verifier: &Verifier,
    input: &ScanInput,
) -> Result<ScanOutcome, Error> {
    let now_ms = services.clock().now_ms() as i64;
    let at_secs = u64::try_from(input.scanned_at / 1000).unwrap_or(0);
    let config = &services.config().checkin;
    let sql = services.sql();
    let (ticket_id, pass_id) =
        match decide::decode(config, input.code.trim(), &verifier.event_id, at_secs) {
            Decoded::Refused {
                result, ticket_id, ..
            } => {
                let answer = Answer::refused(result, ticket_id);
                return record(sql, verifier, input, Mode::Offline, &answer, now_ms).await;
            }
            Decoded::Genuine {
                ticket_id, pass_id, ..
            } => (ticket_id, pass_id),
        };
    let ticket = ticket::load(sql, &ticket_id, pass_id.as_deref()).await?;
    let verdict = decide::judge(ticket.as_ref(), &verifier.event_id);
    let answer = Answer::about(verdict, &ticket_id, ticket.as_ref());
    match (verdict, ticket) {
        (ScanResult::Ok | ScanResult::AlreadyRedeemed, Some(ticket)) => {
            admit(services, verifier, input, answer, &ticket, now_ms).await
        }
        _ => record(sql, verifier, input, Mode::Offline, &answer, now_ms).await,
    }
}

async fn admit<S: Services>(
    services: &S,
    verifier: &Verifier,
    input: &ScanInput,
    mut answer: Answer,
    ticket: &DoorTicket,
    now_ms: i64,
) -> Result<ScanOutcome, Error> {
    let sql = services.sql();
    let earlier = ticket
        .first_scan
        .as_ref()
        .filter(|first| first.at_ms <= input.scanned_at)
        .cloned();
    if earlier.is_some() || (ticket.first_scan.is_none() && ticket.status == "used") {
        answer.result = ScanResult::AlreadyRedeemed;
        answer.first_scan = earlier;
        return record(sql, verifier, input, Mode::Offline, &answer, now_ms).await;
    }
    // First by `scannedAt`: admit, displacing a later check-in if there is one.
    answer.result = ScanResult::Ok;
    answer.supersedes = ticket.first_scan.clone();
    answer.first_scan = None;
    let body = answer.body(input, Mode::Offline);
    let mut batch = vec![
        scan_row(verifier, input, Mode::Offline, &answer, &body, now_ms),
        checkin_row(verifier, input, ticket),
        Statement::guard_changed(),
        mark_used(&ticket.id, now_ms),
    ];
    if let Some(previous) = &answer.supersedes {
        let first =
            json!({"at": input.scanned_at, "gate": input.gate, "deviceId": input.device_id});
        batch.push(
            Statement::new(
                "UPDATE scans SET result = 'already_redeemed', \
                   response = json_set(response, '$.result', 'already_redeemed', '$.reason', ?, '$.firstScan', json(?)) \
                 WHERE verifier_key_id = ? AND nonce = ?",
            )
            .bind(ScanResult::AlreadyRedeemed.reason())
            .bind(first.to_string())
            .bind(previous.verifier_key_id.as_str())
            .bind(previous.nonce.as_str()),
        );
    }
    batch.extend(chain_mark_used(ticket, now_ms));
    match sql.batch_atomic(batch).await {
        Ok(_) => {
            let first = FirstScan {
                at_ms: input.scanned_at,
                gate: input.gate.clone(),
                device_id: input.device_id.clone(),
                verifier_key_id: verifier.key_id.clone(),
                nonce: input.nonce.clone(),
            };
            // The next live duplicate is answered from the lock, naming this earliest scan.
            services.defer(lock::confirm(services, &first, ticket));
            if answer.supersedes.is_some() {
                services.defer(metrics::conflict(services));
            }
            Ok(ScanOutcome::new(ScanResult::Ok, body))
        }
        Err(e) if e.failed_index() == Some(0) && e.is_unique_violation() => {
            replay(sql, &verifier.key_id, &input.nonce).await
        }
        Err(e) if e.failed_index().is_some_and(|i| i >= 1) => {
            // An earlier scan got there between our read and our write.
            let reloaded = ticket::load(sql, &ticket.id, None).await?;
            answer.result = match decide::judge(reloaded.as_ref(), &verifier.event_id) {
                ScanResult::Ok => ScanResult::AlreadyRedeemed,
                other => other,
            };
            answer.supersedes = None;
            answer.first_scan = reloaded.and_then(|t| t.first_scan);
            record(sql, verifier, input, Mode::Offline, &answer, now_ms).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The check-in row: an upsert that only replaces a later scan; the guard after it rolls the
/// batch back when nothing changed.
fn checkin_row(verifier: &Verifier, input: &ScanInput, ticket: &DoorTicket) -> Statement {
    Statement::new(
        "INSERT INTO checkins (ticket_id, event_id, verifier_key_id, gate, device_id, nonce, scanned_at, offline) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 1) \
         ON CONFLICT (ticket_id) DO UPDATE SET verifier_key_id = excluded.verifier_key_id, \
           gate = excluded.gate, device_id = excluded.device_id, nonce = excluded.nonce, \
           scanned_at = excluded.scanned_at, offline = 1 \
         WHERE excluded.scanned_at < checkins.scanned_at",
    )
    .bind(ticket.id.as_str())
    .bind(ticket.event_id.as_str())
    .bind(verifier.key_id.as_str())
    .bind(input.gate.as_str())
    .bind(input.device_id.as_str())
    .bind(input.nonce.as_str())
    .bind(input.scanned_at)
}

fn mark_used(ticket_id: &str, now_ms: i64) -> Statement {
    Statement::new(
        "UPDATE tickets SET status = 'used', updated_at = ? WHERE id = ? AND status IN ('valid', 'used')",
    )
    .bind(now_ms)
    .bind(ticket_id)
}

/// For an on-chain ticket: an instruction for the operator's relayer to mark it used (we hold
/// no keys); the indexer's `used` projection then agrees with the check-in.
fn chain_mark_used(ticket: &DoorTicket, now_ms: i64) -> Option<Statement> {
    let token_id = ticket.token_id.as_deref()?;
    Some(
        Statement::new(
            "INSERT INTO chain_instructions (kind, token_id, ticket_id, created_at) VALUES ('mark_used', ?, ?, ?) \
             ON CONFLICT (kind, token_id) DO NOTHING",
        )
        .bind(token_id)
        .bind(ticket.id.as_str())
        .bind(now_ms),
    )
}
