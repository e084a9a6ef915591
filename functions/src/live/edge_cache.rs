//! The location cache a host may offer (Workers' Cache API): what lets the instances of one
//! location share a change-log read (see [`poll_read`]). Spin has none.

use super::feed::{Backend, POLL_LIMIT};
use super::log::{Entry, LogRead, Range};
use futures::future::LocalBoxFuture;
use serde_json::{Value, json};
use shared::domain::EventId;
use shared::error::Error;

/// A cache shared by the instances of a location, keyed by URL. Best effort: a miss, an
/// error or a lost write only costs the read it would have saved.
pub trait EdgeCache {
    /// The bytes stored under `key`, if they are there and fresh.
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Option<Vec<u8>>>;
    /// Stores `body` under `key` for `max_age_secs`.
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>, max_age_secs: u64) -> LocalBoxFuture<'a, ()>;
}

/// The feed's read of the log's tail: through the location cache when there is one, keyed by
/// event and `bucket` (poll intervals since the epoch), so every isolate of a location that
/// polls within one interval shares one Redis read.
///
/// # Errors
/// The log read's errors; a cache failure only costs the cache.
pub async fn poll_read(
    backend: &dyn Backend,
    event: &EventId,
    bucket: u64,
) -> Result<LogRead, Error> {
    let Some(cache) = backend.cache() else {
        return backend.read(event, Range::Tail, POLL_LIMIT).await;
    };
    let space: String = form_urlencoded::byte_serialize(backend.key_space().as_bytes()).collect();
    let key = format!(
        "https://live-feed.cache/{space}/{}/{bucket}",
        event.as_str()
    );
    if let Some(read) = cache.get(&key).await.as_deref().and_then(decode) {
        return Ok(read);
    }
    let read = backend.read(event, Range::Tail, POLL_LIMIT).await?;
    // One second is the bucket's life at the default poll interval; the bucket in the key
    // keeps a later interval from reading it anyway.
    cache.put(&key, encode(&read), 1).await;
    Ok(read)
}

fn encode(read: &LogRead) -> Vec<u8> {
    let entries: Vec<Value> = read
        .entries
        .iter()
        .map(|e| json!([e.seq, e.json]))
        .collect();
    json!({"head": read.head, "oldest": read.oldest, "entries": entries})
        .to_string()
        .into_bytes()
}

fn decode(bytes: &[u8]) -> Option<LogRead> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let entries = value["entries"]
        .as_array()?
        .iter()
        .map(|pair| {
            Some(Entry {
                seq: pair.get(0)?.as_u64()?,
                json: pair.get(1)?.as_str()?.to_owned(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(LogRead {
        head: value["head"].as_u64(),
        oldest: value["oldest"].as_u64(),
        entries,
    })
}
