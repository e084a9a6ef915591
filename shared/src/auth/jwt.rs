//! HS256 access tokens (jwt-compact). The algorithm and key id are fixed here: a token whose
//! header names another algorithm (`none`, RS256, …) is rejected before its signature is even
//! looked at, and nothing in the token selects the key.

use crate::domain::{Role, WalletAddress};
use chrono::{DateTime, Duration, TimeZone, Utc};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken, ValidationError};
use serde::{Deserialize, Serialize};

/// The key id we put in every header.
pub const KEY_ID: &str = "hs256-1";

/// Our claims besides `exp`/`iat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Checksummed wallet address.
    pub sub: String,
    pub role: Role,
    /// Unique token id (revocation handle).
    pub jti: String,
    /// Session = refresh-token family; logout revokes it.
    pub sid: String,
    pub iss: String,
    pub aud: String,
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub wallet: WalletAddress,
    pub role: Role,
    pub jti: String,
    pub sid: String,
    pub expires_at_ms: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not a JWT, wrong algorithm, bad signature, missing claims.
    #[error("invalid access token: {0}")]
    Invalid(String),
    #[error("access token expired")]
    Expired,
    /// Issued by someone else or for another audience.
    #[error("access token is not for this service")]
    WrongAudience,
}

/// Issues and checks access tokens for one deployment.
pub struct JwtCodec {
    key: Hs256Key,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl JwtCodec {
    /// A codec with the shared secret, `iss`, `aud` and token lifetime.
    pub fn new(secret: &[u8], issuer: &str, audience: &str, ttl_secs: i64) -> Self {
        JwtCodec {
            key: Hs256Key::new(secret),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs,
        }
    }

    /// Token lifetime in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs a token for `wallet` issued at `now_ms`.
    ///
    /// # Errors
    /// Only if serialisation fails, which our claim types cannot.
    pub fn issue(
        &self,
        wallet: &WalletAddress,
        role: Role,
        jti: &str,
        sid: &str,
        now_ms: i64,
    ) -> Result<String, JwtError> {
        let options = TimeOptions::new(Duration::zero(), move || at(now_ms));
        let claims = Claims::new(AccessClaims {
            sub: wallet.checksummed(),
            role,
            jti: jti.to_owned(),
            sid: sid.to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        })
        .set_duration_and_issuance(&options, Duration::seconds(self.ttl_secs));
        Hs256
            .token(&Header::empty().with_key_id(KEY_ID), &claims, &self.key)
            .map_err(|e| JwtError::Invalid(e.to_string()))
    }

    /// Checks algorithm, signature, expiry (no leeway), issuer and audience.
    ///
    /// # Errors
    /// [`JwtError`] saying which check failed.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<VerifiedToken, JwtError> {
        let untrusted = UntrustedToken::new(token).map_err(|e| JwtError::Invalid(e.to_string()))?;
        let token = Hs256
            .validator::<AccessClaims>(&self.key)
            .validate(&untrusted)
            .map_err(|e| JwtError::Invalid(e.to_string()))?;
        let claims = token.claims();
        let options = TimeOptions::new(Duration::zero(), move || at(now_ms));
        claims.validate_expiration(&options).map_err(|e| match e {
            ValidationError::Expired => JwtError::Expired,
            other => JwtError::Invalid(other.to_string()),
        })?;
        let custom = &claims.custom;
        if custom.iss != self.issuer || custom.aud != self.audience {
            return Err(JwtError::WrongAudience);
        }
        let wallet =
            WalletAddress::parse(&custom.sub).map_err(|e| JwtError::Invalid(format!("sub {e}")))?;
        let expires_at_ms = claims
            .expiration
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| JwtError::Invalid("no exp".into()))?;
        Ok(VerifiedToken {
            wallet,
            role: custom.role,
            jti: custom.jti.clone(),
            sid: custom.sid.clone(),
            expires_at_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const NOW: i64 = 1_800_000_000_000;

    fn codec() -> JwtCodec {
        JwtCodec::new(
            b"0123456789abcdef0123456789abcdef",
            "https://api.test",
            "onlineticket",
            900,
        )
    }

    fn wallet() -> WalletAddress {
        WalletAddress::parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8").expect("address")
    }

    #[test]
    fn issues_and_verifies() {
        let token = codec()
            .issue(&wallet(), Role::Organizer, "j1", "s1", NOW)
            .expect("issue");
        let verified = codec().verify(&token, NOW + 1_000).expect("valid");
        assert_eq!(verified.wallet, wallet());
        assert_eq!(verified.role, Role::Organizer);
        assert_eq!((verified.jti.as_str(), verified.sid.as_str()), ("j1", "s1"));
        assert_eq!(verified.expires_at_ms, NOW + 900_000);
    }

    #[test]
    fn refuses_expired_foreign_and_tampered_tokens() {
        let token = codec()
            .issue(&wallet(), Role::User, "j", "s", NOW)
            .expect("issue");
        assert_eq!(
            codec().verify(&token, NOW + 900_001),
            Err(JwtError::Expired)
        );
        let other_aud = JwtCodec::new(
            b"0123456789abcdef0123456789abcdef",
            "https://api.test",
            "other",
            900,
        );
        assert_eq!(other_aud.verify(&token, NOW), Err(JwtError::WrongAudience));
        let other_key = JwtCodec::new(
            b"another-secret-another-secret-xx",
            "https://api.test",
            "onlineticket",
            900,
        );
        assert!(matches!(
            other_key.verify(&token, NOW),
            Err(JwtError::Invalid(_))
        ));
        let mut parts: Vec<&str> = token.split('.').collect();
        let promoted = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).expect("b64"))
                .expect("utf8")
                .replace("\"user\"", "\"admin\""),
        );
        parts[1] = &promoted;
        assert!(matches!(
            codec().verify(&parts.join("."), NOW),
            Err(JwtError::Invalid(_))
        ));
    }

    #[test]
    fn refuses_alg_none() {
        let token = codec()
            .issue(&wallet(), Role::User, "j", "s", NOW)
            .expect("issue");
        let payload = token.split('.').nth(1).expect("payload");
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        for forged in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert!(
                matches!(codec().verify(&forged, NOW), Err(JwtError::Invalid(_))),
                "{forged}"
            );
        }
    }
}
