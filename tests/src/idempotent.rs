//! Sending an idempotent request as a careful client does: a `409 IDEMPOTENCY_IN_FLIGHT`
//! means the first request with this key has answered but its record is still being stored
//! (the server stores it after the response), so the client waits `Retry-After` and asks
//! again. Tests that replay a key at once use this instead of a bare `send`.

use crate::{App, Reply};
use std::time::Duration;

/// How many times an in-flight answer is waited out before the test gives up.
const ATTEMPTS: usize = 5;

impl App {
    /// `send`, retried after `Retry-After` while the answer is `409 IDEMPOTENCY_IN_FLIGHT`.
    pub async fn send_idempotent(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut reply = self
            .send(method.clone(), path, token, body.clone(), headers)
            .await;
        for _ in 1..ATTEMPTS {
            if reply.status != 409 || reply.body["error_code"] != "IDEMPOTENCY_IN_FLIGHT" {
                break;
            }
            let wait = reply
                .header("retry-after")
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            reply = self
                .send(method.clone(), path, token, body.clone(), headers)
                .await;
        }
        reply
    }
}
