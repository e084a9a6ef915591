//! A live scan (`POST /v1/checkin/scan`), decided at the server's clock.
//!
//! Round trips, counted (after-response work excluded; it is one `/pipeline` request):
//! - duplicate, or a code refused by its signature, expiry, event or the ticket's lock: ONE
//!   Redis script call (`scan_begin.lua`: gate, key, nonce, answer, audit row buffered,
//!   metrics), no libSQL, nothing after the response: one billed command in all.
//! - first admission: that call (which takes a pending lock) + ONE Hrana request (the
//!   admission batch, [`super::admit`]). After the response, one `EVAL` ([`super::settle`]):
//!   the lock confirmed with the door view, the nonce's answer, metrics. An admission libSQL
//!   refuses (revoked, unpaid, another event's ticket, already admitted while Redis had lost
//!   the lock) costs the same; its settlement gives the lock back (or repairs it) and buffers
//!   the audit row.
//! - the key's record not cached (once an hour per key): + one libSQL read and a Redis `SET`,
//!   and the script runs again.
//! - a retry meeting its own nonce in flight: + one libSQL read (an admission's answer is
//!   there before its response), else 409 `SCAN_IN_FLIGHT`.
//! - Redis down: [`super::fallback`], libSQL alone (one request for the key, one or two for
//!   the scan).
//! - libSQL down during an admission: the lock and the nonce are given back before the 503
//!   (one Redis pipeline), so the client's retry runs again.

use super::admit::{Admission, Attempt, Refusal};
use super::answer::{Answer, ScanOutcome};
use super::begin::{Begin, Reply};
use super::buffer::BufferedScan;
use super::decide::{self, Decoded};
use super::input::{Mode, ScanInput};
use super::settle::{LockAfter, Settle};
use super::verifier_key::{self, PresentedKey, invalid_key, revoked_key};
use super::{fallback, lock, record};
use crate::call::Call;
use crate::extract::Verifier;
use crate::gate::Gate;
use crate::redis_errors;
use crate::services::Services;
use shared::checkin::ScanResult;
use shared::error::{Dependency, Error};
use shared::ports::{Clock, Redis};
use shared::redis::Command;

/// Scans `input` for the scanner presenting `key`.
///
/// # Errors
/// 401 `VERIFIER_KEY_INVALID` / `VERIFIER_KEY_REVOKED`; 429 `RATE_LIMITED`; 409
/// `SCAN_IN_FLIGHT` for a duplicate nonce still being answered; 503 when libSQL is down for an
/// admission (nothing is written then, and a retry with the same nonce runs again).
pub async fn scan<S: Services>(
    services: &S,
    call: &Call<'_>,
    key: &PresentedKey,
    input: &ScanInput,
) -> Result<ScanOutcome, Error> {
    let started = services.clock().now_ms();
    let now_ms = i64::try_from(started).unwrap_or(i64::MAX);
    let config = &services.config().checkin;
    let code = decide::read(config, input.code.trim(), started / 1000);
    let begin = Begin::new(services, key, input, &code, now_ms);
    let gate = Gate::new(services, call, None);
    let mut filled = false;
    let reply = loop {
        match begin.run(services, call, &gate).await {
            Ok(Reply::NoKey) if !filled => {
                verifier_key::fill_cache(services, &key.key_id).await?;
                filled = true;
            }
            Ok(reply) => break reply,
            Err(
                e @ Error::Unavailable {
                    dependency: Dependency::Redis,
                    ..
                },
            ) => {
                // Logged and counted; a door configured to fail closed refuses instead.
                redis_errors::ride_over(services, redis_errors::Path::Scan, call.rate.group, &e)?;
                return fallback::scan(services, key, input, code, now_ms).await;
            }
            Err(e) => return Err(e),
        }
    };
    match reply {
        Reply::NoKey => Err(Error::Internal(
            "the verifier key cache did not fill".into(),
        )),
        Reply::BadKey => Err(invalid_key()),
        Reply::Revoked => Err(revoked_key()),
        Reply::Pending => in_flight(services, key, input).await,
        Reply::Replay(stored) => ScanOutcome::replay(&stored)
            .ok_or_else(|| Error::Internal("stored scan answer unreadable".into())),
        // Stored, buffered and counted by the script.
        Reply::Answered { result, body } => Ok(ScanOutcome::new(result, body)),
        Reply::Free {
            event_id,
            name,
            lock,
        } => {
            let verifier = Verifier {
                key_id: key.key_id.clone(),
                event_id,
                name,
            };
            let first = First {
                verifier: &verifier,
                input,
                nonce_key: begin.nonce_key(),
                pending_lock: &lock,
                started,
            };
            first.admit(services, code).await
        }
    }
}

/// A retry whose nonce is still pending: an admission's answer is in libSQL before its
/// response is sent; anything else is still in flight.
async fn in_flight<S: Services>(
    services: &S,
    key: &PresentedKey,
    input: &ScanInput,
) -> Result<ScanOutcome, Error> {
    match record::stored(services.sql(), &key.key_id, &input.nonce).await {
        Ok(Some(outcome)) => Ok(outcome),
        Ok(None) | Err(_) => Err(Error::conflict(
            "SCAN_IN_FLIGHT",
            "a scan with this nonce is still being answered; retry in a moment",
        )),
    }
}

/// The scan that found the ticket's lock free (and holds it pending).
struct First<'a> {
    verifier: &'a Verifier,
    input: &'a ScanInput,
    nonce_key: &'a str,
    pending_lock: &'a str,
    /// When the scan was received (ms).
    started: u64,
}

impl First<'_> {
    async fn admit<S: Services>(&self, services: &S, code: Decoded) -> Result<ScanOutcome, Error> {
        let Decoded::Genuine {
            ticket_id, pass_id, ..
        } = code
        else {
            return Err(Error::Internal(
                "a refused code reached the admission".into(),
            ));
        };
        let attempt = Attempt {
            verifier: self.verifier,
            input: self.input,
            ticket_id: &ticket_id,
            pass_id: pass_id.as_deref(),
            now_ms: self.now_ms(),
        };
        let admission = match attempt.run(services.sql()).await {
            Ok(admission) => admission,
            Err(e) => {
                // Give the ticket and the nonce back before answering: the client's retry
                // must find both free.
                let released = services
                    .redis()
                    .pipeline(vec![
                        lock::release(services, &ticket_id, self.pending_lock),
                        Command::new("DEL").arg(self.nonce_key),
                    ])
                    .await;
                if let Err(release) = released {
                    // The lock expires on its own; the retry waits for it until then.
                    services.log_error(&format!(
                        "scan of {ticket_id}: could not release its lock after {e}: {release}"
                    ));
                }
                return Err(e);
            }
        };
        let elapsed = services.clock().now_ms().saturating_sub(self.started);
        let release = LockAfter::Release(self.pending_lock.to_owned());
        let (outcome, lock, audit) = match admission {
            Admission::Admitted(door) => {
                let body = Answer::about(ScanResult::Ok, &ticket_id, Some(&*door))
                    .body(self.input, Mode::Live);
                let lock = door.first_scan.as_ref().map_or(release, |first| {
                    LockAfter::Confirm(lock::confirmed(first, &door))
                });
                (ScanOutcome::new(ScanResult::Ok, body), lock, None)
            }
            Admission::Refused(refusal) => {
                let Refusal { answer, ticket } = *refusal;
                let body = answer.body(self.input, Mode::Live);
                let first = ticket.as_ref().and_then(|t| t.first_scan.as_ref());
                let lock = match (answer.result, first, &ticket) {
                    // Admitted while Redis had lost the lock: point the lock at it again.
                    (ScanResult::AlreadyRedeemed, Some(first), Some(ticket)) => {
                        LockAfter::Confirm(lock::confirmed(first, ticket))
                    }
                    _ => release,
                };
                let audit = self.audit_row(&answer, &body);
                (ScanOutcome::new(answer.result, body), lock, Some(audit))
            }
            Admission::Replayed(outcome) => (outcome, release, None),
        };
        let settle = Settle {
            ticket_id: &ticket_id,
            nonce_key: self.nonce_key,
            lock,
            body: &outcome.original,
            answered_at: outcome.answered_at.unwrap_or_else(|| self.now_ms()),
            audit,
            counted: (!outcome.replayed).then_some((outcome.result, elapsed)),
        };
        services.defer(settle.command(services));
        Ok(outcome)
    }

    fn now_ms(&self) -> i64 {
        i64::try_from(self.started).unwrap_or(i64::MAX)
    }

    /// The buffered `scans` row of a refused admission.
    fn audit_row(&self, answer: &Answer, body: &str) -> BufferedScan {
        BufferedScan {
            event: self.verifier.event_id.clone(),
            result: answer.result.as_str().to_owned(),
            received_at: self.now_ms(),
            key_id: self.verifier.key_id.clone(),
            device_id: self.input.device_id.clone(),
            gate: self.input.gate.clone(),
            nonce: self.input.nonce.clone(),
            ticket_id: answer.ticket_id.clone(),
            offline: false,
            scanned_at: self.input.scanned_at,
            response: body.to_owned(),
        }
    }
}
