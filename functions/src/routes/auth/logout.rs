//! Logout: ends the caller's session in libSQL first (so no Redis loss revives it), then in
//! Redis, where the gate reads it: the access token and the session's refresh token stop
//! working at once.

use super::refresh::refresh_ttl_ms;
use crate::call::Call;
use crate::extract::{authenticate, session};
use crate::http::Response;
use crate::keys;
use crate::services::Services;
use serde_json::json;
use shared::error::Error;
use shared::ports::{Clock, Redis, Sql};
use shared::redis::Command;
use shared::sql::Statement;

pub(super) async fn logout<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let now = services.clock().now_ms() as i64;
    let refresh_ttl_ms = refresh_ttl_ms(services);
    services
        .sql()
        .execute(
            // A session libSQL never recorded (opened before migration 0010) gets its row
            // here, revoked, so that no Redis loss can bring it back.
            Statement::new(
                "INSERT INTO sessions (family, wallet, token_hash, created_at, expires_at,
                                       revoked_at, revoked_reason)
                 VALUES (?1, ?2, '', ?3, ?4, ?3, 'logout')
                 ON CONFLICT (family) DO UPDATE SET revoked_at = excluded.revoked_at,
                     revoked_reason = 'logout' WHERE sessions.revoked_at IS NULL",
            )
            .bind(caller.sid.as_str())
            .bind(caller.wallet.checksummed())
            .bind(now)
            .bind(now + refresh_ttl_ms),
        )
        .await?;
    let remaining_ms = (caller.expires_at_ms - now).max(1);
    services
        .redis()
        .multi_exec(vec![
            Command::new("SET")
                .arg(keys::revoked_jti(services, &caller.jti))
                .arg("1")
                .arg("PX")
                .arg(remaining_ms),
            Command::new("SET")
                .arg(keys::refresh_family(services, &caller.sid))
                .arg(session::REVOKED)
                .arg("PX")
                .arg(refresh_ttl_ms),
        ])
        .await?;
    Ok(Response::json(200, &json!({"loggedOut": true})))
}
