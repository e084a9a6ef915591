//! The first step of a live scan, and for most scans the only one: one run of `scan_begin.lua`
//! through the gate (rate limit, verifier key, nonce, refusals, duplicates, pending lock).

use super::answer::{head, tail};
use super::buffer::row_fragment;
use super::decide::Decoded;
use super::input::{Mode, ScanInput};
use super::verifier_key::PresentedKey;
use super::{lock, metrics};
use crate::call::Call;
use crate::gate::Gate;
use crate::keys;
use crate::services::Services;
use shared::checkin::ScanResult;
use shared::error::Error;
use shared::redis::{Script, Value};
use std::sync::LazyLock;

/// `scan_begin.lua` behind the gate.
static BEGIN: LazyLock<Script> = crate::gated_script!("scan_begin.lua");

/// How long a scan in flight holds its nonce, and a pending lock its ticket.
pub const LEASE_MS: u64 = 30_000;
/// How long a scan's answer is replayed from Redis (libSQL keeps admissions' for good, the
/// drain the others').
pub const NONCE_KEEP_MS: u64 = 24 * 3600 * 1000;

/// What `scan_begin.lua` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The key's record is not cached: fill it and run again.
    NoKey,
    BadKey,
    Revoked,
    /// A scan with this nonce is still being answered.
    Pending,
    /// The stored answer of the scan that had this nonce.
    Replay(String),
    /// Answered (and stored, and buffered) inside the script.
    Answered {
        result: ScanResult,
        body: String,
    },
    /// No lock: a pending one is ours, and libSQL decides.
    Free {
        event_id: String,
        name: String,
        lock: String,
    },
}

/// The keys and arguments of one scan's script call.
pub struct Begin {
    keys: [String; 5],
    args: Vec<String>,
}

impl Begin {
    /// The call for `input` (whose code reads as `code`) with `key`, received at `now_ms`.
    pub fn new<S: Services>(
        services: &S,
        key: &PresentedKey,
        input: &ScanInput,
        code: &Decoded,
        now_ms: i64,
    ) -> Begin {
        let nonce = keys::scan_nonce(services, &key.key_id, &input.nonce);
        let lock_key = code
            .ticket_id()
            .map_or_else(|| nonce.clone(), |t| keys::checkin_lock(services, t));
        let (refusal, refusal_head) = match code {
            Decoded::Refused { result, .. } => (result.as_str().to_owned(), head(*result)),
            Decoded::Genuine { .. } => (String::new(), String::new()),
        };
        Begin {
            keys: [
                keys::verifier_cache(services, &key.key_id),
                nonce,
                keys::scan_buffer(services),
                lock_key,
                metrics::key(services),
            ],
            args: vec![
                key.secret_hash.clone(),
                refusal,
                code.event_id().unwrap_or_default().to_owned(),
                LEASE_MS.to_string(),
                NONCE_KEEP_MS.to_string(),
                refusal_head,
                head(ScanResult::WrongEvent),
                head(ScanResult::AlreadyRedeemed),
                tail(input, Mode::Live),
                row_fragment(&key.key_id, input, code.ticket_id()),
                lock::pending_first(now_ms, &input.gate, &input.device_id),
                now_ms.to_string(),
                metrics::bucket_bounds(),
            ],
        }
    }

    /// The scan's nonce key.
    pub fn nonce_key(&self) -> &str {
        &self.keys[1]
    }

    /// Runs the script once.
    ///
    /// # Errors
    /// 429 `RATE_LIMITED`; 503 `REDIS_UNAVAILABLE`; internal for a reply it cannot read.
    pub async fn run<S: Services>(
        &self,
        services: &S,
        call: &Call<'_>,
        gate: &Gate,
    ) -> Result<Reply, Error> {
        let keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let reply = gate.eval(services, call, &BEGIN, &keys, &args).await?;
        Reply::parse(&reply)
    }
}

impl Reply {
    /// Reads the script's reply.
    ///
    /// # Errors
    /// Internal for a reply the script does not give.
    pub fn parse(reply: &Value) -> Result<Reply, Error> {
        let unreadable = || Error::Internal(format!("scan_begin.lua answered {reply:?}"));
        let Value::Array(parts) = reply else {
            return Err(unreadable());
        };
        let text = |i: usize| parts.get(i).and_then(Value::as_str);
        let owned = |i: usize| text(i).map(str::to_owned).ok_or_else(unreadable);
        match text(0) {
            Some("NOKEY") => Ok(Reply::NoKey),
            Some("BADKEY") => Ok(Reply::BadKey),
            Some("REVOKED") => Ok(Reply::Revoked),
            Some("PENDING") => Ok(Reply::Pending),
            Some("REPLAY") => Ok(Reply::Replay(owned(1)?)),
            Some("ANSWERED") => Ok(Reply::Answered {
                result: text(1).and_then(ScanResult::parse).ok_or_else(unreadable)?,
                body: owned(2)?,
            }),
            Some("FREE") => Ok(Reply::Free {
                event_id: owned(1)?,
                name: owned(2)?,
                lock: owned(3)?,
            }),
            _ => Err(unreadable()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(parts: &[&str]) -> Value {
        Value::Array(
            parts
                .iter()
                .map(|p| Value::Bytes(p.as_bytes().to_vec()))
                .collect(),
        )
    }

    #[test]
    fn reads_every_reply() {
        assert_eq!(Reply::parse(&bytes(&["NOKEY"])).ok(), Some(Reply::NoKey));
        assert_eq!(
            Reply::parse(&bytes(&["PENDING"])).ok(),
            Some(Reply::Pending)
        );
        assert_eq!(
            Reply::parse(&bytes(&["ANSWERED", "already_redeemed", "{}"])).ok(),
            Some(Reply::Answered {
                result: ScanResult::AlreadyRedeemed,
                body: "{}".into()
            })
        );
        assert_eq!(
            Reply::parse(&bytes(&["FREE", "evt_1", "North", "evt_1\n{}\nnull"])).ok(),
            Some(Reply::Free {
                event_id: "evt_1".into(),
                name: "North".into(),
                lock: "evt_1\n{}\nnull".into()
            })
        );
        assert!(Reply::parse(&bytes(&["ANSWERED", "maybe", "{}"])).is_err());
        assert!(Reply::parse(&bytes(&["FREE", "evt_1"])).is_err());
        assert!(Reply::parse(&Value::Nil).is_err());
    }

    #[test]
    fn the_script_indexes_its_arguments_by_position() {
        // The gate appends its keys and spec: the script must never count KEYS or ARGV.
        let source = include_str!("../scripts/scan_begin.lua");
        assert!(!source.contains("#KEYS") && !source.contains("#ARGV"));
    }
}
