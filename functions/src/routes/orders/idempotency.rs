//! `Idempotency-Key` for `POST /v1/orders`, with pretix's semantics: the same key from the
//! same caller returns the stored response for 24 h; a duplicate while the first is still
//! running gets 409 with `Retry-After`; the key reused with another body gets 422. A request
//! that failed on our side (5xx) forgets its key, so the client's retry runs again.

use crate::http::{Request, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::error::Error;
use shared::redis::Command;

/// How long a finished response is replayed.
const KEEP_MS: u64 = 24 * 3600 * 1000;
/// How long an in-flight request holds its key (longer than any request runs).
const LEASE_MS: u64 = 60 * 1000;

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    state: String,
    hash: String,
    #[serde(default)]
    status: u16,
    #[serde(default)]
    body: serde_json::Value,
    /// The `Location` of a created resource, replayed with the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
}

/// A key taken by this request.
pub struct Claimed {
    key: String,
    hash: String,
}

/// The request's key: 1–200 visible ASCII characters.
///
/// # Errors
/// 400 `IDEMPOTENCY_KEY_REQUIRED` / `IDEMPOTENCY_KEY_INVALID`.
pub fn key_of(request: &Request) -> Result<&str, Error> {
    let key = request.headers.get("idempotency-key").ok_or_else(|| {
        Error::bad_request(
            "IDEMPOTENCY_KEY_REQUIRED",
            "send an Idempotency-Key header (e.g. a UUID) so a retried order is not placed twice",
        )
    })?;
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::bad_request(
            "IDEMPOTENCY_KEY_INVALID",
            "the Idempotency-Key must be 1 to 200 visible ASCII characters",
        ));
    }
    Ok(key)
}

/// The hash a record keeps of the request body (a reused key with another body is refused).
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// How long an in-flight request holds its key.
pub fn lease_ms() -> u64 {
    LEASE_MS
}

/// The answer to a request whose key has record `stored`: the earlier response, or why not.
///
/// # Errors
/// 409 `IDEMPOTENCY_IN_FLIGHT`; 422 `IDEMPOTENCY_KEY_REUSED`; internal for a bad record.
pub fn replay(stored: &str, hash: &str) -> Result<Response, Error> {
    let stored: Stored = serde_json::from_str(stored)
        .map_err(|_| Error::Internal("unreadable idempotency record".to_owned()))?;
    if stored.hash != hash {
        return Err(Error::unprocessable(
            "IDEMPOTENCY_KEY_REUSED",
            "this Idempotency-Key was used with a different body; use a new key",
        ));
    }
    if stored.state != "done" {
        // A duplicate of a request still running: it will have finished in a moment.
        return Err(Error::InFlight {
            code: "IDEMPOTENCY_IN_FLIGHT",
            message: "a request with this Idempotency-Key is still running; retry shortly"
                .to_owned(),
            retry_after_secs: 1,
        });
    }
    let mut response = Response::json(stored.status, &stored.body);
    response.headers.set("idempotent-replayed", "true");
    // A replayed 201 says where the order is, as the first answer did. A record stored
    // without a location (written before locations were kept) still names its order.
    let location = stored.location.or_else(|| {
        (stored.status == 201)
            .then(|| stored.body["orderId"].as_str())
            .flatten()
            .map(|id| format!("/v1/orders/{id}"))
    });
    if let Some(location) = location {
        response.headers.set("location", location);
    }
    Ok(response)
}

impl Claimed {
    /// The key `key` (its Redis key) taken for a body with hash `hash`.
    pub fn new(key: String, hash: String) -> Self {
        Claimed { key, hash }
    }

    /// The command that stores the outcome for replay, or forgets the key when the failure
    /// was ours (5xx) or transient (409, 429), so a retry runs again.
    pub fn finish_command(self, outcome: &Result<Response, Error>, request_id: &str) -> Command {
        let stored = match outcome {
            Ok(response) if response.status < 500 => Some((
                response.status,
                serde_json::from_slice(&response.body).unwrap_or_default(),
                response.headers.get("location").map(str::to_owned),
            )),
            Err(e) if e.status() < 500 && !matches!(e.status(), 409 | 429) => Some((
                e.status(),
                serde_json::to_value(e.body(request_id)).unwrap_or_default(),
                None,
            )),
            _ => None,
        };
        match stored {
            Some((status, body, location)) => {
                let record = Stored {
                    state: "done".to_owned(),
                    hash: self.hash,
                    status,
                    body,
                    location,
                };
                Command::new("SET")
                    .arg(&self.key)
                    .arg(serde_json::to_string(&record).unwrap_or_default())
                    .arg("PX")
                    .arg(KEEP_MS.to_string())
            }
            None => Command::new("DEL").arg(&self.key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replayed_201_carries_its_location() {
        let stored = r#"{"state":"done","hash":"h","status":201,"body":{"orderId":"ord_1"},"location":"/v1/orders/ord_1"}"#;
        let response = replay(stored, "h").expect("replayed");
        assert_eq!(response.headers.get("location"), Some("/v1/orders/ord_1"));
        assert_eq!(response.headers.get("idempotent-replayed"), Some("true"));
        // A record from before locations were stored.
        let old = r#"{"state":"done","hash":"h","status":201,"body":{"orderId":"ord_2"}}"#;
        let response = replay(old, "h").expect("replayed");
        assert_eq!(response.headers.get("location"), Some("/v1/orders/ord_2"));
        // A replayed refusal has none.
        let refused = r#"{"state":"done","hash":"h","status":422,"body":{"error_code":"X"}}"#;
        let response = replay(refused, "h").expect("replayed");
        assert_eq!(response.headers.get("location"), None);
    }
}
