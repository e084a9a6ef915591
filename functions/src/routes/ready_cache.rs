//! `/ready`'s verdict, reused for `READY_CACHE_MS` (1–5 s) so the endpoint cannot be used to
//! amplify load onto Redis, libSQL and the RPC: a flood of `/ready` costs the dependencies at
//! most one full check per window.
//!
//! Two levels, because hosts keep instances differently:
//! - the instance's memory: a Workers isolate answers repeated `/ready` with no outbound call;
//! - a Redis key holding the last verdict with the window as its TTL, for hosts that make an
//!   instance per request (Spin, `wasmtime serve`): one `GET` instead of a Redis ping, a libSQL
//!   statement, two RPC calls and the indexer's hash. The key is written after the response.
//!
//! While Redis is down the second level is gone, so on per-request hosts every `/ready` checks
//! libSQL and the RPC again; the window of the first level still holds on Workers.

use crate::keys;
use crate::services::Services;
use serde_json::Value;
use shared::ports::{Clock, Redis};
use shared::redis::{Command, Value as RedisValue};
use std::cell::RefCell;

/// One verdict: its status, body (without the request id) and when it was checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: u16,
    pub body: Value,
    pub checked_at_ms: u64,
}

thread_local! {
    static LAST: RefCell<Option<Verdict>> = const { RefCell::new(None) };
}

/// A verdict still inside the window, from this instance or from Redis.
pub async fn fresh<S: Services>(services: &S) -> Option<Verdict> {
    let now = services.clock().now_ms();
    let window = services.config().ready_cache_ms;
    let young = |v: &Verdict| now.saturating_sub(v.checked_at_ms) < window;
    if let Some(local) = LAST.with_borrow(|last| last.clone().filter(young)) {
        return Some(local);
    }
    let stored = services
        .redis()
        .exec(Command::new("GET").arg(keys::ready_verdict(services)))
        .await
        .ok()?;
    let RedisValue::Bytes(bytes) = stored else {
        return None;
    };
    let verdict = decode(&bytes).filter(young)?;
    LAST.with_borrow_mut(|last| *last = Some(verdict.clone()));
    Some(verdict)
}

/// Keeps a new verdict in this instance and, after the response, in Redis for the window.
pub fn keep<S: Services>(services: &S, verdict: &Verdict) {
    LAST.with_borrow_mut(|last| *last = Some(verdict.clone()));
    let stored = serde_json::json!({
        "status": verdict.status,
        "body": verdict.body,
        "checkedAt": verdict.checked_at_ms,
    });
    services.defer(
        Command::new("SET")
            .arg(keys::ready_verdict(services))
            .arg(stored.to_string())
            .arg("PX")
            .arg(services.config().ready_cache_ms.to_string()),
    );
}

fn decode(bytes: &[u8]) -> Option<Verdict> {
    let stored: Value = serde_json::from_slice(bytes).ok()?;
    Some(Verdict {
        status: u16::try_from(stored["status"].as_u64()?).ok()?,
        body: stored.get("body")?.clone(),
        checked_at_ms: stored["checkedAt"].as_u64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_verdict_reads_back() {
        let text = serde_json::json!({"status": 503, "body": {"down": ["rpc"]}, "checkedAt": 7});
        let verdict = decode(text.to_string().as_bytes()).expect("decodes");
        assert_eq!(verdict.status, 503);
        assert_eq!(verdict.body["down"][0], "rpc");
        assert_eq!(verdict.checked_at_ms, 7);
        assert_eq!(decode(b"not json"), None);
        assert_eq!(
            decode(br#"{"status": 70000, "body": {}, "checkedAt": 1}"#),
            None
        );
    }
}
