//! Per-IP and per-wallet rate limits: token buckets in one Lua call (the gate's, `scripts/gate_lib.lua`,
//! with no revocation keys), one round trip per request, configured per route group. Hot routes
//! run the same buckets inside their own script ([`crate::gate`]).
//!
//! When Redis cannot be asked, each group does as configured (`RATE_LIMIT_ON_REDIS_ERROR`,
//! see [`crate::redis_errors`]): `auth` and `write` refuse with 503, `read` and `scanner` go on
//! unlimited; either way the error is logged and counted.

use crate::extract::jwt_codec;
use crate::gate;
use crate::http::{Request, Response};
use crate::keys;
use crate::redis_errors;
use crate::router::RateGroup;
use crate::services::Services;
use shared::config::RateLimit;
use shared::error::Error;
use shared::ports::{Clock, Redis};
use shared::redis::Value;

/// The limiter's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: i64,
    pub retry_after_ms: i64,
}

impl Decision {
    /// The gate's frame of a reply (`{'GATE', allowed, remaining, retry ms, …}`) as the
    /// decision of a bucket of size `limit`; `None` when a number is missing.
    pub fn from_frame(parts: &[Value], limit: u32) -> Option<Decision> {
        let number = |i: usize| parts.get(i).and_then(Value::as_i64);
        Some(Decision {
            allowed: number(1)? == 1,
            limit,
            remaining: number(2)?,
            retry_after_ms: number(3)?,
        })
    }

    /// Adds `X-RateLimit-*` (and `Retry-After` when refused) to a response.
    pub fn decorate(&self, response: &mut Response) {
        response
            .headers
            .set("x-ratelimit-limit", self.limit.to_string());
        response
            .headers
            .set("x-ratelimit-remaining", self.remaining.max(0).to_string());
        if !self.allowed {
            let secs = self.retry_after_secs();
            response.headers.set("retry-after", secs.to_string());
            response.headers.set("x-ratelimit-reset", secs.to_string());
        }
    }

    /// Whole seconds to wait, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        u64::try_from((self.retry_after_ms + 999) / 1000)
            .unwrap_or(1)
            .max(1)
    }

    /// The 429 error for a refused request.
    pub fn error(&self) -> Error {
        Error::RateLimited {
            retry_after_secs: self.retry_after_secs(),
        }
    }
}

pub fn limit_of<S: Services>(services: &S, group: RateGroup) -> Option<RateLimit> {
    let limits = &services.config().rate_limits;
    match group {
        RateGroup::None => None,
        RateGroup::Auth => Some(limits.auth),
        RateGroup::Read => Some(limits.read),
        RateGroup::Write => Some(limits.write),
        RateGroup::Scanner => Some(limits.scanner),
    }
}

/// The client's IP as the host shell saw it. `None` (no usable address): the request gets no
/// IP bucket, never a shared one that any client could drain for all (see [`crate::client_ip`]).
pub fn client_ip(request: &Request) -> Option<&str> {
    request.client_ip.as_deref()
}

/// The wallet of a valid bearer token, checked without Redis (revocation is the handler's
/// job); an invalid token simply gets no wallet bucket.
fn token_wallet<S: Services>(services: &S, request: &Request) -> Option<String> {
    let token = crate::extract::bearer_token(request)?;
    let now = services.clock().now_ms() as i64;
    jwt_codec(services)
        .verify(token, now)
        .ok()
        .map(|t| t.wallet.checksummed())
}

/// Takes a token for this request from its IP bucket and, when authenticated, its wallet
/// bucket. `None`: not limited (route group without limits, or Redis unavailable and the
/// group fails open).
///
/// # Errors
/// 503 `REDIS_UNAVAILABLE` when Redis cannot be asked and the group fails closed.
pub async fn check<S: Services>(
    services: &S,
    group: RateGroup,
    request: &Request,
) -> Result<Option<Decision>, Error> {
    let Some(limit) = limit_of(services, group) else {
        return Ok(None);
    };
    let mut buckets: Vec<String> = client_ip(request)
        .map(|ip| keys::rate_bucket(services, group.name(), "ip", ip))
        .into_iter()
        .collect();
    if let Some(wallet) = token_wallet(services, request) {
        buckets.push(keys::rate_bucket(services, group.name(), "wallet", &wallet));
    }
    if buckets.is_empty() {
        // No address and no wallet: nothing to key a bucket on (see `client_ip`).
        return Ok(None);
    }
    let keys: Vec<&str> = buckets.iter().map(String::as_str).collect();
    // The same token buckets as the gated routes: the gate's Lua with no revocation keys.
    let spec = gate::spec(buckets.len(), 0, limit.rate_per_sec / 1000.0, limit.burst);
    let reply = match services
        .redis()
        .eval(&gate::GATE_ONLY, &keys, &[&spec])
        .await
    {
        Ok(reply) => reply,
        Err(e) => {
            redis_errors::ride_over(services, redis_errors::Path::RateLimit, group, &e)?;
            return Ok(None);
        }
    };
    decision(&reply, limit.burst)
        .map(Some)
        .ok_or_else(|| Error::Internal(format!("the rate limiter answered {reply:?}")))
}

/// `{'GATE', allowed, remaining, retry ms, verdict, …}` as a decision.
fn decision(reply: &Value, limit: u32) -> Option<Decision> {
    let Value::Array(parts) = reply else {
        return None;
    };
    Decision::from_frame(parts, limit)
}
