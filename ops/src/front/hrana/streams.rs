//! The streams parked between pipelines, by baton, and their expiry.
//!
//! A baton is valid once: taking a stream removes it, and parking it again
//! issues a fresh baton. A stream idle for longer than the timeout is closed
//! (rolling back its transaction); its baton is remembered for a while so that
//! presenting it answers `STREAM_EXPIRED`, as `sqld` does, rather than an
//! invalid baton.

use std::sync::Weak;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::exec::SqlStream;
use super::{Inner, MAX_STREAMS, lock, random_id};

/// A stream waiting for its next pipeline.
pub(super) struct Parked {
    stream: SqlStream,
    since: Instant,
}

/// What a presented baton names.
pub(super) enum Taken {
    Stream(SqlStream),
    /// A stream closed for idleness.
    Expired,
    /// Never issued, already used, or its stream was closed.
    Invalid,
}

impl Inner {
    /// Park an open stream under a fresh baton.
    pub(super) fn park(&self, stream: SqlStream) -> Option<String> {
        let mut streams = lock(&self.streams);
        if streams.len() >= MAX_STREAMS {
            return None;
        }
        let baton = random_id();
        streams.insert(
            baton.clone(),
            Parked {
                stream,
                since: Instant::now(),
            },
        );
        Some(baton)
    }

    /// Take the stream a baton names.
    pub(super) fn take(&self, baton: &str) -> Taken {
        let Some(parked) = lock(&self.streams).remove(baton) else {
            return if lock(&self.expired).remove(baton).is_some() {
                Taken::Expired
            } else {
                Taken::Invalid
            };
        };
        if parked.since.elapsed() > self.idle_timeout {
            return Taken::Expired;
        }
        Taken::Stream(parked.stream)
    }

    /// Remove streams idle for too long (all of them when `all`), remembering
    /// their batons for a while (ten idle timeouts, at most `MAX_STREAMS`).
    fn expire(&self, all: bool) -> Vec<Parked> {
        let mut streams = lock(&self.streams);
        let batons: Vec<String> = streams
            .iter()
            .filter(|(_, p)| all || p.since.elapsed() > self.idle_timeout)
            .map(|(b, _)| b.clone())
            .collect();
        let mut expired = lock(&self.expired);
        expired.retain(|_, at| at.elapsed() < self.idle_timeout * 10);
        let now = Instant::now();
        batons
            .into_iter()
            .filter_map(|b| {
                let parked = streams.remove(&b)?;
                if expired.len() < MAX_STREAMS {
                    expired.insert(b, now);
                }
                Some(parked)
            })
            .collect()
    }
}

/// Close streams idle for longer than the timeout; at shutdown close all.
pub(super) async fn reap_idle_streams(state: Weak<Inner>, mut shutdown: watch::Receiver<bool>) {
    let tick = state.upgrade().map_or(Duration::from_secs(1), |s| {
        (s.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1))
    });
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(tick) => false,
            r = shutdown.wait_for(|stop| *stop) => { let _ = r; true }
        };
        let Some(inner) = state.upgrade() else {
            return;
        };
        let expired = inner.expire(stopping);
        drop(inner);
        if !expired.is_empty() {
            // Closing a connection may roll back: do it off the async workers.
            let _ = tokio::task::spawn_blocking(move || drop(expired)).await;
        }
        if stopping {
            return;
        }
    }
}
