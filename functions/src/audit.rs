//! The audit trail: every admin/organizer write adds one row, in the same atomic batch as the
//! write itself, so there is no write without its audit entry and no entry without its write.

use shared::domain::WalletAddress;
use shared::sql::Statement;

/// The `INSERT` of one audit entry.
pub fn entry(
    actor: &WalletAddress,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
    request_id: &str,
    now_ms: u64,
) -> Statement {
    Statement::new(
        "INSERT INTO audit_log (actor, action, target, detail, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(actor.checksummed())
    .bind(action)
    .bind(target)
    .bind(detail.to_string())
    .bind(request_id)
    .bind(now_ms as i64)
}

/// Like [`entry`], but written only if the statement just before it in the same batch changed
/// a row (`changes()`), so a no-op write (revoking a revoked key, demoting an admin) leaves no
/// audit entry behind.
pub fn entry_if_changed(
    actor: &WalletAddress,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
    request_id: &str,
    now_ms: u64,
) -> Statement {
    let mut statement = entry(actor, action, target, detail, request_id, now_ms);
    statement.sql = "INSERT INTO audit_log (actor, action, target, detail, request_id, created_at)
                     SELECT ?, ?, ?, ?, ?, ? WHERE changes() > 0"
        .to_owned();
    statement
}
