//! Check-in metrics, kept in one Redis hash like the HTTP ones (global across instances):
//! scans by result, verify conflicts, and the latency from code to decision. A live scan is
//! counted inside the script call that answers it (`scan_begin.lua`, or `scan_settle.lua`
//! after the response of an admission), an upload's scans after the response
//! ([`crate::services::Services::defer`]): never a round trip of its own.

use crate::metrics::{BUCKETS_MS, bucket_index, write_histogram};
use crate::services::Services;
use shared::checkin::ScanResult;
use shared::redis::Command;
use std::fmt::Write as _;

/// The hash key.
pub fn key<S: Services>(services: &S) -> String {
    format!("{}metrics:checkin", services.config().redis.key_prefix)
}

/// The commands that count one scan that took `elapsed_ms` to decide.
pub fn commands<S: Services>(services: &S, result: ScanResult, elapsed_ms: u64) -> Vec<Command> {
    let key = key(services);
    let bucket = bucket_index(elapsed_ms);
    let mut commands = vec![
        Command::new("HINCRBY")
            .arg(&key)
            .arg(format!("scan|{result}"))
            .arg(1),
        Command::new("HINCRBY")
            .arg(&key)
            .arg(format!("verify_bucket|{bucket}"))
            .arg(1),
        Command::new("HINCRBY")
            .arg(&key)
            .arg("verify_sum_ms")
            .arg(elapsed_ms),
    ];
    if result == ScanResult::AlreadyRedeemed {
        commands.push(Command::new("HINCRBY").arg(&key).arg("conflicts").arg(1));
    }
    commands
}

/// [`BUCKETS_MS`] as the scripts read them (`5,10,25,…`): `scan_begin.lua` counts the
/// answers it gives itself, in the same fields as [`commands`].
pub fn bucket_bounds() -> String {
    BUCKETS_MS
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Counts one scan after the response (see [`commands`]).
pub fn defer<S: Services>(services: &S, result: ScanResult, elapsed_ms: u64) {
    for command in commands(services, result, elapsed_ms) {
        services.defer(command);
    }
}

/// The command that counts an offline scan that displaced a later admission of the same
/// ticket.
pub fn conflict<S: Services>(services: &S) -> Command {
    Command::new("HINCRBY")
        .arg(key(services))
        .arg("conflicts")
        .arg(1)
}

/// Renders the hash as Prometheus text.
pub fn render(fields: &[(String, i64)]) -> String {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(f, _)| f == name)
            .map_or(0, |(_, v)| *v)
    };
    let mut out = String::new();
    out.push_str("# HELP ticket_scans_total Ticket scans answered, by result.\n");
    out.push_str("# TYPE ticket_scans_total counter\n");
    for result in ScanResult::ALL {
        let _ = writeln!(
            out,
            "ticket_scans_total{{result=\"{result}\"}} {}",
            value(&format!("scan|{result}"))
        );
    }
    out.push_str("# HELP ticket_verify_conflicts_total Scans of a ticket that was already admitted (duplicates, and offline scans displaced by an earlier one).\n");
    out.push_str("# TYPE ticket_verify_conflicts_total counter\n");
    let _ = writeln!(out, "ticket_verify_conflicts_total {}", value("conflicts"));
    out.push_str("# HELP qr_verify_latency_seconds Time from receiving a code to a durable decision (verify, lock, write).\n");
    out.push_str("# TYPE qr_verify_latency_seconds histogram\n");
    let buckets: Vec<i64> = (0..=BUCKETS_MS.len())
        .map(|i| value(&format!("verify_bucket|{i}")))
        .collect();
    write_histogram(
        &mut out,
        "qr_verify_latency_seconds",
        "",
        &buckets,
        value("verify_sum_ms"),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_a_cumulative_histogram() {
        let fields = vec![
            ("scan|ok".to_owned(), 1),
            ("scan|already_redeemed".to_owned(), 499),
            ("conflicts".to_owned(), 499),
            ("verify_bucket|0".to_owned(), 400),
            ("verify_bucket|2".to_owned(), 100),
            ("verify_sum_ms".to_owned(), 2500),
        ];
        let text = render(&fields);
        assert!(text.contains("ticket_scans_total{result=\"ok\"} 1\n"));
        assert!(text.contains("ticket_scans_total{result=\"already_redeemed\"} 499\n"));
        assert!(text.contains("ticket_scans_total{result=\"revoked\"} 0\n"));
        assert!(text.contains("ticket_verify_conflicts_total 499\n"));
        assert!(text.contains("qr_verify_latency_seconds_bucket{le=\"0.01\"} 400\n"));
        assert!(text.contains("qr_verify_latency_seconds_bucket{le=\"0.025\"} 500\n"));
        assert!(text.contains("qr_verify_latency_seconds_bucket{le=\"+Inf\"} 500\n"));
        assert!(text.contains("qr_verify_latency_seconds_sum 2.5\n"));
    }
}
