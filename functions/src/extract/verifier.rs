//! Venue scanners authenticate with a verifier key: `X-Verifier-Key: otvk_<keyId>_<secret>`.
//! Only a SHA-256 of the secret is stored; a key acts for exactly one event. The key itself
//! (parsing, record, Redis cache) is `checkin::verifier_key`; the live scan checks it inside
//! its Redis script, these extractors against libSQL.

use crate::checkin::verifier_key::{authenticate_key, presented_key};
use crate::http::Request;
use crate::services::Services;
use shared::error::Error;

/// A scanner, authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub key_id: String,
    pub event_id: String,
    pub name: String,
}

impl Verifier {
    /// What `GET /v1/checkin/me` (and `…/verifier/me`) answer.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"keyId": self.key_id, "eventId": self.event_id, "name": self.name})
    }

    /// Fails unless the key belongs to `event_id`.
    ///
    /// # Errors
    /// 403 `VERIFIER_KEY_WRONG_EVENT`.
    pub fn require_event(&self, event_id: &str) -> Result<(), Error> {
        if self.event_id == event_id {
            Ok(())
        } else {
            Err(Error::forbidden(
                "VERIFIER_KEY_WRONG_EVENT",
                "this verifier key belongs to another event",
            ))
        }
    }
}

/// Authenticates a scanner of event `event_id`.
///
/// # Errors
/// As [`authenticate_verifier`]; 403 `VERIFIER_KEY_WRONG_EVENT`.
pub async fn authenticate_event_verifier<S: Services>(
    services: &S,
    request: &Request,
    event_id: &str,
) -> Result<Verifier, Error> {
    let verifier = authenticate_verifier(services, request).await?;
    verifier.require_event(event_id)?;
    Ok(verifier)
}

/// Authenticates a scanner against libSQL (the routes that read libSQL anyway).
///
/// # Errors
/// 401 `VERIFIER_KEY_MISSING` / `VERIFIER_KEY_INVALID` / `VERIFIER_KEY_REVOKED`; 503 when
/// libSQL is down.
pub async fn authenticate_verifier<S: Services>(
    services: &S,
    request: &Request,
) -> Result<Verifier, Error> {
    let key = presented_key(request)?;
    authenticate_key(services, &key).await
}
