//! Tickets at the door: the two codes a ticket holder shows and what a scan decides.
//!
//! - [`online`]: a short-lived HMAC code (`payload.mac`, ~60 s) the app refreshes, so a
//!   screenshot goes stale. Verified only by the server, which holds the secrets.
//! - [`pass`]: an Ed25519-signed binary pass a scanner verifies with the event's public key and
//!   no network; a revocation list (pulled while online) catches refunded or transferred tickets.
//! - [`svg`]: either code as an SVG QR image.
//!
//! Parsers take any text and never panic (fuzzed with proptest in `tests`).

pub mod online;
pub mod pass;
mod result;
pub mod svg;

pub use result::ScanResult;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest code text we look at; anything longer is not ours (a QR code holds at most ~4 KB).
pub const MAX_CODE_LEN: usize = 1024;

/// Which kind of code a scanned text is: online codes have a `.` between payload and MAC,
/// offline passes are one base64url run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Online,
    Offline,
}

impl CodeKind {
    /// The kind of `code` (no validation beyond the shape).
    pub fn of(code: &str) -> CodeKind {
        if code.contains('.') {
            CodeKind::Online
        } else {
            CodeKind::Offline
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || text.len() > MAX_CODE_LEN {
        return None;
    }
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Ticket ids in codes: 1–64 characters of `[A-Za-z0-9_:-]` (our `tkt_…` ids and the
/// indexer's `chain:<token id>`).
pub fn is_ticket_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'))
}

#[cfg(test)]
mod tests;
