//! HTTP metrics: aggregated in each instance, flushed to sharded Redis hashes, summed by
//! `/metrics`.
//!
//! Edge functions run as many instances at once, so per-instance counters alone would show one
//! instance's view at random; the counts must meet in Redis. Writing every sample there (as we
//! once did: three HINCRBY on one hash per request) put a round trip after every response and
//! made that one hash the hottest key of a sale. Instead:
//!
//! - each request adds its sample to an in-memory aggregate ([`pending`]), free;
//! - the aggregate is flushed when due — its oldest sample is `METRICS_FLUSH_SECS` old, or
//!   `METRICS_FLUSH_SAMPLES` samples wait — or at the end of every request on hosts that make
//!   a fresh instance per request (Spin), since nothing survives there;
//! - a flush is ONE `EVALSHA` of `metrics_flush.lua` (one billed command, whatever the number of
//!   fields) on one of [`SHARDS`] hashes picked at random, so concurrent instances spread over
//!   keys; it rides in the same `/pipeline` request as the handler's deferred commands, after
//!   the response ([`crate::AfterResponse`]);
//! - `/health` never flushes (it makes no outbound call at all); on hosts that reuse instances
//!   its sample rides with the next flush, on per-request hosts it is not counted;
//! - `/metrics` flushes its own instance's aggregate and reads every shard, the indexer's and
//!   the check-in hash in one pipeline round trip ([`scrape`]).
//!
//! The price: samples of an instance that is evicted before its next flush are lost, and a
//! counter lags by up to the flush interval. Prometheus counters tolerate both.

mod flush;
pub mod pending;
mod render;

pub use flush::Flush;
#[cfg(test)]
pub use flush::script as flush_script;
pub use render::{render, render_indexer};

use crate::services::Services;
use shared::ports::Redis;
use shared::redis::{Command, RedisError, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Histogram bucket upper bounds, in milliseconds.
pub const BUCKETS_MS: &[u64] = &[5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/// How many hashes the HTTP metrics are spread over.
pub const SHARDS: usize = 16;

/// One request's measurements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub method: &'static str,
    pub route: &'static str,
    pub status: u16,
    pub duration_ms: u64,
}

/// The key of HTTP metrics shard `n` (`0..SHARDS`).
pub fn shard_key(prefix: &str, n: usize) -> String {
    format!("{prefix}metrics:http:{n}")
}

/// The bucket `ms` falls in: its index in [`BUCKETS_MS`], or `BUCKETS_MS.len()` for `+Inf`.
pub fn bucket_index(ms: u64) -> usize {
    BUCKETS_MS
        .iter()
        .position(|le| ms <= *le)
        .unwrap_or(BUCKETS_MS.len())
}

/// The hash fields one sample adds to: request count, one latency bucket, latency sum.
pub fn increments(sample: &Sample) -> [(String, i64); 3] {
    let series = format!("{}|{}", sample.method, sample.route);
    let bucket = bucket_index(sample.duration_ms);
    [
        (format!("req|{series}|{}", sample.status), 1),
        (format!("bucket|{series}|{bucket}"), 1),
        (
            format!("sum_ms|{series}"),
            i64::try_from(sample.duration_ms).unwrap_or(i64::MAX),
        ),
    ]
}

/// Writes one histogram series in seconds: `buckets` are per-bucket counts in [`bucket_index`]
/// order (made cumulative here), `sum_ms` the sum of the observations; `labels` may be empty.
pub fn write_histogram(out: &mut String, name: &str, labels: &str, buckets: &[i64], sum_ms: i64) {
    let (open, sep) = if labels.is_empty() {
        ("", "")
    } else {
        (labels, ",")
    };
    let braced = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let mut cumulative = 0;
    for (i, le) in BUCKETS_MS.iter().enumerate() {
        cumulative += buckets.get(i).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "{name}_bucket{{{open}{sep}le=\"{}\"}} {cumulative}",
            *le as f64 / 1000.0
        );
    }
    cumulative += buckets.get(BUCKETS_MS.len()).copied().unwrap_or(0);
    let _ = writeln!(out, "{name}_bucket{{{open}{sep}le=\"+Inf\"}} {cumulative}");
    let _ = writeln!(out, "{name}_sum{braced} {}", sum_ms as f64 / 1000.0);
    let _ = writeln!(out, "{name}_count{braced} {cumulative}");
}

/// An integer-valued hash reply as `(field, value)` pairs.
fn integer_pairs(reply: Value) -> Result<Vec<(String, i64)>, RedisError> {
    let Value::Array(items) = reply else {
        return Err(RedisError::Decode("HGETALL did not answer an array".into()));
    };
    Ok(items
        .chunks_exact(2)
        .filter_map(|pair| Some((pair[0].as_str()?.to_owned(), pair[1].as_i64()?)))
        .collect())
}

/// Reads another integer-valued metrics hash.
///
/// # Errors
/// When Redis is unreachable.
pub async fn read_hash<S: Services>(
    services: &S,
    key: String,
) -> Result<Vec<(String, i64)>, RedisError> {
    integer_pairs(
        services
            .redis()
            .exec(Command::new("HGETALL").arg(key))
            .await?,
    )
}

/// Reads the indexer's metrics hash (see `indexer_cron::metrics`).
///
/// # Errors
/// When Redis is unreachable.
pub async fn read_indexer<S: Services>(services: &S) -> Result<Vec<(String, i64)>, RedisError> {
    read_hash(
        services,
        indexer_cron::metrics::key(&services.config().redis.key_prefix),
    )
    .await
}

/// Everything `/metrics` shows, read in one round trip.
#[derive(Debug, Default)]
pub struct Scrape {
    /// The HTTP fields summed over every shard.
    pub http: Vec<(String, i64)>,
    pub indexer: Vec<(String, i64)>,
    pub checkin: Vec<(String, i64)>,
}

/// Flushes this instance's aggregate (so a scrape sees its own requests at once) and reads
/// every shard, the indexer hash and the check-in hash, all in one pipeline request: one round
/// trip, `SHARDS + 2` commands, plus the flush when samples were waiting.
///
/// # Errors
/// When Redis is unreachable (the aggregate is kept for a later flush).
pub async fn scrape<S: Services>(services: &S) -> Result<Scrape, RedisError> {
    let prefix = &services.config().redis.key_prefix;
    let flush = pending::take().map(|batch| Flush::new(prefix, services.rng(), batch));
    let mut commands: Vec<Command> = flush.iter().map(Flush::command).collect();
    let reads = commands.len();
    commands.extend((0..SHARDS).map(|n| Command::new("HGETALL").arg(shard_key(prefix, n))));
    commands.push(Command::new("HGETALL").arg(indexer_cron::metrics::key(prefix)));
    commands.push(Command::new("HGETALL").arg(crate::checkin::metrics::key(services)));
    let mut replies = match services.redis().pipeline(commands).await {
        Ok(replies) => replies,
        Err(e) => {
            if let Some(flush) = flush {
                flush.failed(&e);
            }
            return Err(e);
        }
    };
    let mut http: BTreeMap<String, i64> = BTreeMap::new();
    if let Some(flush) = flush {
        let reply = replies
            .first()
            .cloned()
            .unwrap_or_else(|| Err(RedisError::Decode("missing reply".into())));
        // Flushed only after the reads (Redis lacked the script): count it here, so a scrape
        // always shows its own instance's requests.
        for (field, value) in flush
            .settle(services.redis(), reply)
            .await
            .unwrap_or_default()
        {
            *http.entry(field).or_default() += value;
        }
    }
    let mut replies = replies.drain(reads..);
    for reply in replies.by_ref().take(SHARDS) {
        for (field, value) in integer_pairs(reply?)? {
            *http.entry(field).or_default() += value;
        }
    }
    let mut next = || -> Result<Vec<(String, i64)>, RedisError> {
        integer_pairs(
            replies
                .next()
                .ok_or_else(|| RedisError::Decode("missing reply".into()))??,
        )
    };
    let (indexer, checkin) = (next()?, next()?);
    Ok(Scrape {
        http: http.into_iter().collect(),
        indexer,
        checkin,
    })
}

#[cfg(test)]
mod tests;
