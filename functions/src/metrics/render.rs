//! Prometheus text for the HTTP and indexer metrics (summed fields in, exposition text out).

use super::{BUCKETS_MS, write_histogram};
use std::collections::BTreeMap;
use std::fmt::Write as _;

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
    let mut redis_errors: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    let mut drift = [("seats", 0), ("stock", 0)];
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
            ["drift", kind] => {
                if let Some(total) = drift.iter_mut().find(|(k, _)| k == kind) {
                    total.1 += value;
                }
            }
            ["redis_err", path, group, decision] => {
                redis_errors.insert(
                    (path.to_string(), group.to_string(), decision.to_string()),
                    *value,
                );
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
    // The limiter's series exist at 0 before the first error, so `increase()` in the alert
    // rules sees that first error (a series born at 1 has no earlier sample to rise from).
    for group in ["auth", "read", "write", "scanner"] {
        for decision in ["open", "closed"] {
            redis_errors
                .entry(("rate_limit".into(), group.into(), decision.into()))
                .or_default();
        }
    }
    out.push_str(
        "# HELP redis_errors_total Redis errors a request rode over (open) or refused on (closed), by path and route group.\n",
    );
    out.push_str("# TYPE redis_errors_total counter\n");
    for ((path, group, decision), count) in &redis_errors {
        let _ = writeln!(
            out,
            "redis_errors_total{{path=\"{path}\",group=\"{group}\",decision=\"{decision}\"}} {count}"
        );
    }
    out.push_str("# HELP inventory_drift_total Differences the reconcile found between Redis inventories and libSQL, by kind.\n");
    out.push_str("# TYPE inventory_drift_total counter\n");
    for (kind, count) in drift {
        let _ = writeln!(out, "inventory_drift_total{{kind=\"{kind}\"}} {count}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Sample, increments};

    fn fields_of(samples: &[Sample]) -> Vec<(String, i64)> {
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for sample in samples {
            for (field, by) in increments(sample) {
                *totals.entry(field).or_default() += by;
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

    #[test]
    fn renders_the_redis_errors_counter() {
        let text = render(&[("redis_err|rate_limit|auth|closed".into(), 4)]);
        assert!(text.contains(
            "redis_errors_total{path=\"rate_limit\",group=\"auth\",decision=\"closed\"} 4\n"
        ));
        assert!(text.contains(
            "redis_errors_total{path=\"rate_limit\",group=\"read\",decision=\"open\"} 0\n"
        ));
    }

    #[test]
    fn renders_the_drift_counter_from_zero() {
        let text = render(&[]);
        assert!(text.contains("inventory_drift_total{kind=\"seats\"} 0\n"));
        let text = render(&[("drift|stock".into(), 3)]);
        assert!(text.contains("inventory_drift_total{kind=\"stock\"} 3\n"));
    }
}
