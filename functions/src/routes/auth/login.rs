//! Login: SIWE (EIP-4361) and the simple `personal_sign` login, each opening a session.
//!
//! Nonces live in Redis for 5 minutes and are consumed with `GETDEL`, so of any number of
//! concurrent verifications of one signed message exactly one succeeds. Every check that needs
//! no state (format, domain, URI, chain, time, signature) runs before the nonce is consumed, so
//! a forged request cannot burn a user's nonce.

use super::refresh::{self, new_refresh_token};
use super::unauthorized;
use crate::call::Call;
use crate::extract::json_body;
use crate::extract::session;
use crate::gate::Gate;
use crate::gated_script;
use crate::http::Response;
use crate::keys;
use crate::services::Services;
use chrono::{TimeZone, Utc};
use serde::Deserialize;
use serde_json::json;
use shared::auth::secret::alphanumeric;
use shared::auth::signature::recover_personal_sign;
use shared::auth::siwe::SiweMessage;
use shared::domain::{Role, WalletAddress};
use shared::error::Error;
use shared::ports::{Clock, Redis, Rng, Sql};
use shared::redis::{Command, Script};
use shared::sql::Statement;
use std::sync::LazyLock;

/// How long a login nonce is valid.
pub const NONCE_TTL_MS: u64 = 5 * 60 * 1000;
/// Statement of our SIWE messages.
pub const SIWE_STATEMENT: &str = "Sign in to OnlineTicket.";
/// Start of the simple login message: `Login to OnlineTicket at <domain>: nonce=<nonce>`. The
/// domain (the SIWE domain, from `PUBLIC_URL`) binds a signature to this deployment, so a
/// message signed for another site cannot log in here.
pub const LOGIN_MESSAGE_PREFIX: &str = "Login to OnlineTicket at ";
/// Between the domain and the nonce in the simple login message.
const LOGIN_MESSAGE_NONCE: &str = ": nonce=";
/// Future `Issued At` tolerated for clock skew between wallet and edge.
const CLOCK_SKEW_MS: i64 = 60_000;

/// Stores a SIWE nonce behind the gate (`siwe_nonce.lua`).
static STORE_NONCE: LazyLock<Script> = gated_script!("siwe_nonce.lua");
/// Consumes a login nonce and opens the session behind the gate (`consume_nonce.lua`).
static CONSUME_NONCE: LazyLock<Script> = gated_script!("consume_nonce.lua");

fn parse_address(field: &str, value: &str) -> Result<WalletAddress, Error> {
    WalletAddress::parse(value).map_err(|e| Error::invalid(field, format!("address {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ChallengeBody {
    address: String,
    chain_id: u64,
}

pub(super) async fn siwe_challenge<S: Services>(
    services: &S,
    call: &Call<'_>,
) -> Result<Response, Error> {
    let body: ChallengeBody = json_body(call.request)?;
    let address = parse_address("address", &body.address)?;
    let config = services.config();
    if body.chain_id != config.chain_id.get() {
        return Err(Error::Client {
            status: 400,
            code: "SIWE_CHAIN_MISMATCH",
            message: format!("this deployment signs in on chain {}", config.chain_id),
        });
    }
    let now = services.clock().now_ms() as i64;
    let nonce = alphanumeric(services.rng(), 24)?;
    let message = SiweMessage {
        scheme: None,
        domain: config.siwe_domain().to_owned(),
        address,
        statement: Some(SIWE_STATEMENT.to_owned()),
        uri: config.public_url.clone(),
        version: "1".to_owned(),
        chain_id: body.chain_id,
        nonce: nonce.clone(),
        issued_at: Utc.timestamp_millis_opt(now).single().unwrap_or_default(),
        expiration_time: Utc.timestamp_millis_opt(now + NONCE_TTL_MS as i64).single(),
        not_before: None,
        request_id: None,
        resources: Vec::new(),
    };
    // The rate limit and the nonce in one round trip.
    Gate::new(services, call, None)
        .eval(
            services,
            call,
            &STORE_NONCE,
            &[&keys::siwe_nonce(services, &nonce)],
            &[
                &format!("{}|{}", address.checksummed(), body.chain_id),
                &NONCE_TTL_MS.to_string(),
            ],
        )
        .await?;
    Ok(Response::json(
        200,
        &json!({"nonce": nonce, "message": message.render(), "issuedAt": now, "expiresAt": now + NONCE_TTL_MS as i64}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SiweVerifyBody {
    message: String,
    signature: String,
}

/// A session about to be opened: its refresh family and first refresh token.
struct Session {
    family: String,
    refresh_token: String,
}

/// Consumes a nonce exactly once (`expected` is what the challenge stored with it) and opens
/// the session's state in Redis (`active`), in one round trip with the rate limit. libSQL
/// records the session in the login's own statement batch, after: a nonce is spent before
/// anything is written there.
async fn consume_nonce<S: Services>(
    services: &S,
    call: &Call<'_>,
    key: String,
    expected: &str,
) -> Result<Session, Error> {
    let family = services.rng().hex(16)?;
    let refresh_token = new_refresh_token(services, &family)?;
    let ttl_ms = refresh::refresh_ttl_ms(services).to_string();
    let reply = Gate::new(services, call, None)
        .eval(
            services,
            call,
            &CONSUME_NONCE,
            &[&key, &keys::refresh_family(services, &family)],
            &[expected, &ttl_ms, session::ACTIVE],
        )
        .await?;
    match reply.as_i64() {
        Some(1) => Ok(Session {
            family,
            refresh_token,
        }),
        Some(-1) => Err(unauthorized(
            "SIWE_NONCE_INVALID",
            "the nonce was issued for another address or chain",
        )),
        _ => Err(unauthorized(
            "SIWE_NONCE_INVALID",
            "unknown, expired or already used nonce",
        )),
    }
}

fn check_signer(message: &str, signature: &str, address: &WalletAddress) -> Result<(), Error> {
    let signer = recover_personal_sign(message, signature)
        .map_err(|e| unauthorized("SIWE_SIGNATURE_INVALID", &e.to_string()))?;
    if signer != *address {
        return Err(unauthorized(
            "SIWE_SIGNATURE_INVALID",
            "the signature is not from the message's address",
        ));
    }
    Ok(())
}

pub(super) async fn siwe_verify<S: Services>(
    services: &S,
    call: &Call<'_>,
) -> Result<Response, Error> {
    let body: SiweVerifyBody = json_body(call.request)?;
    let message = SiweMessage::parse(&body.message).map_err(|e| Error::Client {
        status: 400,
        code: "SIWE_MESSAGE_INVALID",
        message: e.to_string(),
    })?;
    let config = services.config();
    if message.domain != config.siwe_domain() {
        return Err(unauthorized(
            "SIWE_DOMAIN_MISMATCH",
            "the message was made for another site",
        ));
    }
    if message.uri != config.public_url {
        return Err(unauthorized(
            "SIWE_URI_MISMATCH",
            "the message names another URI",
        ));
    }
    if message.chain_id != config.chain_id.get() {
        return Err(unauthorized(
            "SIWE_CHAIN_MISMATCH",
            "the message is for another chain",
        ));
    }
    let now = services.clock().now_ms() as i64;
    if message
        .expiration_time
        .is_some_and(|t| t.timestamp_millis() <= now)
    {
        return Err(unauthorized(
            "SIWE_EXPIRED",
            "the sign-in message has expired",
        ));
    }
    if message
        .not_before
        .is_some_and(|t| t.timestamp_millis() > now)
        || message.issued_at.timestamp_millis() > now + CLOCK_SKEW_MS
    {
        return Err(unauthorized(
            "SIWE_NOT_YET_VALID",
            "the sign-in message is not valid yet",
        ));
    }
    check_signer(&body.message, &body.signature, &message.address)?;
    let expected = format!("{}|{}", message.address.checksummed(), message.chain_id);
    let session = consume_nonce(
        services,
        call,
        keys::siwe_nonce(services, &message.nonce),
        &expected,
    )
    .await?;
    login(services, &message.address, session).await
}

/// The simple login message for `nonce` on this deployment.
fn login_message(domain: &str, nonce: &str) -> String {
    format!("{LOGIN_MESSAGE_PREFIX}{domain}{LOGIN_MESSAGE_NONCE}{nonce}")
}

/// 403 `LOGIN_SIMPLE_DISABLED` when `LOGIN_SIMPLE=off`: the deployment takes SIWE only.
fn require_simple_login<S: Services>(services: &S) -> Result<(), Error> {
    if services.config().login_simple {
        Ok(())
    } else {
        Err(Error::forbidden(
            "LOGIN_SIMPLE_DISABLED",
            "the simple login is off on this deployment; sign in with SIWE",
        ))
    }
}

pub(super) async fn nonce<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    require_simple_login(services)?;
    let address = call
        .query
        .get("address")
        .ok_or_else(|| Error::invalid("address", "is required"))?;
    let address = parse_address("address", address)?;
    let nonce = alphanumeric(services.rng(), 24)?;
    services
        .redis()
        .exec(
            Command::new("SET")
                .arg(keys::login_nonce(services, &nonce))
                .arg(address.checksummed())
                .arg("PX")
                .arg(NONCE_TTL_MS)
                .arg("NX"),
        )
        .await?;
    Ok(Response::json(
        200,
        &json!({"nonce": nonce, "expiresIn": NONCE_TTL_MS / 1000, "message": login_message(services.config().siwe_domain(), &nonce)}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct VerifySigBody {
    address: String,
    message: String,
    signature: String,
}

pub(super) async fn verify_sig<S: Services>(
    services: &S,
    call: &Call<'_>,
) -> Result<Response, Error> {
    require_simple_login(services)?;
    let body: VerifySigBody = json_body(call.request)?;
    let address = parse_address("address", &body.address)?;
    let (domain, nonce) = body
        .message
        .strip_prefix(LOGIN_MESSAGE_PREFIX)
        .and_then(|rest| rest.split_once(LOGIN_MESSAGE_NONCE))
        .filter(|(_, n)| n.len() >= 16 && n.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or_else(|| Error::Client {
            status: 400,
            code: "LOGIN_MESSAGE_INVALID",
            message: format!(
                "the message must be exactly `{}`",
                login_message("<domain>", "<nonce>")
            ),
        })?;
    // Before the signature and the nonce: a message made for another site never burns a nonce.
    if domain != services.config().siwe_domain() {
        return Err(unauthorized(
            "LOGIN_DOMAIN_MISMATCH",
            "the message was made for another site",
        ));
    }
    check_signer(&body.message, &body.signature, &address)?;
    let session = consume_nonce(
        services,
        call,
        keys::login_nonce(services, nonce),
        &address.checksummed(),
    )
    .await?;
    login(services, &address, session).await
}

/// Upserts the user, records the session and issues both tokens of the session the nonce's
/// script opened.
///
/// `ADMIN_ADDRESSES` is consulted at every login: a listed wallet becomes admin (remembered as
/// `admin_from_list = 1`), and a wallet that was admin only through the list and is no longer
/// on it goes back to `user`. An admin granted by an operator (`otctl grant-admin`,
/// `admin_from_list = 0`) keeps the role whatever the list says. (In an `UPDATE`, every `users.*`
/// on the right-hand side reads the row as it was, so the two assignments see the same state.)
/// When that changes the role, the wallet's other sessions refuse their old tokens at once.
async fn login<S: Services>(
    services: &S,
    wallet: &WalletAddress,
    session: Session,
) -> Result<Response, Error> {
    let config = services.config();
    let now = services.clock().now_ms() as i64;
    let bootstrap_admin = config.admin_addresses.contains(wallet);
    let Session {
        family,
        refresh_token,
    } = session;
    // One round trip, two statements: the session's row (returning the wallet's role before
    // this login), then the upsert.
    let results = services
        .sql()
        .execute_many(vec![
            refresh::record_session(services, wallet, &family, &refresh_token, now),
            Statement::new(
                "INSERT INTO users (wallet, role, admin_from_list, created_at, last_login)
                 VALUES (?1, ?2, ?4, ?3, ?3)
                 ON CONFLICT (wallet) DO UPDATE SET last_login = excluded.last_login,
                     role = CASE WHEN ?4 THEN 'admin'
                                 WHEN users.admin_from_list = 1 THEN 'user'
                                 ELSE users.role END,
                     admin_from_list = CASE WHEN ?4
                         THEN users.role <> 'admin' OR users.admin_from_list = 1
                         ELSE 0 END
                 RETURNING role, created_at, last_login",
            )
            .bind(wallet.checksummed())
            .bind(if bootstrap_admin { "admin" } else { "user" })
            .bind(now)
            .bind(bootstrap_admin),
        ])
        .await?;
    let [recorded, upserted]: [_; 2] = results
        .try_into()
        .map_err(|_| Error::Internal("the login's statements answered a wrong count".into()))?;
    let (before, rows) = (recorded?, upserted?);
    let row = rows
        .row(0)
        .ok_or_else(|| Error::Internal("user upsert returned nothing".into()))?;
    let role_name: String = row.get("role")?;
    let role = Role::parse(&role_name)
        .ok_or_else(|| Error::Internal(format!("stored role {role_name}")))?;
    let created_at: i64 = row.get("created_at")?;
    let previous = before
        .row(0)
        .map(|r| r.get::<Option<String>>("previous_role"))
        .transpose()?
        .flatten();
    if previous.is_some_and(|p| p != role_name) {
        session::role_changed_to(services, wallet, role).await?;
    }
    let mut body = refresh::issue_tokens(services, wallet, role, &family, &refresh_token, now)?;
    body["user"] =
        json!({"address": wallet, "role": role, "createdAt": created_at, "lastLogin": now});
    Ok(Response::json(200, &body))
}
