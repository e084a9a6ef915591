//! `POST /v1/checkin/upload` in a handful of round trips, whatever the number of scans.
//!
//! Workers caps the subrequests of one invocation (50 on the Free plan, 10,000 on Paid:
//! <https://developers.cloudflare.com/workers/platform/limits/#subrequests>, checked 2026-11),
//! and every Hrana or Upstash call is one. Scan by scan ([`offline::scan`]) an upload of 500
//! costs about 1,000 Hrana requests; here it costs, with `C` = ⌈scans / [`CHUNK`]⌉:
//! - **one** Hrana request to read every ticket the codes name (with its check-in), the passes
//!   they carry and the answers already stored for the upload's nonces ([`read`]);
//! - every decision in memory, earliest `scannedAt` first, by the rules of [`offline`]
//!   ([`decide`]);
//! - **one** atomic Hrana batch per chunk of [`CHUNK`] scans ([`write`]), guarded so that a
//!   concurrent writer fails it; then the chunk is read again (one request) and decided again,
//!   at most [`ATTEMPTS`] times, before it falls back to the per-scan path;
//! - after the response, the locks of the admitted tickets and the metrics ([`tally`], one
//!   `HINCRBY` per field) in the one deferred Redis pipeline every request has.
//!
//! So 500 scans are 1 + 5 Hrana requests and 1 Redis request, plus the verifier key's check.
//!
//! Results keep the request's order. A nonce answered before (or twice in one upload) replays
//! its answer; a scan that an earlier scan of the same upload displaced is answered with what
//! its stored row says (`already_redeemed`, naming the earlier scan), so a re-upload answers
//! exactly the same.

pub mod decide;
pub mod read;
pub mod tally;
pub mod write;

use super::answer::{Answer, ScanOutcome};
use super::input::{Mode, ScanInput};
use super::lock;
use super::offline::{self, Prepared};
use crate::extract::Verifier;
use crate::services::Services;
use decide::{Context, Decided, Verdict};
use read::{Known, Wanted};
use serde_json::Value as Json;
use shared::checkin::ScanResult;
use shared::error::Error;
use shared::ports::{Clock, Sql};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use tally::Tally;

/// Scans per atomic batch: 500 scans in 5 batches of a few hundred statements each.
pub const CHUNK: usize = 100;
/// Batches a chunk may lose to concurrent writers before it goes scan by scan.
pub const ATTEMPTS: usize = 3;

/// Decides and writes the scans of an upload by `verifier`; the answers in the request's order.
///
/// # Errors
/// 503 when libSQL is down (chunks already written replay when the upload is sent again).
pub async fn run<S: Services>(
    services: &S,
    verifier: &Verifier,
    scans: &[ScanInput],
) -> Result<Vec<Json>, Error> {
    let started = services.clock().now_ms();
    let now_ms = i64::try_from(started).unwrap_or(i64::MAX);
    let config = &services.config().checkin;
    let prepared: Vec<Prepared> = scans
        .iter()
        .map(|s| offline::prepare(config, &verifier.event_id, s, now_ms))
        .collect();
    let (unique, copies) = order(scans);
    let ctx = Context {
        event_id: &verifier.event_id,
        key_id: &verifier.key_id,
        scans,
        prepared: &prepared,
    };
    let mut known = read::load(services.sql(), &verifier.key_id, &wanted(&ctx, &unique)).await?;
    let mut upload = Upload {
        slots: vec![None; scans.len()],
        ..Upload::default()
    };
    let step = Step {
        services,
        verifier,
        ctx: &ctx,
        started,
        now_ms,
    };
    let mut failed = None;
    for chunk in unique.chunks(CHUNK) {
        if let Err(e) = step.settle(&mut known, chunk, &mut upload).await {
            // The chunks written so far stand (a resent upload replays them): lock and count
            // them all the same.
            failed = Some(e);
            break;
        }
    }
    // The next live scan of an admitted ticket is answered from its lock.
    for id in &upload.admitted {
        if let Some((ticket, first)) = known
            .tickets
            .get(id)
            .and_then(|t| t.first_scan.as_ref().map(|f| (t, f)))
        {
            services.defer(lock::confirm(services, first, ticket));
        }
    }
    for command in upload.tally.commands(services) {
        services.defer(command);
    }
    if let Some(e) = failed {
        return Err(e);
    }
    upload.results(scans, &copies)
}

/// The scans to decide, earliest `scannedAt` first (so within one upload the first scan of a
/// ticket is admitted), each nonce once; and `(later, first)` pairs of a nonce listed twice.
fn order(scans: &[ScanInput]) -> (Vec<usize>, Vec<(usize, usize)>) {
    let mut order: Vec<usize> = (0..scans.len()).collect();
    order.sort_by_key(|&i| (scans[i].scanned_at, i));
    let mut first: HashMap<&str, usize> = HashMap::new();
    let (mut unique, mut copies) = (Vec::new(), Vec::new());
    for i in order {
        match first.entry(scans[i].nonce.as_str()) {
            Entry::Vacant(entry) => {
                entry.insert(i);
                unique.push(i);
            }
            Entry::Occupied(entry) => copies.push((i, *entry.get())),
        }
    }
    (unique, copies)
}

/// What deciding the scans `indexes` needs read.
fn wanted(ctx: &Context<'_>, indexes: &[usize]) -> Wanted {
    let mut wanted = Wanted::default();
    for &i in indexes {
        let (Some(input), Some(prepared)) = (ctx.scans.get(i), ctx.prepared.get(i)) else {
            continue;
        };
        match prepared {
            Prepared::Genuine {
                ticket_id, pass_id, ..
            } => wanted.add(Some(ticket_id), pass_id.as_deref(), &input.nonce),
            Prepared::Refused(_) => wanted.add(None, None, &input.nonce),
        }
    }
    wanted
}

/// A scan's answer so far.
#[derive(Debug, Clone)]
enum Slot {
    /// Decided here; rendered at the end (a later chunk may still displace it).
    Fresh(Box<Answer>),
    /// A replay, or the per-scan path's answer.
    Fixed(ScanOutcome),
}

/// The upload's answers and what it did, chunk after chunk.
#[derive(Default)]
struct Upload {
    slots: Vec<Option<Slot>>,
    /// Nonce → index of the scans answered afresh.
    ours: HashMap<String, usize>,
    /// Tickets admitted by a batch.
    admitted: Vec<String>,
    tally: Tally,
}

impl Upload {
    /// Takes in a chunk whose batch committed `elapsed_ms` after the upload arrived.
    fn commit(&mut self, ctx: &Context<'_>, decided: Decided, elapsed_ms: u64) {
        for displaced in decided.displacements.iter().filter(|d| !d.in_chunk) {
            // (One displaced inside the chunk is counted as the `already_redeemed` it became.)
            self.tally.conflict();
            let slot = displaced.earlier_chunk.and_then(|j| self.slots.get_mut(j));
            if let Some(Some(Slot::Fresh(answer))) = slot {
                answer.result = ScanResult::AlreadyRedeemed;
                answer.first_scan = Some(displaced.by.clone());
            }
        }
        for admission in decided.admissions {
            if !self.admitted.contains(&admission.before.id) {
                self.admitted.push(admission.before.id);
            }
        }
        for (index, verdict) in decided.verdicts {
            let slot = match verdict {
                Verdict::Fresh(answer) => {
                    self.tally.scan(answer.result, elapsed_ms);
                    if let Some(input) = ctx.scans.get(index) {
                        self.ours.insert(input.nonce.clone(), index);
                    }
                    Slot::Fresh(answer)
                }
                Verdict::Replayed(outcome) => Slot::Fixed(outcome),
            };
            if let Some(place) = self.slots.get_mut(index) {
                *place = Some(slot);
            }
        }
    }

    /// The answers in the request's order; a nonce listed twice answers as its first.
    fn results(self, scans: &[ScanInput], copies: &[(usize, usize)]) -> Result<Vec<Json>, Error> {
        let mut results: Vec<Json> = self
            .slots
            .into_iter()
            .zip(scans)
            .map(|(slot, input)| match slot {
                Some(Slot::Fresh(answer)) => {
                    ScanOutcome::new(answer.result, answer.body(input, Mode::Offline)).json()
                }
                Some(Slot::Fixed(outcome)) => outcome.json(),
                None => Json::Null,
            })
            .collect();
        for &(later, first) in copies {
            let answer = results.get(first).cloned().unwrap_or(Json::Null);
            if let Some(place) = results.get_mut(later) {
                *place = answer;
            }
        }
        if results.iter().any(Json::is_null) {
            return Err(Error::Internal("an uploaded scan got no answer".into()));
        }
        Ok(results)
    }
}

/// What settling one chunk needs.
struct Step<'a, S> {
    services: &'a S,
    verifier: &'a Verifier,
    ctx: &'a Context<'a>,
    started: u64,
    now_ms: i64,
}

impl<S: Services> Step<'_, S> {
    /// Decides and writes `chunk`: one batch, read again and retried when a concurrent writer
    /// got there first, and scan by scan after [`ATTEMPTS`] lost batches.
    async fn settle(
        &self,
        known: &mut Known,
        chunk: &[usize],
        upload: &mut Upload,
    ) -> Result<(), Error> {
        let sql = self.services.sql();
        for attempt in 1..=ATTEMPTS {
            let mut trial = known.clone();
            let decided = decide::decide(self.ctx, &mut trial, chunk, &upload.ours);
            let batch = write::statements(self.verifier, self.ctx.scans, &decided, self.now_ms);
            let written = match batch.is_empty() {
                true => Ok(()),
                false => sql.batch_atomic(batch).await.map(drop),
            };
            match written {
                Ok(()) => {
                    *known = trial;
                    let elapsed = self.services.clock().now_ms().saturating_sub(self.started);
                    upload.commit(self.ctx, decided, elapsed);
                    return Ok(());
                }
                // A guard, a check-in or a nonce found another writer's row: nothing was
                // written; read what it wrote and decide again.
                Err(e) if e.failed_index().is_some() => {
                    self.services.log_error(&format!(
                        "upload chunk lost a race (attempt {attempt} of {ATTEMPTS}): {e}"
                    ));
                    self.reread(known, chunk).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        for &index in chunk {
            let Some(input) = self.ctx.scans.get(index) else {
                continue;
            };
            let outcome = offline::scan(self.services, self.verifier, input).await?;
            if let Some(place) = upload.slots.get_mut(index) {
                *place = Some(Slot::Fixed(outcome));
            }
        }
        // The next chunks decide on what the per-scan path wrote.
        self.reread(known, chunk).await
    }

    async fn reread(&self, known: &mut Known, chunk: &[usize]) -> Result<(), Error> {
        let wanted = wanted(self.ctx, chunk);
        let fresh = read::load(self.services.sql(), &self.verifier.key_id, &wanted).await?;
        known.refresh(&wanted, fresh);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
