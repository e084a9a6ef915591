//! The waiting room's signed passes: the queue ticket a wallet gets when it joins, and the
//! admission token it gets when its place is reached. Both are HMAC-signed with
//! `ADMISSION_SECRET` (not the JWT secret) under their own purpose, so neither can stand in
//! for the other or for a session.

use crate::http::Request;
use crate::services::Services;
use serde::{Deserialize, Serialize};
use shared::domain::{EventId, WalletAddress};
use shared::error::Error;
use shared::ports::Clock;
use shared::sale::SignedToken;

/// The header that carries an admission token on holds and orders.
pub const ADMISSION_HEADER: &str = "x-admission-token";

/// A place in an event's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueTicket {
    /// Event id.
    pub e: String,
    /// Wallet (EIP-55).
    pub w: String,
    /// The 0-based place; `None` for a random-mode arrival before the start, whose place is
    /// drawn at the start.
    pub p: Option<u64>,
    /// When the wallet joined (ms).
    pub j: i64,
}

/// Leave to shop, bound to one wallet and event, until `x`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionPass {
    pub e: String,
    pub w: String,
    /// Expiry (ms).
    pub x: i64,
}

fn signer<'s, S: Services>(services: &'s S, purpose: &'static str) -> SignedToken<'s> {
    SignedToken::new(
        services.config().admission_secret.expose().as_bytes(),
        purpose,
    )
}

impl QueueTicket {
    const PURPOSE: &'static str = "queue-ticket";

    pub fn sign<S: Services>(&self, services: &S) -> String {
        signer(services, Self::PURPOSE).sign(self)
    }

    /// Verifies a presented ticket for `event_id`.
    ///
    /// # Errors
    /// 403 `QUEUE_TICKET_INVALID` (forged, malformed, or for another event).
    pub fn verify<S: Services>(
        services: &S,
        token: &str,
        event_id: &EventId,
    ) -> Result<QueueTicket, Error> {
        let ticket: QueueTicket = signer(services, Self::PURPOSE)
            .verify(token)
            .map_err(|e| Error::forbidden("QUEUE_TICKET_INVALID", format!("queue ticket: {e}")))?;
        if ticket.e != event_id.as_str() {
            return Err(Error::forbidden(
                "QUEUE_TICKET_INVALID",
                "the queue ticket is for another event",
            ));
        }
        Ok(ticket)
    }
}

impl AdmissionPass {
    const PURPOSE: &'static str = "admission";

    pub fn sign<S: Services>(&self, services: &S) -> String {
        signer(services, Self::PURPOSE).sign(self)
    }
}

/// The admission token of a request, if any.
fn admission_header(request: &Request) -> Option<&str> {
    request.headers.get(ADMISSION_HEADER).map(str::trim)
}

/// The request's admission token with its signature checked (`None`: no token).
fn signed_pass<S: Services>(
    services: &S,
    request: &Request,
) -> Result<Option<AdmissionPass>, Error> {
    admission_header(request)
        .map(|token| {
            signer(services, AdmissionPass::PURPOSE)
                .verify(token)
                .map_err(|e| Error::forbidden("ADMISSION_INVALID", format!("admission token: {e}")))
        })
        .transpose()
}

/// 403 `ADMISSION_INVALID` for a token of another wallet or event.
pub fn issued_elsewhere() -> Error {
    Error::forbidden(
        "ADMISSION_INVALID",
        "the admission token was issued to another wallet or event",
    )
}

/// Fails once the pass's shopping session is over.
fn check_live<S: Services>(services: &S, pass: &AdmissionPass) -> Result<(), Error> {
    if pass.x <= services.clock().now_ms() as i64 {
        return Err(Error::forbidden(
            "ADMISSION_EXPIRED",
            "the admission token has expired; your shopping session is over",
        ));
    }
    Ok(())
}

/// The event of the request's admission token when it is valid for `wallet` and unexpired
/// (`None`: no token). The order route learns the event from the hold inside its script, so it
/// asks which event the token admits to instead of checking it against one.
///
/// # Errors
/// 403 `ADMISSION_INVALID` / `ADMISSION_EXPIRED`.
pub fn admitted_event<S: Services>(
    services: &S,
    request: &Request,
    wallet: &WalletAddress,
) -> Result<Option<String>, Error> {
    let Some(pass) = signed_pass(services, request)? else {
        return Ok(None);
    };
    if pass.w != wallet.checksummed() {
        return Err(issued_elsewhere());
    }
    check_live(services, &pass)?;
    Ok(Some(pass.e))
}

/// Checks that the request carries a live admission token for `wallet` at `event_id`.
///
/// # Errors
/// 403 `ADMISSION_REQUIRED` (no token), `ADMISSION_INVALID` (forged, or bound to another
/// wallet or event), `ADMISSION_EXPIRED`.
pub fn check_admission<S: Services>(
    services: &S,
    request: &Request,
    event_id: &EventId,
    wallet: &WalletAddress,
) -> Result<(), Error> {
    let pass = signed_pass(services, request)?.ok_or_else(|| {
        Error::forbidden(
            "ADMISSION_REQUIRED",
            format!(
                "this sale has a waiting room: join POST /v1/sales/{event_id}/queue and send the admission token in X-Admission-Token"
            ),
        )
    })?;
    if pass.e != event_id.as_str() || pass.w != wallet.checksummed() {
        return Err(issued_elsewhere());
    }
    check_live(services, &pass)
}
