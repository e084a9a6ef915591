//! The deny list (admin): `PUT /v1/admin/deny-list/{address}` refuses a wallet at the waiting
//! room's door, `DELETE` lets it in again. Both are audited.

use crate::audit;
use crate::call::Call;
use crate::extract::{authenticate, json_body_or_empty};
use crate::http::Response;
use crate::services::Services;
use serde::Deserialize;
use serde_json::json;
use shared::domain::{Role, WalletAddress};
use shared::error::Error;
use shared::ports::{Clock, Sql};
use shared::sql::Statement;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DenyInput {
    reason: Option<String>,
}

fn address(call: &Call<'_>) -> Result<WalletAddress, Error> {
    WalletAddress::parse(call.params.get("address"))
        .map_err(|e| Error::invalid("address", format!("address {e}")))
}

/// `PUT /v1/admin/deny-list/{address}`.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE`; 400 `VALIDATION_FAILED`.
pub async fn put<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    caller.require(Role::Admin)?;
    let wallet = address(call)?;
    let input: DenyInput = json_body_or_empty(call.request)?;
    super::check_reason(input.reason.as_ref())?;
    let now = services.clock().now_ms();
    services
        .sql()
        .batch_atomic(vec![
            Statement::new(
                "INSERT INTO deny_list (wallet, reason, added_by, added_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (wallet) DO UPDATE SET reason = excluded.reason",
            )
            .bind(wallet.checksummed())
            .bind(input.reason.clone())
            .bind(caller.wallet.checksummed())
            .bind(now as i64),
            audit::entry(
                &caller.wallet,
                "sale.deny",
                &wallet.checksummed(),
                &json!({ "reason": input.reason }),
                call.request_id,
                now,
            ),
        ])
        .await?;
    let reason = input.reason.as_deref().unwrap_or_default();
    crate::sale::deny_cache::write(services, &wallet.checksummed(), Some(reason)).await?;
    Ok(Response::json(
        200,
        &json!({ "address": wallet, "denied": true, "reason": input.reason }),
    ))
}

/// `DELETE /v1/admin/deny-list/{address}`.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE`; 400 `VALIDATION_FAILED`.
pub async fn delete<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    caller.require(Role::Admin)?;
    let wallet = address(call)?;
    let now = services.clock().now_ms();
    services
        .sql()
        .batch_atomic(vec![
            Statement::new("DELETE FROM deny_list WHERE wallet = ?").bind(wallet.checksummed()),
            audit::entry_if_changed(
                &caller.wallet,
                "sale.undeny",
                &wallet.checksummed(),
                &json!({}),
                call.request_id,
                now,
            ),
        ])
        .await?;
    crate::sale::deny_cache::write(services, &wallet.checksummed(), None).await?;
    Ok(Response::json(
        200,
        &json!({ "address": wallet, "denied": false }),
    ))
}
