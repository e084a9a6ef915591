//! The offline pass: a compact binary record signed with the event's Ed25519 key.
//!
//! ```text
//! u8 version (1) | u8 key generation | 8 bytes pass id
//! | str event id | str ticket id | str serial | str seat | str ticket type
//! | u32 valid-from (unix s, BE) | u32 valid-until | 64 bytes Ed25519 signature of all before
//! ```
//! `str` is one length byte and UTF-8. A typical pass is ~160 bytes, ~215 base64url
//! characters: a version-10 QR code. Scanners verify it with the event's public key and no
//! network; the pass id is what the revocation list names.
//!
//! Event keys are derived, not stored: `seed = HMAC-SHA256(master seed, "ot-pass-key|" event
//! "|" generation)`. Only the master seed is a secret; the private keys exist only while signing.

use super::{b64, is_ticket_id, unb64};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const VERSION: u8 = 1;
const SIGNATURE_LEN: usize = 64;
const MAX_FIELD: usize = 64;

/// The signed contents of a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    pub key_generation: u8,
    pub pass_id: [u8; 8],
    pub event_id: String,
    pub ticket_id: String,
    pub serial: String,
    pub seat: String,
    pub ticket_type: String,
    pub valid_from_secs: u32,
    pub valid_until_secs: u32,
}

/// Why a pass was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassError {
    #[error("not an offline pass")]
    Malformed,
    #[error("pass version {0} is not supported")]
    Version(u8),
    #[error("signature does not verify with the event's key")]
    BadSignature,
}

impl Pass {
    /// The pass id as 16 hex characters (how the revocation list names it).
    pub fn pass_id_hex(&self) -> String {
        hex::encode(self.pass_id)
    }

    fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        out.push(VERSION);
        out.push(self.key_generation);
        out.extend_from_slice(&self.pass_id);
        for field in [
            &self.event_id,
            &self.ticket_id,
            &self.serial,
            &self.seat,
            &self.ticket_type,
        ] {
            let bytes = truncate(field, MAX_FIELD).as_bytes();
            out.push(bytes.len() as u8);
            out.extend_from_slice(bytes);
        }
        out.extend_from_slice(&self.valid_from_secs.to_be_bytes());
        out.extend_from_slice(&self.valid_until_secs.to_be_bytes());
        out
    }

    /// The signed pass as base64url text.
    pub fn sign(&self, key: &SigningKey) -> String {
        let mut bytes = self.body();
        let signature = key.sign(&bytes);
        bytes.extend_from_slice(&signature.to_bytes());
        b64(&bytes)
    }

    /// Parses the shape of `text` without checking the signature; returns the pass, the signed
    /// bytes and the signature.
    ///
    /// # Errors
    /// [`PassError::Malformed`] / [`PassError::Version`].
    pub fn parse(text: &str) -> Result<(Pass, Vec<u8>, Signature), PassError> {
        let bytes = unb64(text.trim()).ok_or(PassError::Malformed)?;
        if bytes.len() < 2 + 8 + 5 + 8 + SIGNATURE_LEN {
            return Err(PassError::Malformed);
        }
        if bytes[0] != VERSION {
            return Err(PassError::Version(bytes[0]));
        }
        let (body, signature) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
        let signature = Signature::from_slice(signature).map_err(|_| PassError::Malformed)?;
        let mut reader = Reader { bytes: body, at: 2 };
        let pass_id: [u8; 8] = reader
            .take(8)
            .and_then(|b| b.try_into().ok())
            .ok_or(PassError::Malformed)?;
        let mut fields = Vec::with_capacity(5);
        for _ in 0..5 {
            fields.push(reader.string().ok_or(PassError::Malformed)?);
        }
        let valid_from_secs = reader.u32().ok_or(PassError::Malformed)?;
        let valid_until_secs = reader.u32().ok_or(PassError::Malformed)?;
        if reader.at != body.len() || !is_ticket_id(&fields[1]) || fields[0].is_empty() {
            return Err(PassError::Malformed);
        }
        let mut fields = fields.into_iter();
        let mut next = || fields.next().unwrap_or_default();
        let pass = Pass {
            key_generation: body[1],
            pass_id,
            event_id: next(),
            ticket_id: next(),
            serial: next(),
            seat: next(),
            ticket_type: next(),
            valid_from_secs,
            valid_until_secs,
        };
        Ok((pass, body.to_vec(), signature))
    }

    /// Parses `text` and checks its signature with the key `key_for(event id, generation)`
    /// returns. Validity times and revocation are the caller's to check.
    ///
    /// # Errors
    /// [`PassError`]; `BadSignature` also when `key_for` knows no such key.
    pub fn verify(
        text: &str,
        key_for: impl FnOnce(&str, u8) -> Option<VerifyingKey>,
    ) -> Result<Pass, PassError> {
        let (pass, body, signature) = Pass::parse(text)?;
        let key = key_for(&pass.event_id, pass.key_generation).ok_or(PassError::BadSignature)?;
        key.verify_strict(&body, &signature)
            .map_err(|_| PassError::BadSignature)?;
        Ok(pass)
    }

    /// Whether the pass is valid at `at_secs`.
    pub fn is_current(&self, at_secs: u64) -> bool {
        (u64::from(self.valid_from_secs)..=u64::from(self.valid_until_secs)).contains(&at_secs)
    }
}

/// Longest prefix of `text` within `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn string(&mut self) -> Option<String> {
        let len = *self.take(1)?.first()? as usize;
        if len > MAX_FIELD {
            return None;
        }
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// Derives event signing keys from the deployment's master seed.
#[derive(Clone)]
pub struct PassKeys {
    master_seed: Vec<u8>,
}

impl std::fmt::Debug for PassKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PassKeys(***)")
    }
}

impl PassKeys {
    pub fn new(master_seed: &[u8]) -> PassKeys {
        PassKeys {
            master_seed: master_seed.to_vec(),
        }
    }

    /// The signing key of `event_id`, generation `generation`.
    pub fn signing_key(&self, event_id: &str, generation: u8) -> SigningKey {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.master_seed)
            .expect("HMAC accepts keys of any length");
        mac.update(format!("ot-pass-key|{event_id}|{generation}").as_bytes());
        SigningKey::from_bytes(&mac.finalize().into_bytes().into())
    }

    /// The public key of `event_id`, generation `generation`.
    pub fn verifying_key(&self, event_id: &str, generation: u8) -> VerifyingKey {
        self.signing_key(event_id, generation).verifying_key()
    }
}

/// A public key as base64url (what `GET /v1/checkin/events/{id}/keys` serves).
pub fn public_key_text(key: &VerifyingKey) -> String {
    b64(key.as_bytes())
}
