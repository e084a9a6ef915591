//! Refresh-token rotation, verified in libSQL (`sessions`, migration 0010): a Redis loss
//! logs nobody out. Each refresh rotates the session's token in one conditional statement
//! (the presented token must be the live one), reads the wallet's role in the same round
//! trip, and extends the session's cached state in Redis (one command). Presenting the token
//! a rotation replaced means it leaked: the whole session is revoked, in libSQL first, then in
//! Redis. Reuse is recognised for the token the last rotation replaced; an older one is only
//! unknown.

use super::unauthorized;
use crate::call::Call;
use crate::extract::{json_body, jwt_codec, session};
use crate::http::Response;
use crate::keys;
use crate::services::Services;
use serde::Deserialize;
use serde_json::json;
use shared::auth::secret::{alphanumeric, sha256_hex};
use shared::domain::{Role, WalletAddress};
use shared::error::Error;
use shared::ports::{Clock, Redis, Rng, Sql};
use shared::redis::Command;
use shared::sql::Statement;

/// A new refresh token of `family`: `rt_<family>_<secret>`. The family travels in the token so
/// a refresh finds its session without another index.
pub(super) fn new_refresh_token<S: Services>(services: &S, family: &str) -> Result<String, Error> {
    Ok(format!("rt_{family}_{}", alphanumeric(services.rng(), 43)?))
}

fn refresh_family_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("rt_")?;
    let (family, secret) = rest.split_once('_')?;
    let valid =
        family.len() == 32 && family.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() == 43;
    valid.then_some(family)
}

/// How long a session and its cached state live (`REFRESH_TOKEN_TTL_SECS`), in ms.
pub(super) fn refresh_ttl_ms<S: Services>(services: &S) -> i64 {
    services.config().refresh_token_ttl_secs * 1000
}

/// The `sessions` row of a session opened at `now` with `refresh_token`; it returns the
/// wallet's role as it is before the login's upsert runs (`previous_role`, null for a new
/// wallet), so the login sees a role change without another statement.
pub(super) fn record_session<S: Services>(
    services: &S,
    wallet: &WalletAddress,
    family: &str,
    refresh_token: &str,
    now: i64,
) -> Statement {
    Statement::new(
        "INSERT INTO sessions (family, wallet, token_hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         RETURNING (SELECT role FROM users WHERE wallet = ?2) AS previous_role",
    )
    .bind(family)
    .bind(wallet.checksummed())
    .bind(sha256_hex(refresh_token))
    .bind(now)
    .bind(now + refresh_ttl_ms(services))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RefreshBody {
    refresh_token: String,
}

fn invalid() -> Error {
    unauthorized("REFRESH_TOKEN_INVALID", "unknown or expired refresh token")
}

pub(super) async fn refresh<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let body: RefreshBody = json_body(call.request)?;
    let family = refresh_family_of(&body.refresh_token)
        .ok_or_else(invalid)?
        .to_owned();
    let next = new_refresh_token(services, &family)?;
    let now = services.clock().now_ms() as i64;
    let old_hash = sha256_hex(&body.refresh_token);
    let results = services
        .sql()
        .execute_many(vec![
            // The rotation: only the live token of a live session turns.
            Statement::new(
                "UPDATE sessions SET token_hash = ?1, previous_hash = ?2, expires_at = ?3
                  WHERE family = ?4 AND token_hash = ?2 AND revoked_at IS NULL AND expires_at > ?5
                 RETURNING wallet",
            )
            .bind(sha256_hex(&next))
            .bind(old_hash.as_str())
            .bind(now + refresh_ttl_ms(services))
            .bind(family.as_str())
            .bind(now),
            // Read only when the rotation did not happen: why not.
            Statement::new(
                "SELECT revoked_at, previous_hash = ?2 AS reused FROM sessions WHERE family = ?1",
            )
            .bind(family.as_str())
            .bind(old_hash.as_str()),
            Statement::new(
                "SELECT u.wallet, u.role, u.admin_from_list FROM users u
                   JOIN sessions s ON s.wallet = u.wallet WHERE s.family = ?",
            )
            .bind(family.as_str()),
        ])
        .await?;
    let [rotated, state, user]: [_; 3] = results
        .try_into()
        .map_err(|_| Error::Internal("the refresh's statements answered a wrong count".into()))?;
    let (rotated, state, user) = (rotated?, state?, user?);
    if rotated.row(0).is_none() {
        let Some(state) = state.row(0) else {
            return Err(invalid());
        };
        if state.get::<Option<i64>>("revoked_at")?.is_some() {
            return Err(unauthorized(
                "REFRESH_TOKEN_REVOKED",
                "this session was ended",
            ));
        }
        if state.get::<Option<i64>>("reused")? == Some(1) {
            revoke_reused(services, &family, now).await?;
            return Err(unauthorized(
                "REFRESH_TOKEN_REUSED",
                "this refresh token was already used; the session has been revoked",
            ));
        }
        return Err(invalid());
    }
    let user = user
        .row(0)
        .ok_or_else(|| Error::Internal("a session without its user".into()))?;
    let wallet = WalletAddress::parse(&user.get::<String>("wallet")?)
        .map_err(|e| Error::Internal(format!("stored wallet {e}")))?;
    let role = Role::parse(&user.get::<String>("role")?).unwrap_or(Role::User);
    let role = current_role(services, &wallet, role, user.get("admin_from_list")?).await?;
    // The cached state lives as long as the session (a lost one is read again by the gate).
    services
        .redis()
        .exec(
            Command::new("PEXPIRE")
                .arg(keys::refresh_family(services, &family))
                .arg(refresh_ttl_ms(services)),
        )
        .await?;
    let tokens = issue_tokens(services, &wallet, role, &family, &next, now)?;
    Ok(Response::json(200, &tokens))
}

/// The body a login or a refresh answers with: a new access token of `wallet` in session
/// `family`, and the session's (new) `refresh_token`.
pub(super) fn issue_tokens<S: Services>(
    services: &S,
    wallet: &WalletAddress,
    role: Role,
    family: &str,
    refresh_token: &str,
    now: i64,
) -> Result<serde_json::Value, Error> {
    let codec = jwt_codec(services);
    let access_token = codec
        .issue(wallet, role, &services.rng().hex(16)?, family, now)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(json!({
        "accessToken": access_token,
        "refreshToken": refresh_token,
        "tokenType": "Bearer",
        "expiresIn": codec.ttl_secs(),
    }))
}

/// Ends a session whose replaced token came back: libSQL first, so a Redis loss cannot
/// revive it, then the cached state the gate reads.
async fn revoke_reused<S: Services>(services: &S, family: &str, now: i64) -> Result<(), Error> {
    services
        .sql()
        .execute(
            Statement::new(
                "UPDATE sessions SET revoked_at = ?, revoked_reason = 'reused'
                  WHERE family = ? AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(family),
        )
        .await?;
    services
        .redis()
        .exec(
            Command::new("SET")
                .arg(keys::refresh_family(services, family))
                .arg(session::REVOKED)
                .arg("PX")
                .arg(refresh_ttl_ms(services)),
        )
        .await?;
    Ok(())
}

/// The role a refreshed session carries (read in the rotation's round trip), so a grant or
/// revocation takes effect at the next refresh at the latest; an admin that held the role only
/// through `ADMIN_ADDRESSES` and is no longer listed is demoted to `user` here (and the
/// wallet's sessions refuse admin tokens at once), as at login. A wallet newly added to the
/// list becomes admin at its next login, not here: refresh reads.
async fn current_role<S: Services>(
    services: &S,
    wallet: &WalletAddress,
    role: Role,
    admin_from_list: i64,
) -> Result<Role, Error> {
    if role != Role::Admin
        || admin_from_list != 1
        || services.config().admin_addresses.contains(wallet)
    {
        return Ok(role);
    }
    // Conditioned on the flag, so a grant by an operator in between is not undone.
    services
        .sql()
        .execute(
            Statement::new(
                "UPDATE users SET role = 'user', admin_from_list = 0
                  WHERE wallet = ? AND role = 'admin' AND admin_from_list = 1",
            )
            .bind(wallet.checksummed()),
        )
        .await?;
    session::role_changed_to(services, wallet, Role::User).await?;
    Ok(Role::User)
}

#[cfg(test)]
mod tests {
    use super::refresh_family_of;

    #[test]
    fn refresh_tokens_carry_their_family() {
        let family = "0123456789abcdef0123456789abcdef";
        let token = format!("rt_{family}_{}", "a".repeat(43));
        assert_eq!(refresh_family_of(&token), Some(family));
        assert_eq!(refresh_family_of("rt_x_y"), None);
        assert_eq!(refresh_family_of(&format!("rt_{family}_short")), None);
        assert_eq!(refresh_family_of("garbage"), None);
    }
}
