//! Cost counters of the fronts: what the requests they served would have been
//! billed by the managed services they stand in for. Upstash bills commands;
//! Turso bills rows read and rows written (and counts statements and
//! requests).
//!
//! Each front answers `GET /__stats` with its counts as JSON and
//! `POST /__stats/reset` with the counts it zeroed, behind the same bearer
//! token as the rest of that front; those two requests are not counted
//! themselves. Tests use them to assert the exact bill of one API request
//! ("a counted budget beats a good intention").
//!
//! The counters are plain atomics because the fronts serve requests
//! concurrently: a lost increment would make an exact-count test flaky. A
//! reset swaps each counter with zero on its own, so an increment that races
//! with a reset lands either in the answer or in the next period, never
//! nowhere; the counters of one answer are not a snapshot of one instant,
//! which only matters while requests are in flight.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Path of the read-only stats endpoint (`GET`) of both fronts.
pub const STATS_PATH: &str = "/__stats";
/// Path of the read-and-zero stats endpoint (`POST`) of both fronts.
pub const STATS_RESET_PATH: &str = "/__stats/reset";

/// The counts of the Upstash REST front, as `/__stats` answers them:
/// `{"requests":3,"commands":7}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpstashCosts {
    /// Authorized HTTP requests to a command endpoint (`/`, the path form,
    /// `/pipeline`, `/multi-exec`).
    pub requests: u64,
    /// Commands as Upstash bills them: one per command Redis answered (with a
    /// reply or an error reply); each command of a pipeline or transaction
    /// counts one, the MULTI/EXEC wrapper none, and `EVAL`/`EVALSHA` one
    /// whatever the script does.
    pub commands: u64,
}

/// What the Upstash front's `/__stats` answers: its [`UpstashCosts`] and, next to them,
/// how many commands it refused because Upstash would not run them (see the
/// `upstash::policy` module): `{"requests":3,"commands":7,"refused":1}`.
///
/// A separate struct, so [`UpstashCosts`] stays what Upstash bills; a client that reads
/// the answer as [`UpstashCosts`] ignores `refused`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpstashStats {
    /// The billed counts.
    #[serde(flatten)]
    pub(crate) costs: UpstashCosts,
    /// Commands refused before reaching Redis: a command or option newer than Redis
    /// 6.2, one Upstash's REST API does not serve, or a script using either. Each
    /// refused command of a pipeline counts one; a transaction refused as a whole
    /// counts the command that refused it. Refused commands are requests, never
    /// billed commands.
    pub(crate) refused: u64,
}

/// The counts of the Hrana front, as `/__stats` answers them:
/// `{"requests":2,"statements":5,"rowsRead":9,"rowsWritten":3}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HranaCosts {
    /// Authorized HTTP pipeline requests (`POST /v2|v3/pipeline`).
    pub requests: u64,
    /// SQL statements the engine ran (see the `hrana::exec` module for what
    /// counts).
    pub statements: u64,
    /// Rows read, as libSQL's engine counts them per statement
    /// (`LIBSQL_STMTSTATUS_ROWS_READ`): every row a scan visits, not only the
    /// rows returned.
    pub rows_read: u64,
    /// Rows written, as libSQL's engine counts them per statement
    /// (`LIBSQL_STMTSTATUS_ROWS_WRITTEN`).
    pub rows_written: u64,
}

/// One atomically updated count.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    /// Add `n`. Relaxed ordering: the counts guard no other memory.
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// The count so far, replaced by zero in the same atomic step.
    fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }
}

/// The live counters behind [`UpstashCosts`].
#[derive(Debug, Default)]
pub(crate) struct UpstashMeter {
    pub(crate) requests: Counter,
    pub(crate) commands: Counter,
    /// Commands refused by the front's policy (see [`UpstashStats::refused`]).
    pub(crate) refused: Counter,
}

impl UpstashMeter {
    /// The counts so far.
    pub(crate) fn read(&self) -> UpstashCosts {
        UpstashCosts {
            requests: self.requests.get(),
            commands: self.commands.get(),
        }
    }

    /// The counts so far, each zeroed as it is read.
    pub(crate) fn take(&self) -> UpstashCosts {
        UpstashCosts {
            requests: self.requests.take(),
            commands: self.commands.take(),
        }
    }
}

impl UpstashMeter {
    /// The costs and the refusals so far.
    pub(crate) fn read_stats(&self) -> UpstashStats {
        UpstashStats {
            costs: self.read(),
            refused: self.refused.get(),
        }
    }

    /// The costs and the refusals so far, each zeroed as it is read.
    pub(crate) fn take_stats(&self) -> UpstashStats {
        UpstashStats {
            costs: self.take(),
            refused: self.refused.take(),
        }
    }
}

/// The live counters behind [`HranaCosts`].
#[derive(Debug, Default)]
pub(crate) struct HranaMeter {
    pub(crate) requests: Counter,
    statements: Counter,
    rows_read: Counter,
    rows_written: Counter,
}

impl HranaMeter {
    /// Charge one statement the engine ran, with the rows it read and wrote.
    pub(crate) fn statement(&self, rows_read: u64, rows_written: u64) {
        self.statements.add(1);
        self.rows_read.add(rows_read);
        self.rows_written.add(rows_written);
    }

    /// The counts so far.
    pub(crate) fn read(&self) -> HranaCosts {
        HranaCosts {
            requests: self.requests.get(),
            statements: self.statements.get(),
            rows_read: self.rows_read.get(),
            rows_written: self.rows_written.get(),
        }
    }

    /// The counts so far, each zeroed as it is read.
    pub(crate) fn take(&self) -> HranaCosts {
        HranaCosts {
            requests: self.requests.take(),
            statements: self.statements.take(),
            rows_read: self.rows_read.take(),
            rows_written: self.rows_written.take(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_serialize_in_camel_case() {
        let hrana = HranaCosts {
            requests: 2,
            statements: 5,
            rows_read: 9,
            rows_written: 3,
        };
        assert_eq!(
            serde_json::to_value(hrana).ok(),
            Some(serde_json::json!({"requests":2,"statements":5,"rowsRead":9,"rowsWritten":3}))
        );
        let upstash = UpstashCosts {
            requests: 3,
            commands: 7,
        };
        assert_eq!(
            serde_json::to_value(upstash).ok(),
            Some(serde_json::json!({"requests":3,"commands":7}))
        );
    }

    #[test]
    fn upstash_stats_add_refused_next_to_the_costs() {
        let meter = UpstashMeter::default();
        meter.requests.add(2);
        meter.commands.add(1);
        meter.refused.add(1);
        assert_eq!(
            serde_json::to_value(meter.take_stats()).ok(),
            Some(serde_json::json!({"requests":2,"commands":1,"refused":1}))
        );
        assert_eq!(meter.read_stats(), UpstashStats::default());
    }

    #[test]
    fn take_answers_the_counts_and_zeroes_them() {
        let meter = HranaMeter::default();
        meter.requests.add(1);
        meter.statement(4, 1);
        meter.statement(0, 2);
        let before = meter.take();
        assert_eq!(
            before,
            HranaCosts {
                requests: 1,
                statements: 2,
                rows_read: 4,
                rows_written: 3
            }
        );
        assert_eq!(meter.read(), HranaCosts::default());
    }
}
