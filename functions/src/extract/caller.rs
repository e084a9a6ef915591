//! The authenticated caller: a valid, unrevoked HS256 access token in `Authorization: Bearer`.

use super::session;
use crate::http::Request;
use crate::keys;
use crate::services::Services;
use shared::auth::jwt::{JwtCodec, JwtError};
use shared::domain::{Role, WalletAddress};
use shared::error::Error;
use shared::ports::{Clock, Redis};
use shared::redis::{Command, Value};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub wallet: WalletAddress,
    pub role: Role,
    pub jti: String,
    /// Session (refresh family) id.
    pub sid: String,
    pub expires_at_ms: i64,
}

impl Caller {
    /// Fails with 403 unless the caller has at least `role`.
    ///
    /// # Errors
    /// 403 `FORBIDDEN_ROLE`.
    pub fn require(&self, role: Role) -> Result<(), Error> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Error::forbidden(
                "FORBIDDEN_ROLE",
                format!("this needs the {role} role"),
            ))
        }
    }
}

/// The deployment's access-token codec.
pub fn jwt_codec<S: Services>(services: &S) -> JwtCodec {
    let config = services.config();
    JwtCodec::new(
        config.jwt_secret.expose().as_bytes(),
        &config.public_url,
        &config.jwt_audience,
        config.access_token_ttl_secs,
    )
}

/// The bearer token of the request, if any.
pub fn bearer(request: &Request) -> Option<&str> {
    let value = request.headers.get("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks the access token without Redis: signature, expiry, audience. Hot routes check its
/// revocation inside their own script call ([`crate::gate::Gate`]).
///
/// # Errors
/// 401 `AUTH_TOKEN_MISSING` / `AUTH_TOKEN_INVALID` / `AUTH_TOKEN_EXPIRED` /
/// `AUTH_TOKEN_AUDIENCE`.
pub fn authenticate_token<S: Services>(services: &S, request: &Request) -> Result<Caller, Error> {
    let token = bearer(request).ok_or_else(|| {
        Error::unauthorized(
            "AUTH_TOKEN_MISSING",
            "send Authorization: Bearer <access token>",
        )
    })?;
    let now = services.clock().now_ms() as i64;
    let verified = jwt_codec(services)
        .verify(token, now)
        .map_err(|e| match e {
            JwtError::Invalid(_) => {
                Error::unauthorized("AUTH_TOKEN_INVALID", "the access token is not valid")
            }
            JwtError::Expired => Error::unauthorized(
                "AUTH_TOKEN_EXPIRED",
                "the access token has expired; refresh it",
            ),
            JwtError::WrongAudience => Error::unauthorized(
                "AUTH_TOKEN_AUDIENCE",
                "the access token is for another service",
            ),
        })?;
    Ok(Caller {
        wallet: verified.wallet,
        role: verified.role,
        jti: verified.jti,
        sid: verified.sid,
        expires_at_ms: verified.expires_at_ms,
    })
}

/// Authenticates the request: the token, its own revocation and its session's state (see
/// [`super::session`]) in one round trip; after a Redis loss, one statement and one more.
///
/// # Errors
/// 401 `AUTH_TOKEN_MISSING` / `AUTH_TOKEN_INVALID` / `AUTH_TOKEN_EXPIRED` /
/// `AUTH_TOKEN_AUDIENCE` / `AUTH_TOKEN_REVOKED` / `AUTH_ROLE_CHANGED`; 503 when Redis
/// (revocations) or, after a Redis loss, libSQL is down.
pub async fn authenticate<S: Services>(services: &S, request: &Request) -> Result<Caller, Error> {
    let caller = authenticate_token(services, request)?;
    let session_key = keys::refresh_family(services, &caller.sid);
    let state = services
        .redis()
        .exec(
            Command::new("MGET")
                .arg(keys::revoked_jti(services, &caller.jti))
                .arg(&session_key),
        )
        .await?;
    let Value::Array(state) = state else {
        return Err(Error::Internal("MGET answered a non-array".into()));
    };
    if state.first().is_some_and(|v| !v.is_nil()) {
        return Err(session::revoked());
    }
    let cached = match state.get(1).and_then(Value::as_str) {
        Some(cached) => cached.to_owned(),
        None => {
            // Redis lost the session: libSQL says what it is, and Redis learns it again
            // (NX: a logout or role change written meanwhile is newer than this read).
            let loaded = session::load(services, &caller.sid, &caller.wallet).await?;
            services
                .redis()
                .exec(
                    Command::new("SET")
                        .arg(&session_key)
                        .arg(&loaded.value)
                        .arg("PX")
                        .arg(loaded.ttl_ms.max(1))
                        .arg("NX"),
                )
                .await?;
            loaded.value
        }
    };
    match session::refusal(&cached, caller.role) {
        Some(refused) => Err(refused),
        None => Ok(caller),
    }
}
