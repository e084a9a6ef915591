//! The upload's decisions, made in memory: the rules of [`crate::checkin::offline`] applied to
//! one chunk of scans, earliest `scannedAt` first, against what the upload [`Known`]s —
//! updated as scans are admitted, so the next scan of the same ticket sees the admission.
//!
//! Nothing here touches the network: [`super::write`] turns a [`Decided`] chunk into one
//! atomic batch, and only when that batch commits does the chunk's state become the upload's.

use super::super::answer::{Answer, ScanOutcome};
use super::super::decide::judge;
use super::super::input::ScanInput;
use super::super::offline::Prepared;
use super::super::ticket::{DoorTicket, FirstScan};
use super::read::Known;
use shared::checkin::ScanResult;
use std::collections::HashMap;

/// The scans of one upload, and what each said before any ticket was looked at.
pub struct Context<'a> {
    pub event_id: &'a str,
    pub key_id: &'a str,
    pub scans: &'a [ScanInput],
    pub prepared: &'a [Prepared],
}

/// One scan's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A new answer, to be written with the chunk.
    Fresh(Box<Answer>),
    /// The nonce was answered before: that answer, unchanged, and nothing written.
    Replayed(ScanOutcome),
}

/// A ticket admitted by the chunk: the scan that holds its check-in at the end of the chunk,
/// and the ticket as it was before the chunk (what the batch's guard expects to find).
#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    pub index: usize,
    pub at_ms: i64,
    pub before: DoorTicket,
}

/// An offline admission displaced by an earlier scan of the chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct Displacement {
    pub previous: FirstScan,
    /// The earlier scan that displaced it.
    pub by: FirstScan,
    /// Where `previous` is in this upload, if it was admitted by it in an earlier chunk (its
    /// answer changes too); `None` for a row of another upload.
    pub earlier_chunk: Option<usize>,
    /// `previous` was admitted by this very chunk: its row is written already rewritten.
    pub in_chunk: bool,
}

/// The decisions of one chunk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decided {
    /// `(index in the upload, verdict)`, in the order decided.
    pub verdicts: Vec<(usize, Verdict)>,
    /// One per ticket admitted, in the order first admitted.
    pub admissions: Vec<Admission>,
    pub displacements: Vec<Displacement>,
}

/// Decides the scans `chunk` (upload indexes, earliest `scannedAt` first), advancing `known`.
/// `ours` maps the nonces this upload answered in earlier chunks to their index.
pub fn decide(
    ctx: &Context<'_>,
    known: &mut Known,
    chunk: &[usize],
    ours: &HashMap<String, usize>,
) -> Decided {
    let mut decider = Decider {
        ctx,
        known,
        ours,
        decided: Decided::default(),
        here: HashMap::new(),
    };
    for &index in chunk {
        decider.scan(index);
    }
    decider.decided
}

/// One chunk being decided.
struct Decider<'a, 'b> {
    ctx: &'a Context<'b>,
    known: &'a mut Known,
    ours: &'a HashMap<String, usize>,
    decided: Decided,
    /// Nonce → position in `decided.verdicts`, for scans of this chunk displaced later in it.
    here: HashMap<String, usize>,
}

/// A genuine scan of the chunk.
#[derive(Clone, Copy)]
struct Scan<'a> {
    index: usize,
    input: &'a ScanInput,
    at_ms: i64,
}

impl Decider<'_, '_> {
    fn scan(&mut self, index: usize) {
        let ctx = self.ctx;
        let Some((input, prepared)) = ctx.scans.get(index).zip(ctx.prepared.get(index)) else {
            return;
        };
        if let Some(stored) = self.known.stored.get(&input.nonce) {
            let verdict = Verdict::Replayed(stored.clone());
            self.decided.verdicts.push((index, verdict));
            return;
        }
        let answer = match prepared {
            Prepared::Refused(answer) => answer.as_ref().clone(),
            Prepared::Genuine {
                ticket_id,
                pass_id,
                at_ms,
            } => {
                let scan = Scan {
                    index,
                    input,
                    at_ms: *at_ms,
                };
                self.genuine(scan, ticket_id, pass_id.as_deref())
            }
        };
        self.here
            .insert(input.nonce.clone(), self.decided.verdicts.len());
        self.decided
            .verdicts
            .push((index, Verdict::Fresh(Box::new(answer))));
    }

    /// What the ticket's state makes of a genuine scan; admits it when it is the earliest (as
    /// `offline::admit` does, one scan at a time).
    fn genuine(&mut self, scan: Scan<'_>, ticket_id: &str, pass_id: Option<&str>) -> Answer {
        let ticket = self.known.view(ticket_id, pass_id);
        let verdict = judge(ticket.as_ref(), self.ctx.event_id);
        let mut answer = Answer::about(verdict, ticket_id, ticket.as_ref());
        let ticket = match (verdict, ticket) {
            (ScanResult::Ok | ScanResult::AlreadyRedeemed, Some(ticket)) => ticket,
            _ => return answer,
        };
        // A live admission is timed by the server: no device's claim goes before it.
        let earlier = ticket
            .first_scan
            .as_ref()
            .filter(|first| !first.offline || first.at_ms <= scan.at_ms)
            .cloned();
        if earlier.is_some() || (ticket.first_scan.is_none() && ticket.status == "used") {
            answer.result = ScanResult::AlreadyRedeemed;
            answer.first_scan = earlier;
            return answer;
        }
        // First by `scannedAt`: admit, displacing a later offline check-in if there is one.
        answer.result = ScanResult::Ok;
        answer.supersedes = ticket.first_scan.clone();
        answer.first_scan = None;
        let first = FirstScan {
            at_ms: scan.at_ms,
            gate: scan.input.gate.clone(),
            device_id: scan.input.device_id.clone(),
            verifier_key_id: self.ctx.key_id.to_owned(),
            nonce: scan.input.nonce.clone(),
            offline: true,
        };
        if let Some(previous) = &answer.supersedes {
            self.displace(previous, &first);
        }
        self.admit(scan, ticket, first);
        answer
    }

    /// Records that `first` displaced the offline admission `previous`.
    fn displace(&mut self, previous: &FirstScan, first: &FirstScan) {
        let mine = previous.verifier_key_id == self.ctx.key_id;
        let in_chunk = self.here.get(&previous.nonce).filter(|_| mine).copied();
        let displaced = in_chunk.and_then(|at| self.decided.verdicts.get_mut(at));
        if let Some((_, Verdict::Fresh(displaced))) = displaced {
            // Its row is written once, already naming the scan that displaced it.
            displaced.result = ScanResult::AlreadyRedeemed;
            displaced.first_scan = Some(first.clone());
        }
        self.decided.displacements.push(Displacement {
            previous: previous.clone(),
            by: first.clone(),
            earlier_chunk: self.ours.get(&previous.nonce).copied().filter(|_| mine),
            in_chunk: in_chunk.is_some(),
        });
    }

    /// Makes `first` the ticket's admission, for the rest of the upload and for the batch.
    fn admit(&mut self, scan: Scan<'_>, ticket: DoorTicket, first: FirstScan) {
        let admissions = &mut self.decided.admissions;
        match admissions.iter_mut().find(|a| a.before.id == ticket.id) {
            Some(admission) => {
                admission.index = scan.index;
                admission.at_ms = scan.at_ms;
            }
            None => {
                // The first admission of the chunk sees the state from before it.
                let before = self.known.tickets.get(&ticket.id).cloned();
                admissions.push(Admission {
                    index: scan.index,
                    at_ms: scan.at_ms,
                    before: before.unwrap_or(ticket.clone()),
                });
            }
        }
        if let Some(state) = self.known.tickets.get_mut(&ticket.id) {
            state.first_scan = Some(first);
            state.status = "used".to_owned();
        }
    }
}

#[cfg(test)]
mod tests;
