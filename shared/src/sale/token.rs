//! Small HMAC-SHA256-signed tokens (queue tickets, admission tokens): `base64url(json)` + `.` +
//! `base64url(mac)`, where the MAC also covers a purpose string, so a queue ticket can never be
//! presented as an admission token even though both use the same key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("bad token signature")]
    BadSignature,
}

/// Signs and verifies tokens of one purpose.
pub struct SignedToken<'a> {
    key: &'a [u8],
    purpose: &'static str,
}

impl<'a> SignedToken<'a> {
    /// A signer for `purpose` (e.g. `queue-ticket`) with `key`.
    pub fn new(key: &'a [u8], purpose: &'static str) -> Self {
        SignedToken { key, purpose }
    }

    fn mac(&self, body: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key)
            .unwrap_or_else(|_| unreachable!("any key length"));
        mac.update(self.purpose.as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        mac
    }

    /// Signs `claims`.
    pub fn sign(&self, claims: &impl Serialize) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&body).finalize().into_bytes());
        format!("{body}.{tag}")
    }

    /// Verifies the signature (in constant time) and decodes the claims. Expiry and binding
    /// checks belong to the caller, who knows what the claims mean.
    ///
    /// # Errors
    /// [`TokenError`].
    pub fn verify<T: DeserializeOwned>(&self, token: &str) -> Result<T, TokenError> {
        let (body, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        self.mac(body)
            .verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed)?;
        serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Ticket {
        event: String,
        position: u64,
    }

    #[test]
    fn round_trips_and_refuses_forgeries() {
        let queue = SignedToken::new(b"secret-key", "queue-ticket");
        let ticket = Ticket {
            event: "evt".into(),
            position: 7,
        };
        let token = queue.sign(&ticket);
        assert_eq!(queue.verify::<Ticket>(&token), Ok(ticket));

        let other_key = SignedToken::new(b"other-key", "queue-ticket");
        assert_eq!(
            other_key.verify::<Ticket>(&token),
            Err(TokenError::BadSignature)
        );
        let other_purpose = SignedToken::new(b"secret-key", "admission");
        assert_eq!(
            other_purpose.verify::<Ticket>(&token),
            Err(TokenError::BadSignature)
        );

        let (_, tag) = token.split_once('.').expect("two parts");
        let forged_body = URL_SAFE_NO_PAD.encode(br#"{"event":"evt","position":0}"#);
        assert_eq!(
            queue.verify::<Ticket>(&format!("{forged_body}.{tag}")),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            queue.verify::<Ticket>("garbage"),
            Err(TokenError::Malformed)
        );
        assert_eq!(queue.verify::<Ticket>("a.!!"), Err(TokenError::Malformed));
    }
}
