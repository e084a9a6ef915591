//! The state of one [`super::feed::Feed`] and how a read lands in it: entries contiguous up
//! to the feed's head, at most [`HELD`] of them.

use super::log::{Entry, LogRead};
use std::collections::VecDeque;

/// Entries a feed keeps for streams that are a little behind.
const HELD: usize = 1_000;

#[derive(Default)]
pub(super) struct State {
    pub(super) head: Option<u64>,
    /// Contiguous seqs ending at `head`.
    pub(super) entries: VecDeque<Entry>,
    /// When the last read settled.
    pub(super) polled_at: Option<u64>,
    /// The read in flight, by generation.
    pub(super) reading: Option<u64>,
    pub(super) generation: u64,
    /// While the feed has no head: the log no longer holds the entries after this seq (the
    /// CDN's `SEQ_TOO_OLD`), so streams at or behind it read their gap themselves.
    pub(super) lost_after: Option<u64>,
}

pub(super) fn merge(state: &mut State, read: LogRead) {
    match (state.head, read.head) {
        // No log (Redis lost it): the streams find out from their own gap reads.
        (_, None) => {
            state.head = None;
            state.entries.clear();
        }
        // An older view (a cached read of another isolate): keep ours.
        (Some(head), Some(new)) if new < head => {}
        (Some(head), Some(new)) => {
            let joins = read
                .entries
                .first()
                .map_or(new == head, |first| first.seq <= head + 1);
            if !joins {
                state.entries.clear();
            }
            let last = state.entries.back().map_or(0, |e| e.seq);
            state
                .entries
                .extend(read.entries.into_iter().filter(|e| e.seq > last));
            state.head = Some(new);
        }
        (None, Some(new)) => {
            state.entries = read.entries.into();
            state.head = Some(new);
            state.lost_after = None;
        }
    }
    let excess = state.entries.len().saturating_sub(HELD);
    state.entries.drain(..excess);
}
