//! The online code: `base64url(ticketId|nonce|exp|kid) "." base64url(HMAC-SHA256(secret[kid], payload))`.
//!
//! It lives about a minute, so a screenshot or a photo of someone else's phone goes stale; the
//! holder's app fetches a fresh one. The key id lets secrets rotate: codes signed with the
//! previous secret stay valid as long as that secret is still listed.

use super::{b64, is_ticket_id, unb64};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The HMAC secrets by key id; the first one signs, all of them verify.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<_> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        write!(f, "Keyring({ids:?})")
    }
}

impl Keyring {
    /// A keyring of `(key id, secret)`; `None` when it is empty.
    pub fn new(keys: Vec<(String, Vec<u8>)>) -> Option<Keyring> {
        (!keys.is_empty()).then_some(Keyring { keys })
    }

    /// The id of the signing key.
    pub fn signing_kid(&self) -> &str {
        &self.keys[0].0
    }

    fn secret(&self, kid: &str) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|(id, _)| id == kid)
            .map(|(_, s)| s.as_slice())
    }

    /// Signs a code for `ticket_id`, valid until `expires_at_secs`.
    pub fn sign(&self, ticket_id: &str, nonce: &str, expires_at_secs: u64) -> String {
        let (kid, secret) = &self.keys[0];
        let payload = format!("{ticket_id}|{nonce}|{expires_at_secs}|{kid}");
        format!(
            "{}.{}",
            b64(payload.as_bytes()),
            b64(&mac(secret, payload.as_bytes()))
        )
    }

    /// Checks `code` at `now_secs`.
    ///
    /// # Errors
    /// [`OnlineError::Malformed`] for anything that is not our shape, `UnknownKey`,
    /// `BadSignature`, then `Expired` (only for a code we did sign).
    pub fn verify(&self, code: &str, now_secs: u64) -> Result<OnlineCode, OnlineError> {
        let parsed = OnlineCode::parse(code)?;
        let secret = self.secret(&parsed.kid).ok_or(OnlineError::UnknownKey)?;
        let mut check = HmacSha256::new_from_slice(secret).map_err(|_| OnlineError::UnknownKey)?;
        check.update(&parsed.payload);
        check
            .verify_slice(&parsed.mac)
            .map_err(|_| OnlineError::BadSignature)?;
        if parsed.expires_at_secs < now_secs {
            return Err(OnlineError::Expired {
                ticket_id: parsed.ticket_id,
            });
        }
        Ok(parsed)
    }
}

fn mac(secret: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

/// A parsed online code (its MAC not yet checked unless it came from [`Keyring::verify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineCode {
    pub ticket_id: String,
    pub nonce: String,
    pub expires_at_secs: u64,
    pub kid: String,
    payload: Vec<u8>,
    mac: Vec<u8>,
}

/// Why an online code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnlineError {
    #[error("not an online ticket code")]
    Malformed,
    #[error("signed with a key we do not have")]
    UnknownKey,
    #[error("signature does not match")]
    BadSignature,
    /// A code we signed, past its expiry (the ticket it names, for the audit).
    #[error("code expired")]
    Expired { ticket_id: String },
}

impl OnlineCode {
    /// Parses the shape of `code` (no MAC check).
    ///
    /// # Errors
    /// [`OnlineError::Malformed`].
    pub fn parse(code: &str) -> Result<OnlineCode, OnlineError> {
        let (payload_b64, mac_b64) = code.trim().split_once('.').ok_or(OnlineError::Malformed)?;
        let payload = unb64(payload_b64).ok_or(OnlineError::Malformed)?;
        let mac = unb64(mac_b64).ok_or(OnlineError::Malformed)?;
        if mac.len() != 32 {
            return Err(OnlineError::Malformed);
        }
        let text = std::str::from_utf8(&payload).map_err(|_| OnlineError::Malformed)?;
        let mut parts = text.split('|');
        let (Some(ticket_id), Some(nonce), Some(exp), Some(kid), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(OnlineError::Malformed);
        };
        let valid_nonce =
            (8..=64).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_hexdigit());
        let valid_kid =
            (1..=16).contains(&kid.len()) && kid.bytes().all(|b| b.is_ascii_alphanumeric());
        let expires_at_secs = (exp.len() <= 12 && exp.bytes().all(|b| b.is_ascii_digit()))
            .then(|| exp.parse::<u64>().ok())
            .flatten();
        match expires_at_secs {
            Some(expires_at_secs) if is_ticket_id(ticket_id) && valid_nonce && valid_kid => {
                Ok(OnlineCode {
                    ticket_id: ticket_id.to_owned(),
                    nonce: nonce.to_owned(),
                    expires_at_secs,
                    kid: kid.to_owned(),
                    payload,
                    mac,
                })
            }
            _ => Err(OnlineError::Malformed),
        }
    }
}
