//! Structured logs: every operator-facing line is one JSON object on one line, `ts` and
//! `level` first, so Workers Logs / `wrangler tail` and any stderr collector (Spin) can index
//! them. One line per request (see [`request::RequestLine`]), one per step of a scheduled run,
//! and the error lines handlers write through [`crate::Services::log_error`].
//!
//! What a line may hold is decided here: a wallet only shortened, never a token, signature or
//! header; and every line an [`crate::EdgeServices`] writes is scrubbed of the configured
//! secrets as a last guard (an error message quoting a URL with a token, say).

mod counted;
pub mod request;
mod time;

pub use counted::Counted;
use serde::Serialize;

/// How bad a line is (Workers: `console.log` vs `console.error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Error => "error",
        }
    }
}

/// One JSON line: `ts`, `level`, `msg`, `request_id` (when known), then `fields`' own
/// members (`fields` must serialize to an object; anything else is left out).
pub fn line<T: Serialize + ?Sized>(
    now_ms: u64,
    level: Level,
    msg: &str,
    request_id: Option<&str>,
    fields: &T,
) -> String {
    let mut out = format!(
        "{{\"ts\":\"{}\",\"level\":\"{}\",\"msg\":{}",
        time::rfc3339_ms(now_ms),
        level.as_str(),
        json_str(msg)
    );
    if let Some(id) = request_id {
        out.push_str(",\"request_id\":");
        out.push_str(&json_str(id));
    }
    // serde_json escapes control characters, so a multi-line error stays on one line.
    if let Ok(object) = serde_json::to_string(fields)
        && let Some(inner) = object.strip_prefix('{').and_then(|o| o.strip_suffix('}'))
        && !inner.is_empty()
    {
        out.push(',');
        out.push_str(inner);
    }
    out.push('}');
    out
}

/// An error line with nothing but its message.
pub fn error_line(now_ms: u64, msg: &str, request_id: Option<&str>) -> String {
    line(
        now_ms,
        Level::Error,
        msg,
        request_id,
        &serde_json::Map::new(),
    )
}

/// Whether `line` (as [`line`] writes it) is an error line: the host picks its console stream
/// by this. A message cannot fake it: inside a JSON string its quotes are escaped.
pub fn is_error(line: &str) -> bool {
    line.contains(r#","level":"error","#)
}

/// `0xf39F…2266`: enough to tell callers apart in an incident, not enough to name one.
pub fn short_wallet(wallet: &str) -> String {
    match (
        wallet.get(..6),
        wallet.get(wallet.len().saturating_sub(4)..),
    ) {
        (Some(head), Some(tail)) if wallet.len() > 10 => format!("{head}…{tail}"),
        _ => "…".to_owned(),
    }
}

/// `line` with every occurrence of each secret (8 characters or more: shorter values would
/// blank ordinary words) replaced by `[redacted]`.
pub fn scrub(mut line: String, secrets: &[&str]) -> String {
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        if line.contains(secret) {
            line = line.replace(secret, "[redacted]");
        }
    }
    line
}

fn json_str(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

#[cfg(test)]
mod tests;
