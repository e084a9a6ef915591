//! The single-writer lease: a Redis key set with NX and a TTL, released only by its owner, so
//! two overlapping ticks never index the same range and a crashed tick's lease expires.

use shared::ports::Redis;
use shared::redis::{Command, RedisError, Script, Value};
use std::sync::LazyLock;

static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    )
});

/// Takes the lease for `ttl_ms`; `false` when another tick holds it.
///
/// # Errors
/// When Redis is unreachable.
pub async fn acquire<R: Redis>(
    redis: &R,
    key: &str,
    owner: &str,
    ttl_ms: u64,
) -> Result<bool, RedisError> {
    let reply = redis
        .exec(
            Command::new("SET")
                .arg(key)
                .arg(owner)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms),
        )
        .await?;
    Ok(!matches!(reply, Value::Nil))
}

/// Releases the lease if we still own it.
pub async fn release<R: Redis>(redis: &R, key: &str, owner: &str) {
    let _ = redis.eval(&RELEASE, &[key], &[owner]).await;
}
