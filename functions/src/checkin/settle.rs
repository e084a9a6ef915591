//! What a live scan that went to libSQL leaves in Redis, after the response, in ONE deferred
//! command (`scan_settle.lua`): the ticket's lock confirmed (or repaired, or given back), the
//! nonce's answer, the audit row of a refusal, the scan's metrics.

use super::begin::NONCE_KEEP_MS;
use super::buffer::BufferedScan;
use super::lock::LOCK_KEEP_SECS;
use crate::keys;
use crate::metrics::bucket_index;
use crate::services::Services;
use shared::checkin::ScanResult;
use shared::redis::{Command, Script};
use std::sync::LazyLock;

static SETTLE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/scan_settle.lua")));

/// What becomes of the ticket's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAfter {
    /// Set it to this value (the admission libSQL holds).
    Confirm(String),
    /// Delete it if it still holds this value (our pending lock).
    Release(String),
}

/// One scan's after-response settlement.
#[derive(Debug, Clone)]
pub struct Settle<'a> {
    pub ticket_id: &'a str,
    pub nonce_key: &'a str,
    pub lock: LockAfter,
    /// The answer's body (unlabelled), replayed for the nonce.
    pub body: &'a str,
    /// When it was first answered (ms), kept with it for replays.
    pub answered_at: i64,
    /// The audit row, when libSQL does not have it.
    pub audit: Option<BufferedScan>,
    /// The result and its latency (ms) to count; `None` for a replayed answer.
    pub counted: Option<(ScanResult, u64)>,
}

impl Settle<'_> {
    /// The command, a plain `EVAL` (a deferred `EVALSHA` answered `NOSCRIPT` is not retried).
    pub fn command<S: Services>(&self, services: &S) -> Command {
        let (action, value) = match &self.lock {
            LockAfter::Confirm(value) => ("confirm", value.as_str()),
            LockAfter::Release(value) => ("release", value.as_str()),
        };
        let audit = self
            .audit
            .as_ref()
            .and_then(|row| serde_json::to_string(row).ok())
            .unwrap_or_default();
        let (result, bucket, elapsed) = match self.counted {
            Some((result, elapsed)) => (result.as_str(), bucket_index(elapsed), elapsed),
            None => ("", 0, 0),
        };
        Command::new("EVAL")
            .arg(SETTLE.source())
            .arg(4)
            .arg(keys::checkin_lock(services, self.ticket_id))
            .arg(self.nonce_key)
            .arg(keys::scan_buffer(services))
            .arg(super::metrics::key(services))
            .arg(action)
            .arg(value)
            .arg(LOCK_KEEP_SECS)
            .arg(super::answer::nonce_record(self.answered_at, self.body))
            .arg(NONCE_KEEP_MS)
            .arg(audit)
            .arg(result)
            .arg(bucket)
            .arg(elapsed)
    }
}
