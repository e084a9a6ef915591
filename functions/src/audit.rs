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
