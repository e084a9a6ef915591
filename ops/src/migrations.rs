//! Loading the numbered SQL files of `migrations/` and applying them to any libSQL URL over
//! Hrana (the same client the edge functions use).

use crate::http::ReqwestHttp;
use shared::hrana::HranaClient;
use shared::migrate::{self, MigrateError, Migration, Report};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Reads every `NNNN_name.sql` file of `dir`, in version order.
///
/// # Errors
/// When the folder cannot be read or a file name is malformed.
pub fn load_dir(dir: &Path) -> Result<Vec<Migration>, MigrateError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| MigrateError::BadFile(format!("{}: {e}", dir.display())))?;
    let mut migrations = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| MigrateError::BadFile(e.to_string()))?
            .path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.ends_with(".sql") {
            continue;
        }
        let sql = std::fs::read_to_string(&path)
            .map_err(|e| MigrateError::BadFile(format!("{name}: {e}")))?;
        migrations.push(Migration::from_file(name, sql)?);
    }
    migrations.sort_by_key(|m| m.version);
    Ok(migrations)
}

/// Applies the migrations of `dir` to the database at `url`.
///
/// # Errors
/// See [`MigrateError`].
pub async fn apply_dir(
    dir: &Path,
    url: &str,
    auth_token: Option<&str>,
) -> Result<Report, MigrateError> {
    let migrations = load_dir(dir)?;
    let http = ReqwestHttp::new(Duration::from_secs(30))
        .map_err(|e| MigrateError::BadFile(e.to_string()))?;
    let client = HranaClient::new(http, url, auth_token);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    migrate::apply(&client, &migrations, now_ms).await
}
