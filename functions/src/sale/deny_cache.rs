//! The deny list in Redis, so the waiting room's door decides in its one script call.
//!
//! libSQL is the truth: `PUT`/`DELETE /v1/admin/deny-list/{address}` commit there first, then
//! write the change through to the hash. After a Redis loss the hash lacks its `__loaded`
//! marker, the join script answers `NODENY`, and [`load`] fills it from libSQL. The fill only
//! adds entries, so a wallet denied while it runs stays denied; an un-deny racing a fill can
//! leave the wallet denied until the admin repeats it (the door fails closed).

use crate::keys;
use crate::services::Services;
use shared::error::Error;
use shared::ports::{Redis, Sql};
use shared::redis::Command;
use shared::sql::Statement;

/// The hash field that marks the hash as filled from libSQL.
pub const LOADED: &str = "__loaded";

/// Fills the hash from libSQL.
///
/// # Errors
/// 503 `LIBSQL_UNAVAILABLE` / `REDIS_UNAVAILABLE`.
pub async fn load<S: Services>(services: &S) -> Result<(), Error> {
    let rows = services
        .sql()
        .execute(Statement::new(
            "SELECT wallet, COALESCE(reason, '') AS reason FROM deny_list",
        ))
        .await?;
    let mut command = Command::new("HSET").arg(key(services)).arg(LOADED).arg(1);
    for row in rows.iter() {
        command = command
            .arg(row.get::<String>("wallet")?)
            .arg(row.get::<String>("reason")?);
    }
    services.redis().exec(command).await?;
    Ok(())
}

/// Writes one committed change through (`reason`: `None` lifts the denial).
///
/// # Errors
/// 503 `REDIS_UNAVAILABLE`: the change is saved in libSQL; retrying it makes it live.
pub async fn write<S: Services>(
    services: &S,
    wallet: &str,
    reason: Option<&str>,
) -> Result<(), Error> {
    let command = match reason {
        Some(reason) => Command::new("HSET")
            .arg(key(services))
            .arg(wallet)
            .arg(reason),
        None => Command::new("HDEL").arg(key(services)).arg(wallet),
    };
    services.redis().exec(command).await?;
    Ok(())
}

/// The hash's key.
pub fn key<S: Services>(services: &S) -> String {
    keys::deny_cache(&services.config().redis.key_prefix)
}
