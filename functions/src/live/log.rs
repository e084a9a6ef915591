//! Reading an event's availability change log (written by `scripts/live_lib.lua` in the same
//! script run as each change): one `EVAL` of `scripts/live_read.lua`, one round trip.

use crate::keys;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::Redis;
use shared::redis::{Script, Value};
use std::sync::LazyLock;

static READ: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/live_read.lua")));

/// Which part of the log to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The entries after this seq, oldest first.
    After(u64),
    /// The newest entries.
    Tail,
}

/// One entry: its seq and its JSON as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub json: String,
}

/// What a read found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogRead {
    /// The last seq the log gave; `None` when the event has no log (its inventory was never
    /// loaded, or Redis lost it).
    pub head: Option<u64>,
    /// The oldest seq the log still holds; `None` when it holds no entry.
    pub oldest: Option<u64>,
    /// The entries read, in seq order.
    pub entries: Vec<Entry>,
}

impl LogRead {
    /// Whether a reader whose state reflects `since` can still catch up from this log (every
    /// entry after `since` is still held).
    pub fn covers(&self, since: u64) -> bool {
        match (self.head, self.oldest) {
            (None, _) => false,
            (Some(head), None) => since == head,
            (Some(head), Some(oldest)) => since <= head && since + 1 >= oldest,
        }
    }
}

/// The Redis keys of `event_id`'s log: its inventory's meta hash and the log itself.
pub fn log_keys(prefix: &str, event_id: &EventId) -> [String; 2] {
    [
        keys::inventory(prefix, event_id.as_str(), "meta"),
        keys::inventory(prefix, event_id.as_str(), "live"),
    ]
}

/// Reads up to `limit` entries of `event_id`'s log.
///
/// # Errors
/// 503 `REDIS_UNAVAILABLE`; internal for a malformed reply.
pub async fn read(
    redis: &impl Redis,
    prefix: &str,
    event_id: &EventId,
    range: Range,
    limit: usize,
) -> Result<LogRead, Error> {
    let [meta, log] = log_keys(prefix, event_id);
    let since = match range {
        Range::After(seq) => seq.to_string(),
        Range::Tail => String::new(),
    };
    let limit = limit.max(1).to_string();
    let reply = redis.eval(&READ, &[&meta, &log], &[&since, &limit]).await?;
    parse(reply)
}

/// Reads a reply of `scripts/live_read.lua` (also run gated, see `super::updates`).
pub(super) fn parse(reply: Value) -> Result<LogRead, Error> {
    let malformed = |what: &str| Error::Internal(format!("live_read.lua answered {what}"));
    let Value::Array(parts) = reply else {
        return Err(malformed("no array"));
    };
    let text = |i: usize| parts.get(i).and_then(Value::as_str).unwrap_or_default();
    let number = |s: &str| -> Result<Option<u64>, Error> {
        if s.is_empty() {
            return Ok(None);
        }
        s.parse()
            .map(Some)
            .map_err(|_| malformed(&format!("seq {s:?}")))
    };
    let head = number(text(0))?;
    let oldest = number(text(1))?;
    let entries = parts
        .iter()
        .skip(2)
        .map(|part| {
            let json = part.as_str().ok_or_else(|| malformed("a non-text entry"))?;
            Ok(Entry {
                seq: entry_seq(json).ok_or_else(|| malformed("an entry without seq"))?,
                json: json.to_owned(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(LogRead {
        head,
        oldest,
        entries,
    })
}

/// The seq of an entry's JSON (`{"seq":N,...}`, as `live_lib.lua` writes it).
fn entry_seq(json: &str) -> Option<u64> {
    let rest = json.strip_prefix("{\"seq\":")?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn a_read_parses_head_oldest_and_entries() {
        let reply = Value::Array(vec![
            bytes("1764400000000002"),
            bytes("1764400000000001"),
            bytes(r#"{"seq":1764400000000001,"kind":"hold"}"#),
            bytes(r#"{"seq":1764400000000002,"kind":"sold"}"#),
        ]);
        let read = parse(reply).expect("parsed");
        assert_eq!(read.head, Some(1_764_400_000_000_002));
        assert_eq!(read.oldest, Some(1_764_400_000_000_001));
        assert_eq!(read.entries[1].seq, 1_764_400_000_000_002);
        assert!(read.covers(1_764_400_000_000_000));
        assert!(read.covers(1_764_400_000_000_002));
        assert!(!read.covers(1_764_400_000_000_003), "ahead of the log");
        assert!(
            !read.covers(1_764_400_000_000_000 - 1),
            "older than the log"
        );
    }

    #[test]
    fn an_empty_log_covers_only_its_head_and_no_log_covers_nothing() {
        let empty = parse(Value::Array(vec![bytes("7"), bytes("")])).expect("parsed");
        assert!(empty.covers(7));
        assert!(!empty.covers(6));
        let none = parse(Value::Array(vec![bytes(""), bytes("")])).expect("parsed");
        assert_eq!(none.head, None);
        assert!(!none.covers(0));
    }

    #[test]
    fn a_malformed_entry_is_an_internal_error() {
        let reply = Value::Array(vec![bytes("7"), bytes("7"), bytes("{\"kind\":1}")]);
        assert!(parse(reply).is_err());
        assert_eq!(entry_seq(r#"{"seq":12,"at":3}"#), Some(12));
    }
}
