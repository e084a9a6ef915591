//! A session's state as the gate and [`super::authenticate`] read it from Redis, and where it
//! comes from when Redis has lost it.
//!
//! libSQL's `sessions` table (migration 0010) is the truth: logout and refresh-token reuse
//! write it first, then Redis. Redis caches one key per session (`auth:rtf:<family>`):
//! - `active`: live; the role its tokens carry is not checked (written at login, before the
//!   role is read: the login's own token carries the role read just after);
//! - `active|<role>`: live, and only tokens carrying `<role>` pass (written when the wallet's
//!   role changed, or when the state was reloaded from libSQL);
//! - `revoked`: logged out or reused.
//!
//! A missing key means Redis lost it (a flush, an eviction, a failover): never "live". The
//! gate then answers `NOSESSION`, the app reads the session here (one statement) and runs the
//! gate again with the state to cache, so a Redis loss costs one statement and one more round
//! trip per session, once. A role change (`PUT /v1/admin/users/{address}/role`, or
//! `ADMIN_ADDRESSES` at login/refresh) rewrites the wallet's live sessions as `active|<role>`,
//! so a token minted with the old role is refused at once, promotion or demotion alike.

use crate::keys;
use crate::services::Services;
use shared::domain::{Role, WalletAddress};
use shared::error::Error;
use shared::ports::{Clock, Redis, Sql};
use shared::redis::Script;
use shared::sql::Statement;
use std::sync::LazyLock;

/// A live session whose tokens' role is not checked.
pub const ACTIVE: &str = "active";
/// A session ended by logout or by refresh-token reuse.
pub const REVOKED: &str = "revoked";

static SET_ROLE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/session_role.lua")));

/// The cached state of a live session whose tokens must carry `role`.
pub fn active_as(role: Role) -> String {
    format!("{ACTIVE}|{role}")
}

/// Why a token's session refuses it, if it does: `state` is the cached value (present).
pub fn refusal(state: &str, token_role: Role) -> Option<Error> {
    if state == REVOKED {
        return Some(revoked());
    }
    match state.strip_prefix("active|").map(Role::parse) {
        Some(Some(role)) if role != token_role => Some(role_changed()),
        // Unknown values are not ours to trust: reading libSQL again settles them.
        Some(None) => Some(revoked()),
        _ => None,
    }
}

/// 401 `AUTH_TOKEN_REVOKED`.
pub fn revoked() -> Error {
    Error::unauthorized(
        "AUTH_TOKEN_REVOKED",
        "the access token was revoked (logged out)",
    )
}

/// 401 `AUTH_ROLE_CHANGED`: the token's role is no longer the wallet's.
pub fn role_changed() -> Error {
    Error::unauthorized(
        "AUTH_ROLE_CHANGED",
        "the account's role changed; refresh the access token",
    )
}

/// A session's state read from libSQL: the value to cache and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub value: String,
    pub ttl_ms: u64,
}

/// Reads session `family` of `wallet`'s token from libSQL (one statement).
///
/// A session libSQL does not know was opened before migration 0010 (or minted outside a login,
/// as test harnesses do): it is live, as it was before, but only with the wallet's current
/// role, and only as long as its access tokens can live. Every session ended since 0010 has a
/// row (logout writes one if it has to), so no revoked session is unknown.
///
/// # Errors
/// 503 when libSQL is down.
pub async fn load<S: Services>(
    services: &S,
    family: &str,
    wallet: &WalletAddress,
) -> Result<Loaded, Error> {
    let config = services.config();
    let now = services.clock().now_ms() as i64;
    let rows = services
        .sql()
        .execute(
            Statement::new(
                "SELECT (SELECT role FROM users WHERE wallet = ?2) AS role,
                        s.wallet, s.revoked_at, s.expires_at
                   FROM (SELECT 1) AS one LEFT JOIN sessions s ON s.family = ?1",
            )
            .bind(family)
            .bind(wallet.checksummed()),
        )
        .await?;
    let row = rows
        .row(0)
        .ok_or_else(|| Error::Internal("the session read answered no row".into()))?;
    let role = row
        .get::<Option<String>>("role")?
        .and_then(|r| Role::parse(&r));
    let owner: Option<String> = row.get("wallet")?;
    let Some(owner) = owner else {
        let ttl_ms = config.access_token_ttl_secs.max(1) as u64 * 1000;
        let value = role.map_or_else(|| ACTIVE.to_owned(), active_as);
        return Ok(Loaded { value, ttl_ms });
    };
    let revoked_at: Option<i64> = row.get("revoked_at")?;
    let expires_at: i64 = row.get::<Option<i64>>("expires_at")?.unwrap_or(0);
    match (revoked_at, role) {
        (None, Some(role)) if expires_at > now && owner == wallet.checksummed() => Ok(Loaded {
            value: active_as(role),
            ttl_ms: (expires_at - now) as u64,
        }),
        // Revoked states outlive every access token of the session.
        _ => Ok(Loaded {
            value: REVOKED.to_owned(),
            ttl_ms: config.refresh_token_ttl_secs.max(1) as u64 * 1000,
        }),
    }
}

/// After `wallet`'s role became `role` in libSQL: its live sessions accept only tokens that
/// carry `role` from now on (one statement; one Redis call when it has sessions).
///
/// # Errors
/// 503 when libSQL or Redis is down (the role is changed already; a retry finishes this).
pub async fn role_changed_to<S: Services>(
    services: &S,
    wallet: &WalletAddress,
    role: Role,
) -> Result<(), Error> {
    let now = services.clock().now_ms() as i64;
    let rows = services
        .sql()
        .execute(
            Statement::new(
                "SELECT family, expires_at FROM sessions
                  WHERE wallet = ? AND revoked_at IS NULL AND expires_at > ?",
            )
            .bind(wallet.checksummed())
            .bind(now),
        )
        .await?;
    let mut session_keys = Vec::new();
    let mut args = vec![active_as(role)];
    for row in rows.iter() {
        let family: String = row.get("family")?;
        let expires_at: i64 = row.get("expires_at")?;
        session_keys.push(keys::refresh_family(services, &family));
        args.push((expires_at - now).max(1).to_string());
    }
    if session_keys.is_empty() {
        return Ok(());
    }
    let key_refs: Vec<&str> = session_keys.iter().map(String::as_str).collect();
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    services
        .redis()
        .eval(&SET_ROLE, &key_refs, &arg_refs)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(state: &str, role: Role) -> Option<&'static str> {
        refusal(state, role).map(|e| e.code())
    }

    #[test]
    fn a_session_refuses_revoked_and_other_roles_only() {
        assert_eq!(code(ACTIVE, Role::User), None);
        assert_eq!(code("active|user", Role::User), None);
        assert_eq!(
            code("active|user", Role::Organizer),
            Some("AUTH_ROLE_CHANGED")
        );
        assert_eq!(
            code("active|organizer", Role::User),
            Some("AUTH_ROLE_CHANGED")
        );
        assert_eq!(code(REVOKED, Role::Admin), Some("AUTH_TOKEN_REVOKED"));
        assert_eq!(code("active|king", Role::User), Some("AUTH_TOKEN_REVOKED"));
    }
}
