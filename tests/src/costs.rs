//! What requests to the API cost on the data services, as the local fronts count it: Upstash
//! requests and commands, Hrana requests and statements, and the rows libSQL's engine read and
//! wrote (what Turso bills). Read with [`Stack::stats`](crate::Stack::stats), zero with
//! [`Stack::reset_stats`](crate::Stack::reset_stats); the fronts serve the counts at
//! `GET /__stats` and `POST /__stats/reset`, which are not counted themselves.
//!
//! A test that pins a route's exact bill keeps the "every hop is a bill" budget honest:
//! `let before = stack.stats().await; …; let spent = stack.stats().await - before;`.

use std::ops::{Add, Sub};

use ops::front::{HranaCosts, STATS_PATH, STATS_RESET_PATH, UpstashCosts};

use crate::Stack;

/// The counts of both fronts at one moment (or, after [`Costs::delta`], between two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Costs {
    /// Authorized HTTP requests to the Upstash front's command endpoints.
    pub redis_requests: u64,
    /// Redis commands as Upstash bills them (a pipeline or transaction counts its commands,
    /// `EVAL`/`EVALSHA` one each).
    pub redis_commands: u64,
    /// Authorized Hrana pipeline requests.
    pub sql_requests: u64,
    /// SQL statements the engine ran (batch steps that ran, `BEGIN`/`COMMIT` included).
    pub sql_statements: u64,
    /// Rows read, as libSQL's engine counts them (every row a scan visits).
    pub rows_read: u64,
    /// Rows written, as libSQL's engine counts them.
    pub rows_written: u64,
}

impl Costs {
    /// Both fronts' counts as one value.
    pub fn from_fronts(redis: UpstashCosts, sql: HranaCosts) -> Costs {
        Costs {
            redis_requests: redis.requests,
            redis_commands: redis.commands,
            sql_requests: sql.requests,
            sql_statements: sql.statements,
            rows_read: sql.rows_read,
            rows_written: sql.rows_written,
        }
    }

    /// What was spent between `before` and `self` (a later reading).
    ///
    /// # Panics
    /// If a count went down, i.e. the counters were reset in between: the difference would
    /// mean nothing.
    #[track_caller]
    pub fn delta(self, before: Costs) -> Costs {
        let minus = |later: u64, earlier: u64| {
            later.checked_sub(earlier).unwrap_or_else(|| {
                panic!("costs went down from {before:?} to {self:?}: reset in between?")
            })
        };
        Costs {
            redis_requests: minus(self.redis_requests, before.redis_requests),
            redis_commands: minus(self.redis_commands, before.redis_commands),
            sql_requests: minus(self.sql_requests, before.sql_requests),
            sql_statements: minus(self.sql_statements, before.sql_statements),
            rows_read: minus(self.rows_read, before.rows_read),
            rows_written: minus(self.rows_written, before.rows_written),
        }
    }
}

/// The sum of two costs (e.g. of several steps).
impl Add for Costs {
    type Output = Costs;

    fn add(self, other: Costs) -> Costs {
        Costs {
            redis_requests: self.redis_requests + other.redis_requests,
            redis_commands: self.redis_commands + other.redis_commands,
            sql_requests: self.sql_requests + other.sql_requests,
            sql_statements: self.sql_statements + other.sql_statements,
            rows_read: self.rows_read + other.rows_read,
            rows_written: self.rows_written + other.rows_written,
        }
    }
}

/// `later - earlier` is [`Costs::delta`].
impl Sub for Costs {
    type Output = Costs;

    #[track_caller]
    fn sub(self, before: Costs) -> Costs {
        self.delta(before)
    }
}

/// Reads both fronts' counters, zeroing them when `reset` (the answer is then the counts
/// before the reset).
pub(crate) async fn fetch(stack: &Stack, reset: bool) -> Costs {
    let (redis_token, sql_token) = stack.tokens();
    let redis = front_stats(&stack.upstash_url, redis_token, reset).await;
    let sql = front_stats(&stack.libsql_url, sql_token, reset).await;
    Costs::from_fronts(
        serde_json::from_value(redis).expect("the Upstash front's counts"),
        serde_json::from_value(sql).expect("the Hrana front's counts"),
    )
}

/// One front's answer at `/__stats` (or `/__stats/reset`) as JSON.
async fn front_stats(base_url: &str, token: &str, reset: bool) -> serde_json::Value {
    let client = reqwest::Client::new();
    let request = if reset {
        client.post(format!("{base_url}{STATS_RESET_PATH}"))
    } else {
        client.get(format!("{base_url}{STATS_PATH}"))
    };
    let response = request
        .bearer_auth(token)
        .send()
        .await
        .expect("stats request sent");
    assert!(
        response.status().is_success(),
        "{base_url} answered the stats request with {}",
        response.status()
    );
    response.json().await.expect("stats as JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_subtracts_every_count() {
        let before = Costs {
            redis_requests: 1,
            redis_commands: 2,
            sql_requests: 3,
            sql_statements: 4,
            rows_read: 5,
            rows_written: 6,
        };
        let after = Costs {
            redis_requests: 2,
            redis_commands: 5,
            sql_requests: 3,
            sql_statements: 7,
            rows_read: 15,
            rows_written: 6,
        };
        assert_eq!(
            after - before,
            Costs {
                redis_requests: 1,
                redis_commands: 3,
                sql_requests: 0,
                sql_statements: 3,
                rows_read: 10,
                rows_written: 0,
            }
        );
        assert_eq!(after.delta(after), Costs::default());
        assert_eq!((after - before) + before, after);
    }

    #[test]
    #[should_panic(expected = "reset in between")]
    fn delta_refuses_counts_that_went_down() {
        let _ = Costs::default()
            - Costs {
                rows_read: 1,
                ..Costs::default()
            };
    }
}
