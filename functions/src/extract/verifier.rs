//! Venue scanners authenticate with a verifier key: `X-Verifier-Key: otvk_<keyId>_<secret>`.
//! Only a SHA-256 of the secret is stored; a key acts for exactly one event.

use crate::http::Request;
use crate::services::Services;
use shared::auth::secret::{constant_time_eq, sha256_hex};
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::Statement;

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

/// Splits `otvk_<keyId>_<secret>`.
pub fn parse_key(key: &str) -> Option<(&str, &str)> {
    let (id, secret) = key.strip_prefix("otvk_")?.split_once('_')?;
    let valid = id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() >= 32;
    valid.then_some((id, secret))
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

/// Authenticates a scanner.
///
/// # Errors
/// 401 `VERIFIER_KEY_MISSING` / `VERIFIER_KEY_INVALID` / `VERIFIER_KEY_REVOKED`.
pub async fn authenticate_verifier<S: Services>(
    services: &S,
    request: &Request,
) -> Result<Verifier, Error> {
    let presented = request.headers.get("x-verifier-key").ok_or_else(|| {
        Error::unauthorized("VERIFIER_KEY_MISSING", "send X-Verifier-Key: otvk_…")
    })?;
    let invalid = || Error::unauthorized("VERIFIER_KEY_INVALID", "unknown verifier key");
    let (key_id, secret) = parse_key(presented.trim()).ok_or_else(invalid)?;
    let rows = services
        .sql()
        .execute(
            Statement::new(
                "SELECT event_id, name, secret_hash, revoked_at FROM verifier_keys WHERE id = ?",
            )
            .bind(format!("vk_{key_id}")),
        )
        .await?;
    let row = rows.row(0).ok_or_else(invalid)?;
    let stored: String = row.get("secret_hash")?;
    if !constant_time_eq(stored.as_bytes(), sha256_hex(secret).as_bytes()) {
        return Err(invalid());
    }
    if row.get::<Option<i64>>("revoked_at")?.is_some() {
        return Err(Error::unauthorized(
            "VERIFIER_KEY_REVOKED",
            "this verifier key was revoked",
        ));
    }
    Ok(Verifier {
        key_id: format!("vk_{key_id}"),
        event_id: row.get("event_id")?,
        name: row.get("name")?,
    })
}
