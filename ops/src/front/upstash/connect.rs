//! The connection to the real Redis behind the front: one multiplexed connection
//! manager shared by every request (it reconnects on its own).

use std::time::Duration;

use redis::RedisError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::super::FrontError;

/// Connect to `url`, failing fast when Redis is not there at all.
///
/// # Errors
/// [`FrontError::Redis`] when Redis cannot be reached within a few seconds.
pub(super) async fn connect(url: &str) -> Result<ConnectionManager, FrontError> {
    let redis_err = |source| FrontError::Redis {
        url: url.to_owned(),
        source,
    };
    let client = redis::Client::open(url).map_err(redis_err)?;
    let timed_out = || {
        redis_err(RedisError::from((
            redis::ErrorKind::IoError,
            "timed out connecting",
        )))
    };
    // Fail fast when Redis is not there at all (the manager below would retry
    // with back-off first).
    let mut probe = tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| timed_out())?
    .map_err(redis_err)?;
    redis::cmd("PING")
        .query_async::<()>(&mut probe)
        .await
        .map_err(redis_err)?;
    drop(probe);
    let manager_cfg = ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(5))
        .set_response_timeout(Duration::from_secs(5))
        .set_number_of_retries(2);
    tokio::time::timeout(
        Duration::from_secs(10),
        ConnectionManager::new_with_config(client, manager_cfg),
    )
    .await
    .map_err(|_| timed_out())?
    .map_err(redis_err)
}
