//! Bootstrapping admins from the command line: the first admin cannot be granted through the
//! API (only admins grant roles), so operators run `otctl grant-admin`.

use crate::http::ReqwestHttp;
use shared::domain::WalletAddress;
use shared::hrana::HranaClient;
use shared::ports::Sql;
use shared::sql::Statement;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Upserts `address` with the admin role and an audit row, atomically. The grant is the
/// operator's (`admin_from_list = 0`), so it outlives the address leaving `ADMIN_ADDRESSES`.
///
/// # Errors
/// A message for a bad address or a database failure.
pub async fn grant_admin(
    url: &str,
    auth_token: Option<&str>,
    address: &str,
) -> Result<WalletAddress, String> {
    let wallet = WalletAddress::parse(address).map_err(|e| format!("address {e}"))?;
    let http = ReqwestHttp::new(Duration::from_secs(30)).map_err(|e| e.to_string())?;
    let client = HranaClient::new(http, url, auth_token);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    client
        .batch_atomic(vec![
            Statement::new(
                "INSERT INTO users (wallet, role, admin_from_list, created_at) VALUES (?1, 'admin', 0, ?2)
                 ON CONFLICT (wallet) DO UPDATE SET role = 'admin', admin_from_list = 0",
            )
            .bind(wallet.checksummed())
            .bind(now),
            Statement::new(
                "INSERT INTO audit_log (actor, action, target, detail, request_id, created_at)
                 VALUES ('otctl', 'user.role.set', ?, '{\"role\":\"admin\"}', NULL, ?)",
            )
            .bind(wallet.checksummed())
            .bind(now),
        ])
        .await
        .map_err(|e| e.to_string())?;
    Ok(wallet)
}
