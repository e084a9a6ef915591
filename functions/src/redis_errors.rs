//! What a request does when Redis cannot be asked on a path that could go on without it: the
//! rate limiter of a route group, and the door's live scan (which then decides on libSQL).
//!
//! Each group's choice is configured (`RATE_LIMIT_ON_REDIS_ERROR`: closed for `auth` and
//! `write`, open for `read` and `scanner` by default). Either way the error is logged and
//! counted (`redis_errors_total{path,group,decision}` in `/metrics`), never swallowed: an
//! operator must see that limits are not being enforced.

use crate::metrics::pending;
use crate::router::RateGroup;
use crate::services::Services;
use shared::config::OnRedisError;
use shared::error::{Dependency, Error};
use std::fmt::Display;

/// Where the Redis error happened (the metric's `path` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// The rate limiter of a route that is not gated.
    RateLimit,
    /// The gate of a route whose own work needs no Redis (the QR route).
    Gate,
    /// A live scan falling back to libSQL.
    Scan,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::RateLimit => "rate_limit",
            Path::Gate => "gate",
            Path::Scan => "scan",
        }
    }
}

/// The configured choice of `group` (`None`: a group without limits, which is open).
pub fn policy<S: Services>(services: &S, group: RateGroup) -> OnRedisError {
    let policy = services.config().rate_limits.on_redis_error;
    match group {
        RateGroup::None => OnRedisError::Open,
        RateGroup::Auth => policy.auth,
        RateGroup::Read => policy.read,
        RateGroup::Write => policy.write,
        RateGroup::Scanner => policy.scanner,
    }
}

/// Logs and counts `error` on `path` for `group`, then lets the request go on (open) or
/// refuses it.
///
/// # Errors
/// 503 `REDIS_UNAVAILABLE` when the group fails closed.
pub fn ride_over<S: Services>(
    services: &S,
    path: Path,
    group: RateGroup,
    error: &impl Display,
) -> Result<(), Error> {
    let decision = policy(services, group);
    services.log_error(&format!(
        "redis error on {} ({}): {error}; request {}",
        path.name(),
        group.name(),
        match decision {
            OnRedisError::Open => "let through without a limit",
            OnRedisError::Closed => "refused",
        }
    ));
    pending::count(field(path, group, decision), 1);
    match decision {
        OnRedisError::Open => Ok(()),
        OnRedisError::Closed => Err(Error::Unavailable {
            dependency: Dependency::Redis,
            detail: format!("rate limiter of {}: {error}", group.name()),
        }),
    }
}

/// The metrics hash field of one counted error.
fn field(path: Path, group: RateGroup, decision: OnRedisError) -> String {
    format!(
        "redis_err|{}|{}|{}",
        path.name(),
        group.name(),
        decision.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeServices;

    #[test]
    fn auth_and_write_fail_closed_read_and_scanner_open_and_all_are_counted() {
        let services = FakeServices::up();
        let _ = pending::take();
        let refused = ride_over(&services, Path::RateLimit, RateGroup::Auth, &"down");
        assert!(matches!(
            refused,
            Err(Error::Unavailable {
                dependency: Dependency::Redis,
                ..
            })
        ));
        assert!(ride_over(&services, Path::RateLimit, RateGroup::Write, &"down").is_err());
        assert!(ride_over(&services, Path::RateLimit, RateGroup::Read, &"down").is_ok());
        assert!(ride_over(&services, Path::Scan, RateGroup::Scanner, &"down").is_ok());
        let batch = pending::take().expect("counted");
        let fields = batch.fields();
        assert_eq!(fields.get("redis_err|rate_limit|auth|closed"), Some(&1));
        assert_eq!(fields.get("redis_err|rate_limit|write|closed"), Some(&1));
        assert_eq!(fields.get("redis_err|rate_limit|read|open"), Some(&1));
        assert_eq!(fields.get("redis_err|scan|scanner|open"), Some(&1));
    }
}
