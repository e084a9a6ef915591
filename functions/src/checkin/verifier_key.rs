//! A verifier key as the door knows it: the key a scanner presents, the record libSQL keeps
//! (only a SHA-256 of the secret), and that record's Redis cache.
//!
//! The record (`{event, name, secretHash, revoked}`) is cached in Redis (`verifier:{keyId}`,
//! [`CACHE_SECS`]) so the live scan checks its key inside the one script call it makes
//! (`scan_begin.lua`); a miss there costs one libSQL read that fills the cache ([`fill_cache`]).
//! A revocation overwrites the cached record with the revoked one after libSQL committed
//! (`routes::verifier`) rather than deleting it: after a delete, a scan that read libSQL just
//! before the revocation could put the stale record back for an hour, while fills only write
//! an empty slot (`SET NX`). Creating a key warms its cache after the response. The other
//! scanner routes (`extract::authenticate_verifier`) read libSQL, which they query anyway.

use crate::extract::Verifier;
use crate::http::Request;
use crate::keys;
use crate::services::Services;
use serde::{Deserialize, Serialize};
use shared::auth::secret::{constant_time_eq, sha256_hex};
use shared::error::Error;
use shared::ports::{Redis, Sql};
use shared::redis::Command;
use shared::sql::{Row, Statement};

/// How long a key's record stays cached.
pub const CACHE_SECS: u64 = 3600;
/// How long "no such key" stays cached (a flood of made-up key ids reads libSQL once a minute).
pub const MISSING_CACHE_SECS: u64 = 60;

/// Splits `otvk_<keyId>_<secret>`.
pub fn parse_key(key: &str) -> Option<(&str, &str)> {
    let (id, secret) = key.strip_prefix("otvk_")?.split_once('_')?;
    let valid = id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() >= 32;
    valid.then_some((id, secret))
}

/// The key a request presents, parsed (not yet checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedKey {
    /// `vk_<keyId>`, as libSQL names it.
    pub key_id: String,
    /// SHA-256 (hex) of the presented secret: what the stored hash must equal.
    pub secret_hash: String,
}

/// Reads `X-Verifier-Key`.
///
/// # Errors
/// 401 `VERIFIER_KEY_MISSING` / `VERIFIER_KEY_INVALID` (not a key's shape).
pub fn presented_key(request: &Request) -> Result<PresentedKey, Error> {
    let presented = request.headers.get("x-verifier-key").ok_or_else(|| {
        Error::unauthorized("VERIFIER_KEY_MISSING", "send X-Verifier-Key: otvk_…")
    })?;
    let (key_id, secret) = parse_key(presented.trim()).ok_or_else(invalid_key)?;
    Ok(PresentedKey {
        key_id: format!("vk_{key_id}"),
        secret_hash: sha256_hex(secret),
    })
}

/// 401 `VERIFIER_KEY_INVALID`.
pub fn invalid_key() -> Error {
    Error::unauthorized("VERIFIER_KEY_INVALID", "unknown verifier key")
}

/// 401 `VERIFIER_KEY_REVOKED`.
pub fn revoked_key() -> Error {
    Error::unauthorized("VERIFIER_KEY_REVOKED", "this verifier key was revoked")
}

/// What libSQL knows of a verifier key, as it is cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifierRecord {
    pub event: String,
    pub name: String,
    pub secret_hash: String,
    pub revoked: bool,
}

impl VerifierRecord {
    /// The columns [`VerifierRecord::from_row`] reads.
    pub const COLUMNS: &'static str = "event_id, name, secret_hash, revoked_at";

    /// Reads a row holding [`VerifierRecord::COLUMNS`].
    ///
    /// # Errors
    /// Internal when a column is missing or of another type.
    pub fn from_row(row: &Row<'_>) -> Result<VerifierRecord, Error> {
        Ok(VerifierRecord {
            event: row.get("event_id")?,
            name: row.get("name")?,
            secret_hash: row.get("secret_hash")?,
            revoked: row.get::<Option<i64>>("revoked_at")?.is_some(),
        })
    }

    /// The scanner `key` is, if its secret matches.
    ///
    /// # Errors
    /// 401 `VERIFIER_KEY_INVALID` / `VERIFIER_KEY_REVOKED`.
    pub fn check(&self, key: &PresentedKey) -> Result<Verifier, Error> {
        if !constant_time_eq(self.secret_hash.as_bytes(), key.secret_hash.as_bytes()) {
            return Err(invalid_key());
        }
        if self.revoked {
            return Err(revoked_key());
        }
        Ok(Verifier {
            key_id: key.key_id.clone(),
            event_id: self.event.clone(),
            name: self.name.clone(),
        })
    }
}

/// Reads key `key_id`'s record from libSQL (`None`: no such key).
///
/// # Errors
/// 503 when libSQL is down.
pub async fn load_record(sql: &impl Sql, key_id: &str) -> Result<Option<VerifierRecord>, Error> {
    let rows = sql
        .execute(
            Statement::new(format!(
                "SELECT {} FROM verifier_keys WHERE id = ?",
                VerifierRecord::COLUMNS
            ))
            .bind(key_id),
        )
        .await?;
    rows.row(0)
        .map(|row| VerifierRecord::from_row(&row))
        .transpose()
}

/// The command that caches key `key_id`'s record (`None`: no such key, for a minute); `fill`
/// only writes an empty slot, so a revocation written meanwhile wins.
pub fn cache_command<S: Services>(
    services: &S,
    key_id: &str,
    record: Option<&VerifierRecord>,
    fill: bool,
) -> Command {
    let (value, secs) = match record {
        Some(record) => (
            serde_json::to_string(record).unwrap_or_default(),
            CACHE_SECS,
        ),
        None => ("{\"missing\":true}".to_owned(), MISSING_CACHE_SECS),
    };
    let command = Command::new("SET")
        .arg(keys::verifier_cache(services, key_id))
        .arg(value)
        .arg("EX")
        .arg(secs);
    if fill { command.arg("NX") } else { command }
}

/// Fills the cache of key `key_id` from libSQL (after the scan script answered `NOKEY`).
///
/// # Errors
/// 503 when libSQL or Redis is down.
pub async fn fill_cache<S: Services>(services: &S, key_id: &str) -> Result<(), Error> {
    let record = load_record(services.sql(), key_id).await?;
    services
        .redis()
        .exec(cache_command(services, key_id, record.as_ref(), true))
        .await?;
    Ok(())
}

/// Checks a presented key against libSQL.
///
/// # Errors
/// 401 `VERIFIER_KEY_INVALID` / `VERIFIER_KEY_REVOKED`; 503 when libSQL is down.
pub async fn authenticate_key<S: Services>(
    services: &S,
    key: &PresentedKey,
) -> Result<Verifier, Error> {
    load_record(services.sql(), &key.key_id)
        .await?
        .ok_or_else(invalid_key)?
        .check(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> VerifierRecord {
        VerifierRecord {
            event: "evt_1".into(),
            name: "North".into(),
            secret_hash: sha256_hex("s".repeat(40).as_str()),
            revoked: false,
        }
    }

    #[test]
    fn checks_the_secret_then_the_revocation() {
        let mut request = Request::new("POST", "/v1/checkin/scan");
        request.headers.set(
            "x-verifier-key",
            format!("otvk_00112233aabbccdd_{}", "s".repeat(40)),
        );
        let key = presented_key(&request).expect("a key's shape");
        assert_eq!(key.key_id, "vk_00112233aabbccdd");
        let verifier = record().check(&key).expect("matches");
        assert_eq!(
            (verifier.event_id.as_str(), verifier.name.as_str()),
            ("evt_1", "North")
        );
        let wrong = PresentedKey {
            secret_hash: sha256_hex("t".repeat(40).as_str()),
            ..key.clone()
        };
        assert_eq!(
            record().check(&wrong).map_err(|e| e.code()),
            Err("VERIFIER_KEY_INVALID")
        );
        let revoked = VerifierRecord {
            revoked: true,
            ..record()
        };
        assert_eq!(
            revoked.check(&key).map_err(|e| e.code()),
            Err("VERIFIER_KEY_REVOKED")
        );
        assert_eq!(
            revoked.check(&wrong).map_err(|e| e.code()),
            Err("VERIFIER_KEY_INVALID")
        );
    }

    #[test]
    fn reads_only_keys_shape() {
        let code = |header: Option<&str>| {
            let mut request = Request::new("GET", "/v1/checkin/me");
            if let Some(h) = header {
                request.headers.set("x-verifier-key", h);
            }
            presented_key(&request).map(|_| ()).map_err(|e| e.code())
        };
        assert_eq!(code(None), Err("VERIFIER_KEY_MISSING"));
        assert_eq!(code(Some("otvk_nope")), Err("VERIFIER_KEY_INVALID"));
        assert_eq!(
            code(Some(
                "otvk_00112233aabbccdg_ssssssssssssssssssssssssssssssssssss"
            )),
            Err("VERIFIER_KEY_INVALID")
        );
    }

    #[test]
    fn the_cached_record_is_what_the_script_reads() {
        let text = serde_json::to_string(&record()).expect("json");
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["event"], "evt_1");
        assert_eq!(value["secretHash"], record().secret_hash);
        assert_eq!(value["revoked"], false);
    }
}
