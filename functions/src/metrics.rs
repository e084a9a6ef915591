//! HTTP metrics kept in Redis.
//!
//! Edge functions run as many short-lived instances at once, so per-instance counters would
//! show one instance's view at random. Each request instead adds its sample to one Redis hash
//! (one pipelined round trip, after the response on Workers) and `/metrics` renders that hash
//! as Prometheus text: the counts are global across instances and runtimes.

use crate::services::Services;
use shared::ports::Redis;
use shared::redis::{Command, RedisError, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Histogram bucket upper bounds, in milliseconds.
pub const BUCKETS_MS: &[u64] = &[5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/// One request's measurements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub method: &'static str,
    pub route: &'static str,
    pub status: u16,
    pub duration_ms: u64,
}

fn hash_key<S: Services>(services: &S) -> String {
    format!("{}metrics:http", services.config().redis.key_prefix)
}

/// The bucket `ms` falls in: its index in [`BUCKETS_MS`], or `BUCKETS_MS.len()` for `+Inf`.
pub fn bucket_index(ms: u64) -> usize {
    BUCKETS_MS
        .iter()
        .position(|le| ms <= *le)
        .unwrap_or(BUCKETS_MS.len())
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

/// The commands that add one sample: request count, one latency bucket, latency sum.
pub fn commands(key: &str, sample: &Sample) -> Vec<Command> {
    let series = format!("{}|{}", sample.method, sample.route);
    let bucket = bucket_index(sample.duration_ms);
    vec![
        Command::new("HINCRBY")
            .arg(key)
            .arg(format!("req|{series}|{}", sample.status))
            .arg(1),
        Command::new("HINCRBY")
            .arg(key)
            .arg(format!("bucket|{series}|{bucket}"))
            .arg(1),
        Command::new("HINCRBY")
            .arg(key)
            .arg(format!("sum_ms|{series}"))
            .arg(sample.duration_ms),
    ]
}

/// Adds a sample; a Redis failure only loses this sample.
pub async fn record<S: Services>(services: &S, sample: &Sample) {
    let _ = services
        .redis()
        .pipeline(commands(&hash_key(services), sample))
        .await;
}

/// An integer-valued hash as `(field, value)` pairs.
async fn integer_hash<S: Services>(
    services: &S,
    key: String,
) -> Result<Vec<(String, i64)>, RedisError> {
    let reply = services
        .redis()
        .exec(Command::new("HGETALL").arg(key))
        .await?;
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
    integer_hash(services, key).await
}

/// Reads every sample recorded so far.
///
/// # Errors
/// When Redis is unreachable.
pub async fn read<S: Services>(services: &S) -> Result<Vec<(String, i64)>, RedisError> {
    integer_hash(services, hash_key(services)).await
}

/// Reads the indexer's metrics hash (see `indexer_cron::metrics`).
///
/// # Errors
/// When Redis is unreachable.
pub async fn read_indexer<S: Services>(services: &S) -> Result<Vec<(String, i64)>, RedisError> {
    integer_hash(
        services,
        indexer_cron::metrics::key(&services.config().redis.key_prefix),
    )
    .await
}

/// Renders the indexer gauges and counters.
pub fn render_indexer(fields: &[(String, i64)]) -> String {
    let value = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, v: Option<i64>| {
        if let Some(v) = v {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
    };
    let (last, head) = (value("last_block"), value("chain_head"));
    metric("indexer_last_block", "gauge", "Last block indexed.", last);
    metric(
        "indexer_chain_head",
        "gauge",
        "Chain head seen by the last tick.",
        head,
    );
    metric(
        "indexer_chain_lag",
        "gauge",
        "Blocks between the head and the last indexed block.",
        head.zip(last).map(|(h, l)| (h - l).max(0)),
    );
    metric(
        "indexer_logs_indexed_total",
        "counter",
        "Logs written by the indexer.",
        value("logs_indexed_total"),
    );
    metric(
        "indexer_reorgs_total",
        "counter",
        "Reorgs rolled back.",
        value("reorgs_total"),
    );
    metric(
        "indexer_deep_reorgs_total",
        "counter",
        "Reorgs deeper than the window (indexing stopped).",
        value("deep_reorgs_total"),
    );
    metric(
        "events_decode_errors_total",
        "counter",
        "Logs kept raw because they did not decode.",
        value("decode_errors_total"),
    );
    metric(
        "indexer_batch_blocks",
        "gauge",
        "Current eth_getLogs range in blocks.",
        value("batch_blocks"),
    );
    metric(
        "indexer_tick_duration_ms",
        "gauge",
        "Duration of the last tick.",
        value("tick_duration_ms"),
    );
    metric(
        "indexer_ticks_total",
        "counter",
        "Ticks that ran.",
        value("ticks_total"),
    );
    out
}

#[derive(Default)]
struct Series {
    buckets: Vec<i64>,
    sum_ms: i64,
}

/// Renders the hash fields as Prometheus text exposition format.
pub fn render(fields: &[(String, i64)]) -> String {
    let mut requests: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    let mut latency: BTreeMap<(String, String), Series> = BTreeMap::new();
    for (field, value) in fields {
        let parts: Vec<&str> = field.split('|').collect();
        match parts.as_slice() {
            ["req", method, route, status] => {
                requests.insert(
                    (method.to_string(), route.to_string(), status.to_string()),
                    *value,
                );
            }
            ["bucket", method, route, index] => {
                let Ok(index) = index.parse::<usize>() else {
                    continue;
                };
                if index > BUCKETS_MS.len() {
                    continue;
                }
                let series = latency
                    .entry((method.to_string(), route.to_string()))
                    .or_default();
                series.buckets.resize(BUCKETS_MS.len() + 1, 0);
                series.buckets[index] += value;
            }
            ["sum_ms", method, route] => {
                latency
                    .entry((method.to_string(), route.to_string()))
                    .or_default()
                    .sum_ms = *value;
            }
            _ => {}
        }
    }
    let mut out = String::new();
    out.push_str(
        "# HELP http_requests_total HTTP requests served, by method, route template and status.\n",
    );
    out.push_str("# TYPE http_requests_total counter\n");
    for ((method, route, status), count) in &requests {
        let _ = writeln!(
            out,
            "http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
        );
    }
    out.push_str(
        "# HELP http_request_duration_seconds Time from request to response inside the function.\n",
    );
    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    for ((method, route), series) in &latency {
        let labels = format!("method=\"{method}\",route=\"{route}\"");
        write_histogram(
            &mut out,
            "http_request_duration_seconds",
            &labels,
            &series.buckets,
            series.sum_ms,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(samples: &[Sample]) -> Vec<(String, i64)> {
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for sample in samples {
            for command in commands("k", sample) {
                let parts = command.parts();
                *totals.entry(parts[2].clone()).or_default() +=
                    parts[3].parse::<i64>().expect("int");
            }
        }
        totals.into_iter().collect()
    }

    #[test]
    fn renders_counts_and_a_cumulative_histogram() {
        let sample = |status, duration_ms| Sample {
            method: "GET",
            route: "/health",
            status,
            duration_ms,
        };
        let text = render(&fields_of(&[
            sample(200, 3),
            sample(200, 7),
            sample(503, 20_000),
        ]));
        assert!(
            text.contains(
                "http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 2\n"
            )
        );
        assert!(
            text.contains(
                "http_requests_total{method=\"GET\",route=\"/health\",status=\"503\"} 1\n"
            )
        );
        assert!(text.contains("http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"0.005\"} 1\n"));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"0.01\"} 2\n"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"10\"} 2\n"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"+Inf\"} 3\n"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_sum{method=\"GET\",route=\"/health\"} 20.01\n"
        ));
        assert!(
            text.contains(
                "http_request_duration_seconds_count{method=\"GET\",route=\"/health\"} 3\n"
            )
        );
    }

    #[test]
    fn ignores_foreign_fields() {
        let text = render(&[("junk".into(), 1), ("bucket|GET|/x|99".into(), 5)]);
        assert!(!text.contains("/x"));
    }
}
