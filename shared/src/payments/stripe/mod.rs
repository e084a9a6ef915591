//! Stripe webhooks: the `Stripe-Signature` check exactly as Stripe specifies it
//! (<https://docs.stripe.com/webhooks#verify-manually>), then a minimal parse of the event.
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`. The signed content is the
//! decimal timestamp, a `.`, and the raw request body, MACed with HMAC-SHA256 under the endpoint
//! secret (the whole `whsec_…` string as key bytes). A delivery is authentic when any `v1`
//! matches (Stripe sends one per active secret while a secret is being rolled); other schemes
//! (`v0` is the test-mode scheme) are ignored.
//!
//! Where Stripe's libraries differ from each other, this module picks, and says so:
//! - **Order of checks**: signature first, timestamp second (stripe-node, -python and -ruby), so
//!   [`StripeSignatureError::TimestampOutsideTolerance`] only ever describes an authentic but old
//!   delivery, a replay, never a forgery.
//! - **Future timestamps are accepted.** Every Stripe library rejects only `t < now - tolerance`
//!   (`timestampAge > tolerance` in stripe-node, `timestamp < time.time() - tolerance` in
//!   stripe-python and stripe-ruby, `time.Since(t) > tolerance` in stripe-go). We mirror that
//!   instead of checking `|now - t|`: a future `t` still needs Stripe's MAC, and Stripe stamps
//!   deliveries with its own clock, so a `t` ahead of ours means our clock is behind, and
//!   rejecting would drop genuine payments. Replays stay bounded by the past side and, above
//!   this module, by processing each event id once.
//! - **A tolerance of 0 does not switch the check off** (it does in Stripe's libraries);
//!   negative tolerances count as 0. Skipping the check must be impossible by misconfiguration.
//! - **Whitespace** around items, keys and values is ignored (stripe-ruby splits on `/,\s*/`;
//!   stripe-node does not, see the `whitespace_after_commas` fixture). Items that are not
//!   `key=value` are ignored, like unknown schemes (stripe-node/-python/-ruby). A second `t` is
//!   refused as [`StripeSignatureError::Malformed`] (the libraries silently take the first or the
//!   last). `v1` values are compared as bytes after hex decoding, so upper-case hex matches
//!   (stripe-go); values that are not 64 hex digits can never match.
//!
//! The fixtures were produced by Stripe's own npm library: `tests/js/payments/stripe-fixtures.mjs`
//! writes `fixtures/stripe.json` with headers from `generateTestHeaderString` and the verdict of
//! stripe-node's `constructEvent` on each case.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use std::collections::BTreeMap;

/// Stripe's libraries' default tolerance (`DEFAULT_TOLERANCE`): five minutes.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// The only signature scheme that counts; Stripe's libraries call it `EXPECTED_SCHEME`.
const EXPECTED_SCHEME: &str = "v1";

/// Why a webhook delivery was refused.
///
/// Everything but [`EmptySecret`](Self::EmptySecret) is the sender's fault: answer 400 so that
/// Stripe shows the failure on the endpoint (and retries, in case it was our clock or our
/// secret). [`EmptySecret`](Self::EmptySecret) is ours: answer 500.
#[derive(Debug, thiserror::Error)]
pub enum StripeSignatureError {
    /// The header is empty, has no `t`, two `t`, or a `t` that is not an integer.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// The header has a timestamp but no `v1` signature.
    #[error("no v1 signature in the Stripe-Signature header")]
    NoSignatures,
    /// No `v1` signature matches the body under our secret: a forgery, a tampered body, a
    /// body re-encoded on the way, or another endpoint's secret.
    #[error("no v1 signature matches the payload")]
    Mismatch,
    /// Authentic, but signed more than the tolerance before `now`: a replay, or a delivery
    /// delayed beyond the tolerance. Stripe's retries carry a fresh timestamp.
    #[error("signed {age_secs} s ago, more than the tolerance of {tolerance_secs} s")]
    TimestampOutsideTolerance { age_secs: i64, tolerance_secs: i64 },
    /// The endpoint secret is empty, so anyone could sign: a deployment error, refused before
    /// any MAC is computed.
    #[error("the Stripe webhook secret is empty")]
    EmptySecret,
    /// Authentic, but the body is not a Stripe event we can read (not JSON, no `id`/`type`, or
    /// metadata values that are not strings).
    #[error("signed payload is not a Stripe event")]
    InvalidEvent(#[source] serde_json::Error),
}

/// The fields of a Stripe event that order handling needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeEvent {
    /// `evt_…`: the key for processing each event once.
    pub id: String,
    /// `type`, e.g. `payment_intent.succeeded`.
    pub event_type: String,
    /// `data.object.id` when the object is a payment intent, else `data.object.payment_intent`
    /// (charges, refunds), else `None`.
    pub payment_intent_id: Option<String>,
    /// `data.object.metadata` (empty when absent).
    pub metadata: BTreeMap<String, String>,
    /// `data.object.amount` in the currency's minor unit.
    pub amount: Option<i64>,
    /// `data.object.currency`, lower-case ISO code as Stripe sends it.
    pub currency: Option<String>,
}

/// Verifies a webhook delivery and parses its event.
///
/// `payload` must be the raw request body, byte for byte; `now_secs` is the current unix time.
/// Pass [`DEFAULT_TOLERANCE_SECS`] as `tolerance_secs` unless there is a reason not to.
///
/// # Errors
/// [`StripeSignatureError`]: see [`verify_signature`], and
/// [`InvalidEvent`](StripeSignatureError::InvalidEvent) when the authentic body is not an event.
pub fn verify(
    payload: &[u8],
    signature_header: &str,
    secret: &str,
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<StripeEvent, StripeSignatureError> {
    verify_signature(payload, signature_header, secret, now_secs, tolerance_secs)?;
    StripeEvent::from_json(payload).map_err(StripeSignatureError::InvalidEvent)
}

/// Verifies a webhook delivery without parsing it; returns the signed timestamp.
///
/// # Errors
/// [`StripeSignatureError::EmptySecret`], then
/// [`Malformed`](StripeSignatureError::Malformed) / [`NoSignatures`](StripeSignatureError::NoSignatures)
/// for the header, [`Mismatch`](StripeSignatureError::Mismatch) when no `v1` matches, and only
/// then [`TimestampOutsideTolerance`](StripeSignatureError::TimestampOutsideTolerance) when
/// `now_secs - t > tolerance_secs`.
pub fn verify_signature(
    payload: &[u8],
    signature_header: &str,
    secret: &str,
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<i64, StripeSignatureError> {
    if secret.is_empty() {
        return Err(StripeSignatureError::EmptySecret);
    }
    let header = SignatureHeader::parse(signature_header)?;

    // Like every Stripe library, MAC the timestamp as the decimal of the parsed number.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(header.timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    // `verify_slice` compares in constant time; stopping at the first match only reveals which
    // of the sender's own signatures matched.
    let matched = header.signatures.iter().any(|sig| {
        let mut tag = [0u8; 32];
        hex::decode_to_slice(sig, &mut tag).is_ok() && mac.clone().verify_slice(&tag).is_ok()
    });
    if !matched {
        return Err(StripeSignatureError::Mismatch);
    }

    let tolerance_secs = tolerance_secs.max(0);
    let age_secs = now_secs.saturating_sub(header.timestamp);
    if age_secs > tolerance_secs {
        return Err(StripeSignatureError::TimestampOutsideTolerance {
            age_secs,
            tolerance_secs,
        });
    }
    Ok(header.timestamp)
}

/// A parsed `Stripe-Signature` header: the timestamp and the `v1` values, still in hex.
struct SignatureHeader<'a> {
    timestamp: i64,
    signatures: Vec<&'a str>,
}

impl<'a> SignatureHeader<'a> {
    fn parse(header: &'a str) -> Result<Self, StripeSignatureError> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for item in header.split(',') {
            let Some((key, value)) = item.split_once('=') else {
                continue;
            };
            match (key.trim(), value.trim()) {
                ("t", value) => {
                    let t = value
                        .parse::<i64>()
                        .map_err(|_| StripeSignatureError::Malformed)?;
                    if timestamp.replace(t).is_some() {
                        return Err(StripeSignatureError::Malformed);
                    }
                }
                (EXPECTED_SCHEME, value) => signatures.push(value),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(StripeSignatureError::Malformed)?;
        if signatures.is_empty() {
            return Err(StripeSignatureError::NoSignatures);
        }
        Ok(SignatureHeader {
            timestamp,
            signatures,
        })
    }
}

impl StripeEvent {
    /// Reads the fields we need from an event body; everything else is ignored. Call it only
    /// on a body whose signature was verified ([`verify`] does both).
    ///
    /// # Errors
    /// The JSON error when the body is not JSON, lacks `id` or `type`, or has fields of the
    /// wrong type (e.g. a metadata value that is not a string).
    pub fn from_json(payload: &[u8]) -> Result<Self, serde_json::Error> {
        let raw: RawEvent = serde_json::from_slice(payload)?;
        let object = raw.data.map(|d| d.object).unwrap_or_default();
        let payment_intent_id = if object.object.as_deref() == Some("payment_intent") {
            object.id
        } else {
            match object.payment_intent {
                Some(Value::String(id)) => Some(id),
                // Expanded (`expand[]=payment_intent`): the object carries its id.
                Some(Value::Object(pi)) => pi.get("id").and_then(Value::as_str).map(str::to_owned),
                _ => None,
            }
        };
        Ok(StripeEvent {
            id: raw.id,
            event_type: raw.event_type,
            payment_intent_id,
            metadata: object.metadata.unwrap_or_default(),
            amount: object.amount,
            currency: object.currency,
        })
    }
}

/// The event as Stripe sends it, reduced to what [`StripeEvent`] reads.
#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    data: Option<RawData>,
}

#[derive(Deserialize)]
struct RawData {
    #[serde(default)]
    object: RawObject,
}

#[derive(Deserialize, Default)]
struct RawObject {
    object: Option<String>,
    id: Option<String>,
    payment_intent: Option<Value>,
    metadata: Option<BTreeMap<String, String>>,
    amount: Option<i64>,
    currency: Option<String>,
}

#[cfg(test)]
mod tests;
