//! A live scan while Redis is down: libSQL alone decides, as it would after a Redis flush.
//!
//! The key is checked against libSQL, a refused code's `scans` row is written there directly
//! (no buffer), and a genuine code runs the admission batch, whose unique `checkins` row keeps
//! the exactly-once promise; a nonce seen before replays from libSQL. Costs one more Hrana
//! request than the normal path and one for the key, and nothing counts in the metrics.

use super::admit::{Admission, Attempt};
use super::answer::{Answer, ScanOutcome};
use super::decide::Decoded;
use super::input::{Mode, ScanInput};
use super::record::record;
use super::verifier_key::{PresentedKey, authenticate_key};
use crate::services::Services;
use shared::checkin::ScanResult;
use shared::error::Error;

/// Scans `input` (whose code reads as `code`) with `key` at `now_ms`, on libSQL alone.
///
/// # Errors
/// 401 for a bad key; 503 when libSQL is down too.
pub async fn scan<S: Services>(
    services: &S,
    key: &PresentedKey,
    input: &ScanInput,
    code: Decoded,
    now_ms: i64,
) -> Result<ScanOutcome, Error> {
    let verifier = authenticate_key(services, key).await?;
    let sql = services.sql();
    let (ticket_id, pass_id) = match code.at_event(&verifier.event_id) {
        Decoded::Refused {
            result, ticket_id, ..
        } => {
            let answer = Answer::refused(result, ticket_id);
            return record(sql, &verifier, input, Mode::Live, &answer, now_ms).await;
        }
        Decoded::Genuine {
            ticket_id, pass_id, ..
        } => (ticket_id, pass_id),
    };
    let attempt = Attempt {
        verifier: &verifier,
        input,
        ticket_id: &ticket_id,
        pass_id: pass_id.as_deref(),
        now_ms,
    };
    match attempt.run(sql).await? {
        Admission::Admitted(door) => {
            let answer = Answer::about(ScanResult::Ok, &ticket_id, Some(&*door));
            Ok(ScanOutcome::new(
                ScanResult::Ok,
                answer.body(input, Mode::Live),
            ))
        }
        Admission::Refused(refusal) => {
            record(sql, &verifier, input, Mode::Live, &refusal.answer, now_ms).await
        }
        Admission::Replayed(outcome) => Ok(outcome),
    }
}
