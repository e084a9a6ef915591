//! `Idempotency-Key` for `POST /v1/orders`, with pretix's semantics: the same key from the
//! same caller returns the stored response for 24 h; a duplicate while the first is still
//! running gets 409 with `Retry-After`; the key reused with another body gets 422. A request
//! that failed on our side (5xx) forgets its key, so the client's retry runs again.

use crate::http::{Request, Response};
use crate::keys;
use crate::services::Services;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::error::Error;
use shared::ports::Redis;
use shared::redis::{Command, Script, Value};
use std::sync::LazyLock;

static BEGIN: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../../scripts/idempotency_begin.lua")));

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
}

/// A key taken by this request.
pub struct Claimed {
    key: String,
    hash: String,
}

/// What the key says.
pub enum Begin {
    /// Go ahead; finish with [`Claimed::finish`].
    Run(Claimed),
    /// The stored response of the earlier request.
    Replay(Response),
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

/// Takes the key for this request, or answers from what the earlier request left.
///
/// # Errors
/// 409 `IDEMPOTENCY_IN_FLIGHT` (with `Retry-After`); 422 `IDEMPOTENCY_KEY_REUSED`;
/// 503 `REDIS_UNAVAILABLE`.
pub async fn begin<S: Services>(
    services: &S,
    wallet: &str,
    idempotency_key: &str,
    body: &[u8],
) -> Result<Begin, Error> {
    let key = keys::idempotency(services, wallet, idempotency_key);
    let hash = hex::encode(Sha256::digest(body));
    let reply = services
        .redis()
        .eval(&BEGIN, &[&key], &[&hash, &LEASE_MS.to_string()])
        .await?;
    let parts = match &reply {
        Value::Array(parts) => parts.as_slice(),
        _ => &[],
    };
    match parts.first().and_then(Value::as_str) {
        Some("BEGIN") => Ok(Begin::Run(Claimed { key, hash })),
        Some("SEEN") => {
            let stored: Stored = parts
                .get(1)
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str(s).ok())
                .ok_or_else(|| Error::Internal("unreadable idempotency record".to_owned()))?;
            if stored.hash != hash {
                return Err(Error::unprocessable(
                    "IDEMPOTENCY_KEY_REUSED",
                    "this Idempotency-Key was used with a different body; use a new key",
                ));
            }
            if stored.state != "done" {
                return Err(Error::Client {
                    status: 409,
                    code: "IDEMPOTENCY_IN_FLIGHT",
                    message: "a request with this Idempotency-Key is still running; retry shortly"
                        .to_owned(),
                });
            }
            let mut response = Response::json(stored.status, &stored.body);
            response.headers.set("idempotent-replayed", "true");
            Ok(Begin::Replay(response))
        }
        _ => Err(Error::Internal(format!(
            "idempotency_begin.lua answered {reply:?}"
        ))),
    }
}

impl Claimed {
    /// Stores the outcome for replay, or forgets the key when the failure was ours (5xx) or
    /// transient (409, 429), so a retry runs again.
    pub async fn finish<S: Services>(
        self,
        services: &S,
        outcome: &Result<Response, Error>,
        request_id: &str,
    ) {
        let stored = match outcome {
            Ok(response) if response.status < 500 => Some((
                response.status,
                serde_json::from_slice(&response.body).unwrap_or_default(),
            )),
            Err(e) if e.status() < 500 && !matches!(e.status(), 409 | 429) => Some((
                e.status(),
                serde_json::to_value(e.body(request_id)).unwrap_or_default(),
            )),
            _ => None,
        };
        let command = match stored {
            Some((status, body)) => {
                let record = Stored {
                    state: "done".to_owned(),
                    hash: self.hash,
                    status,
                    body,
                };
                Command::new("SET")
                    .arg(&self.key)
                    .arg(serde_json::to_string(&record).unwrap_or_default())
                    .arg("PX")
                    .arg(KEEP_MS.to_string())
            }
            None => Command::new("DEL").arg(&self.key),
        };
        if let Err(e) = services.redis().exec(command).await {
            // The lease lapses on its own; until then a retry is told to wait.
            services.log_error(&format!("idempotency record not stored: {e}"));
        }
    }
}
