//! Offline scans (`POST /v1/checkin/upload`): a pass is decided at the device's `scannedAt`,
//! and between offline scans the earliest of a ticket wins even if it arrives last: its
//! check-in row replaces a later offline one, whose answer becomes `already_redeemed` naming
//! the other device.
//!
//! The device's clock is trusted only so far:
//! - a `scannedAt` outside `[received − OFFLINE_MAX_AGE_SECS, received + OFFLINE_CLOCK_SKEW_SECS]`
//!   is `invalid`, with a reason naming the bound;
//! - an online code is decided (and, if admitted, timed) at the upload's arrival, never at
//!   `scannedAt`: a 60-second code is no better than a screenshot once it has expired;
//! - a live admission (server-timed, `checkins.offline = 0`) is never displaced.
//!
//! This file holds those rules ([`prepare`], [`out_of_window`], [`judged_at`], the statements
//! of an admission) and the per-scan path, [`scan`]: it reads the ticket and writes its rows in
//! libSQL (the nonce replays from libSQL), and the ticket's Redis lock is pointed at the
//! admission after the response — two Hrana requests a scan. An upload goes through
//! [`super::upload`], which applies the same rules to all its scans in memory and writes them in
//! a few batches; it falls back to [`scan`] for a chunk that keeps losing races.

use super::answer::{Answer, ScanOutcome};
use super::decide::{self, Decoded};
use super::input::{Mode, ScanInput};
use super::record::{record, replay, scan_row};
use super::ticket::{self, DoorTicket, FirstScan};
use super::upload::write::unchanged;
use super::{lock, metrics};
use crate::extract::Verifier;
use crate::services::Services;
use serde_json::json;
use shared::checkin::{CodeKind, ScanResult};
use shared::config::CheckinConfig;
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
    let config = &services.config().checkin;
    let sql = services.sql();
    let (ticket_id, pass_id, at_ms) = match prepare(config, &verifier.event_id, input, now_ms) {
        Prepared::Refused(answer) => {
            return record(sql, verifier, input, Mode::Offline, &answer, now_ms).await;
        }
        Prepared::Genuine {
            ticket_id,
            pass_id,
            at_ms,
        } => (ticket_id, pass_id, at_ms),
    };
    // A concurrent writer between our read and our write fails the admission's batch: read
    // and decide once more (the earliest scan still wins), then answer from what it wrote.
    for last_try in [false, true] {
        let ticket = ticket::load(sql, &ticket_id, pass_id.as_deref()).await?;
        let verdict = decide::judge(ticket.as_ref(), &verifier.event_id);
        let answer = Answer::about(verdict, &ticket_id, ticket.as_ref());
        let outcome = match (verdict, ticket) {
            (ScanResult::Ok | ScanResult::AlreadyRedeemed, Some(ticket)) => {
                let scan = Timed { input, at_ms };
                admit(services, verifier, scan, answer, &ticket, now_ms, last_try).await?
            }
            _ => Some(record(sql, verifier, input, Mode::Offline, &answer, now_ms).await?),
        };
        if let Some(outcome) = outcome {
            return Ok(outcome);
        }
    }
    Err(Error::Internal(
        "an offline scan was decided twice without an answer".into(),
    ))
}

/// What an uploaded scan says before its ticket is looked at.
#[derive(Debug, Clone, PartialEq)]
pub enum Prepared {
    /// Answered from the scan alone: `scannedAt` not believed, or a code refused by itself.
    Refused(Box<Answer>),
    /// A genuine code of `ticket_id` (`pass_id` for an offline pass), judged at `at_ms`.
    Genuine {
        ticket_id: String,
        pass_id: Option<String>,
        at_ms: i64,
    },
}

/// Reads `input`, uploaded to a scanner of `event_id` and received at `now_ms`: the rules both
/// the per-scan path and the batched upload ([`super::upload`]) start from.
pub fn prepare(config: &CheckinConfig, event_id: &str, input: &ScanInput, now_ms: i64) -> Prepared {
    if let Some(reason) = out_of_window(config, input.scanned_at, now_ms) {
        return Prepared::Refused(Box::new(Answer::refused_because(
            ScanResult::Invalid,
            reason,
        )));
    }
    let code = input.code.trim();
    let at_ms = judged_at(code, input.scanned_at, now_ms);
    let at_secs = u64::try_from(at_ms / 1000).unwrap_or(0);
    match decide::decode(config, code, event_id, at_secs) {
        Decoded::Refused {
            result, ticket_id, ..
        } => Prepared::Refused(Box::new(Answer::refused(result, ticket_id))),
        Decoded::Genuine {
            ticket_id, pass_id, ..
        } => Prepared::Genuine {
            ticket_id,
            pass_id,
            at_ms,
        },
    }
}

/// Why `scanned_at` is not believed of an upload received at `now_ms` (`None`: it is).
pub fn out_of_window(config: &CheckinConfig, scanned_at: i64, now_ms: i64) -> Option<String> {
    let max_age = config.offline_max_age_secs;
    let skew = config.offline_clock_skew_secs;
    let secs = |s: u64| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
    if scanned_at < now_ms.saturating_sub(secs(max_age)) {
        Some(format!(
            "scannedAt is more than {max_age} s before the upload was received; not a valid scan"
        ))
    } else if scanned_at > now_ms.saturating_add(secs(skew)) {
        Some(format!(
            "scannedAt is more than {skew} s ahead of the server's clock; check the device's clock"
        ))
    } else {
        None
    }
}

/// The time `code` is judged (and, if admitted, timed) at: a pass at the device's
/// `scanned_at`, an online code at the upload's arrival `now_ms`.
pub fn judged_at(code: &str, scanned_at: i64, now_ms: i64) -> i64 {
    match CodeKind::of(code) {
        CodeKind::Online => now_ms,
        CodeKind::Offline => scanned_at,
    }
}

/// An uploaded scan and the time it is judged at (see [`judged_at`]).
#[derive(Clone, Copy)]
struct Timed<'a> {
    input: &'a ScanInput,
    at_ms: i64,
}

async fn admit<S: Services>(
    services: &S,
    verifier: &Verifier,
    scan: Timed<'_>,
    mut answer: Answer,
    ticket: &DoorTicket,
    now_ms: i64,
    last_try: bool,
) -> Result<Option<ScanOutcome>, Error> {
    let (input, at_ms) = (scan.input, scan.at_ms);
    let sql = services.sql();
    // A live admission is timed by the server: no device's claim goes before it.
    let earlier = ticket
        .first_scan
        .as_ref()
        .filter(|first| !first.offline || first.at_ms <= at_ms)
        .cloned();
    if earlier.is_some() || (ticket.first_scan.is_none() && ticket.status == "used") {
        answer.result = ScanResult::AlreadyRedeemed;
        answer.first_scan = earlier;
        return record(sql, verifier, input, Mode::Offline, &answer, now_ms)
            .await
            .map(Some);
    }
    // First by `scannedAt`: admit, displacing a later offline check-in if there is one.
    answer.result = ScanResult::Ok;
    answer.supersedes = ticket.first_scan.clone();
    answer.first_scan = None;
    let body = answer.body(input, Mode::Offline);
    let mut batch = vec![
        scan_row(verifier, input, Mode::Offline, &answer, &body, now_ms),
        // The ticket and its check-in are still as read (an upsert alone would replace a later
        // offline check-in written meanwhile without rewriting its row).
        unchanged(&[ticket]),
        checkin_row(verifier, scan, ticket),
        Statement::guard_changed(),
        mark_used(&ticket.id, now_ms),
    ];
    if let Some(previous) = &answer.supersedes {
        let first = json!({"at": at_ms, "gate": input.gate, "deviceId": input.device_id});
        batch.push(rewrite_displaced(previous, &first));
    }
    batch.extend(chain_mark_used(ticket, now_ms));
    match sql.batch_atomic(batch).await {
        Ok(_) => {
            let first = FirstScan {
                at_ms,
                gate: input.gate.clone(),
                device_id: input.device_id.clone(),
                verifier_key_id: verifier.key_id.clone(),
                nonce: input.nonce.clone(),
                offline: true,
            };
            // The next live duplicate is answered from the lock, naming this earliest scan.
            services.defer(lock::confirm(services, &first, ticket));
            if answer.supersedes.is_some() {
                services.defer(metrics::conflict(services));
            }
            Ok(Some(ScanOutcome::new(ScanResult::Ok, body)))
        }
        Err(e) if e.failed_index() == Some(0) && e.is_unique_violation() => {
            replay(sql, &verifier.key_id, &input.nonce).await.map(Some)
        }
        Err(e) if e.failed_index().is_some_and(|i| i >= 1) && !last_try => Ok(None),
        Err(e) if e.failed_index().is_some_and(|i| i >= 1) => {
            // An earlier scan got there between our read and our write.
            let reloaded = ticket::load(sql, &ticket.id, None).await?;
            answer.result = match decide::judge(reloaded.as_ref(), &verifier.event_id) {
                ScanResult::Ok => ScanResult::AlreadyRedeemed,
                other => other,
            };
            answer.supersedes = None;
            answer.first_scan = reloaded.and_then(|t| t.first_scan);
            record(sql, verifier, input, Mode::Offline, &answer, now_ms)
                .await
                .map(Some)
        }
        Err(e) => Err(e.into()),
    }
}

/// Rewrites the `scans` row of `previous`, an offline admission displaced by the earlier scan
/// `first` (its `{"at","gate","deviceId"}`), to `already_redeemed` naming that scan.
pub fn rewrite_displaced(previous: &FirstScan, first: &serde_json::Value) -> Statement {
    Statement::new(
        "UPDATE scans SET result = 'already_redeemed', \
           response = json_set(response, '$.result', 'already_redeemed', '$.reason', ?, '$.firstScan', json(?)) \
         WHERE verifier_key_id = ? AND nonce = ?",
    )
    .bind(ScanResult::AlreadyRedeemed.reason())
    .bind(first.to_string())
    .bind(previous.verifier_key_id.as_str())
    .bind(previous.nonce.as_str())
}

/// The check-in row: an upsert that only replaces a later offline scan (never a live
/// admission); the guard after it rolls the batch back when nothing changed.
fn checkin_row(verifier: &Verifier, scan: Timed<'_>, ticket: &DoorTicket) -> Statement {
    admission_row(verifier, scan.input, scan.at_ms, ticket)
}

/// [`checkin_row`] of `input`, judged at `at_ms` (also the batched upload's).
pub fn admission_row(
    verifier: &Verifier,
    input: &ScanInput,
    at_ms: i64,
    ticket: &DoorTicket,
) -> Statement {
    Statement::new(
        "INSERT INTO checkins (ticket_id, event_id, verifier_key_id, gate, device_id, nonce, scanned_at, offline) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 1) \
         ON CONFLICT (ticket_id) DO UPDATE SET verifier_key_id = excluded.verifier_key_id, \
           gate = excluded.gate, device_id = excluded.device_id, nonce = excluded.nonce, \
           scanned_at = excluded.scanned_at, offline = 1 \
         WHERE checkins.offline = 1 AND excluded.scanned_at < checkins.scanned_at",
    )
    .bind(ticket.id.as_str())
    .bind(ticket.event_id.as_str())
    .bind(verifier.key_id.as_str())
    .bind(input.gate.as_str())
    .bind(input.device_id.as_str())
    .bind(input.nonce.as_str())
    .bind(at_ms)
}

pub fn mark_used(ticket_id: &str, now_ms: i64) -> Statement {
    Statement::new(
        "UPDATE tickets SET status = 'used', updated_at = ? WHERE id = ? AND status IN ('valid', 'used')",
    )
    .bind(now_ms)
    .bind(ticket_id)
}

/// For an on-chain ticket: an instruction for the operator's relayer to mark it used (we hold
/// no keys); the indexer's `used` projection then agrees with the check-in.
pub fn chain_mark_used(ticket: &DoorTicket, now_ms: i64) -> Option<Statement> {
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

#[cfg(test)]
mod tests;
