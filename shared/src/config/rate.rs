//! Rate limits per route group, and what each group does when Redis, which holds the buckets,
//! cannot be asked.

/// A token bucket: `rate` tokens a second, at most `burst` stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub rate_per_sec: f64,
    pub burst: u32,
}

impl RateLimit {
    /// The default of every route group: 10 req/s, burst 20.
    pub const DEFAULT: RateLimit = RateLimit {
        rate_per_sec: 10.0,
        burst: 20,
    };

    /// The default of scanner routes: 200 req/s, burst 1000 (a venue's doors behind one NAT).
    pub const SCANNER: RateLimit = RateLimit {
        rate_per_sec: 200.0,
        burst: 1_000,
    };

    /// Parses `<rate>:<burst>`, e.g. `10:20` or `0.5:3`.
    pub fn parse(s: &str) -> Option<RateLimit> {
        let (rate, burst) = s.split_once(':')?;
        let rate_per_sec: f64 = rate
            .trim()
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r > 0.0)?;
        let burst: u32 = burst.trim().parse().ok().filter(|b| *b > 0)?;
        Some(RateLimit {
            rate_per_sec,
            burst,
        })
    }
}

/// Rate limits per route group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    pub auth: RateLimit,
    pub read: RateLimit,
    pub write: RateLimit,
    /// Venue scanners: a whole door often shares one IP, so the bucket is much larger.
    pub scanner: RateLimit,
    /// What each group does when Redis cannot be asked.
    pub on_redis_error: RedisErrorPolicy,
}

/// What a route group does when its rate limiter cannot reach Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRedisError {
    /// Let the request through unlimited (its route may still work on libSQL alone).
    Open,
    /// Refuse it with 503 `REDIS_UNAVAILABLE`: an unlimited login or write path is an
    /// invitation to brute force and spam while Redis is down.
    Closed,
}

impl OnRedisError {
    fn parse(s: &str) -> Option<OnRedisError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Some(OnRedisError::Open),
            "closed" => Some(OnRedisError::Closed),
            _ => None,
        }
    }

    /// `open` or `closed`, as configured and as counted in the metric.
    pub fn as_str(self) -> &'static str {
        match self {
            OnRedisError::Open => "open",
            OnRedisError::Closed => "closed",
        }
    }
}

/// [`OnRedisError`] per route group (`RATE_LIMIT_ON_REDIS_ERROR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisErrorPolicy {
    pub auth: OnRedisError,
    pub read: OnRedisError,
    pub write: OnRedisError,
    pub scanner: OnRedisError,
}

impl RedisErrorPolicy {
    /// Closed for `auth` and `write`, open for `read` and `scanner` (a door keeps scanning on
    /// libSQL alone; a catalog read is harmless).
    pub const DEFAULT: RedisErrorPolicy = RedisErrorPolicy {
        auth: OnRedisError::Closed,
        read: OnRedisError::Open,
        write: OnRedisError::Closed,
        scanner: OnRedisError::Open,
    };

    /// Parses `open`, `closed` (every group), or `group=open|closed[,group=…]` over the
    /// defaults, e.g. `scanner=closed`.
    pub fn parse(s: &str) -> Option<RedisErrorPolicy> {
        if let Some(all) = OnRedisError::parse(s) {
            return Some(RedisErrorPolicy {
                auth: all,
                read: all,
                write: all,
                scanner: all,
            });
        }
        let mut policy = RedisErrorPolicy::DEFAULT;
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (group, value) = entry.split_once('=')?;
            let value = OnRedisError::parse(value)?;
            match group.trim().to_ascii_lowercase().as_str() {
                "auth" => policy.auth = value,
                "read" => policy.read = value,
                "write" => policy.write = value,
                "scanner" => policy.scanner = value,
                _ => return None,
            }
        }
        Some(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_error_policy_defaults_and_overrides() {
        let default = RedisErrorPolicy::DEFAULT;
        assert_eq!(
            (default.auth, default.write, default.read, default.scanner),
            (
                OnRedisError::Closed,
                OnRedisError::Closed,
                OnRedisError::Open,
                OnRedisError::Open
            )
        );
        let open = RedisErrorPolicy::parse("open").expect("valid");
        assert_eq!(open.auth, OnRedisError::Open);
        let mixed = RedisErrorPolicy::parse("scanner=closed, AUTH=open").expect("valid");
        assert_eq!(
            (mixed.auth, mixed.write, mixed.read, mixed.scanner),
            (
                OnRedisError::Open,
                OnRedisError::Closed,
                OnRedisError::Open,
                OnRedisError::Closed
            )
        );
        for bad in ["maybe", "scanner", "door=open", "read=shut"] {
            assert_eq!(RedisErrorPolicy::parse(bad), None, "{bad}");
        }
    }
}
