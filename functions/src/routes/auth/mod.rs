//! Wallet login and sessions: SIWE (EIP-4361) and the simple `personal_sign` login, access
//! tokens (HS256, 15 min) and rotating refresh tokens (families revoked on reuse or logout).
//!
//! Sessions are durable: libSQL's `sessions` table records every session, its live refresh
//! token (by hash) and its revocation; Redis caches each session's state for the gate (see
//! [`crate::extract::session`]). A Redis loss neither logs anyone out nor makes a revoked
//! token valid again.
//!
//! - [`login`]: challenges, nonces and the login itself;
//! - [`refresh`]: refresh-token rotation and reuse;
//! - [`logout`]: ending a session.

mod login;
mod logout;
mod refresh;

use crate::call::Call;
use crate::extract::authenticate;
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use serde_json::json;
use shared::error::Error;
use shared::http::Method;
use shared::ports::Sql;
use shared::sql::Statement;

/// Dispatches the auth routes.
///
/// # Errors
/// See each handler.
pub async fn dispatch<S: Services>(
    services: &S,
    route: Route,
    call: &Call<'_>,
) -> Result<Response, Error> {
    match (route, call.method) {
        (Route::SiweChallenge, Method::Post) => login::siwe_challenge(services, call).await,
        (Route::SiweVerify, Method::Post) => login::siwe_verify(services, call).await,
        (Route::Nonce, Method::Get) => login::nonce(services, call).await,
        (Route::VerifySig, Method::Post) => login::verify_sig(services, call).await,
        (Route::Refresh, Method::Post) => refresh::refresh(services, call).await,
        (Route::Logout, Method::Post) => logout::logout(services, call).await,
        (Route::Me, Method::Get) => me(services, call).await,
        _ => Err(Error::MethodNotAllowed {
            allowed: route.methods().to_vec(),
        }),
    }
}

fn unauthorized(code: &'static str, message: &str) -> Error {
    Error::unauthorized(code, message)
}

async fn me<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let rows = services
        .sql()
        .execute(
            Statement::new("SELECT role, created_at, last_login FROM users WHERE wallet = ?")
                .bind(caller.wallet.checksummed()),
        )
        .await?;
    let row = rows
        .row(0)
        .ok_or_else(|| Error::not_found("USER_NOT_FOUND", "no account for this wallet"))?;
    Ok(Response::json(
        200,
        &json!({
            "address": caller.wallet,
            "role": row.get::<String>("role")?,
            "createdAt": row.get::<i64>("created_at")?,
            "lastLogin": row.get::<Option<i64>>("last_login")?,
            "session": {"expiresAt": caller.expires_at_ms},
        }),
    ))
}
