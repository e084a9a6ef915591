//! The pause switch: `POST /v1/admin/sales/pause` and `/resume` (everything, or one event)
//! and `GET /v1/admin/sales/status`. While paused, joins, holds and orders get 503
//! `SALES_PAUSED` and on-chain deposits wait unapplied; resuming applies them in chain order.
//! Every switch that changes something is audited in the same batch.

use crate::audit;
use crate::call::Call;
use crate::extract::{authenticate, json_body_or_empty};
use crate::http::Response;
use crate::payments;
use crate::services::Services;
use serde::Deserialize;
use serde_json::json;
use shared::domain::{EventId, Role};
use shared::error::Error;
use shared::ports::{Clock, Sql};
use shared::sql::Statement;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SwitchInput {
    /// Absent: every sale.
    event_id: Option<String>,
    reason: Option<String>,
}

fn scope(input: &SwitchInput) -> Result<String, Error> {
    match &input.event_id {
        None => Ok("*".to_owned()),
        Some(raw) => EventId::parse(raw)
            .map(|id| id.as_str().to_owned())
            .map_err(|m| Error::invalid("eventId", m)),
    }
}

/// `POST /v1/admin/sales/pause`.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE`; 400 `VALIDATION_FAILED` (`eventId`).
pub async fn pause<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    caller.require(Role::Admin)?;
    let input: SwitchInput = json_body_or_empty(call.request)?;
    let scope = scope(&input)?;
    super::check_reason(input.reason.as_ref())?;
    let now = services.clock().now_ms();
    services
        .sql()
        .batch_atomic(vec![
            Statement::new(
                "INSERT OR IGNORE INTO sale_pauses (scope, paused_by, paused_at, reason) VALUES (?, ?, ?, ?)",
            )
            .bind(scope.as_str())
            .bind(caller.wallet.checksummed())
            .bind(now as i64)
            .bind(input.reason.clone()),
            audit::entry_if_changed(
                &caller.wallet,
                "sale.pause",
                &scope,
                &json!({ "reason": input.reason }),
                call.request_id,
                now,
            ),
        ])
        .await?;
    crate::sale::catalog::invalidate_scope(services, &scope).await?;
    status_response(services).await
}

/// `POST /v1/admin/sales/resume`: lifts the pause of the scope, then applies the deposits
/// that waited, oldest first.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE`; 400 `VALIDATION_FAILED` (`eventId`).
pub async fn resume<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    caller.require(Role::Admin)?;
    let input: SwitchInput = json_body_or_empty(call.request)?;
    let scope = scope(&input)?;
    let now = services.clock().now_ms();
    services
        .sql()
        .batch_atomic(vec![
            Statement::new("DELETE FROM sale_pauses WHERE scope = ?").bind(scope.as_str()),
            audit::entry_if_changed(
                &caller.wallet,
                "sale.resume",
                &scope,
                &json!({}),
                call.request_id,
                now,
            ),
        ])
        .await?;
    crate::sale::catalog::invalidate_scope(services, &scope).await?;
    let settled = payments::chain::settle_pending(services).await?;
    let mut response = status_response(services).await?;
    response
        .headers
        .set("x-deposits-applied", settled.to_string());
    Ok(response)
}

/// `GET /v1/admin/sales/status`.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE`.
pub async fn status<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    caller.require(Role::Admin)?;
    status_response(services).await
}

async fn status_response<S: Services>(services: &S) -> Result<Response, Error> {
    let sql = services.sql();
    let (pauses, pending) = futures::join!(
        sql.execute(Statement::new(
            "SELECT scope, paused_by, paused_at, reason FROM sale_pauses ORDER BY scope"
        )),
        sql.execute(Statement::new(
            "SELECT count(*) AS n FROM deposits d WHERE NOT EXISTS (SELECT 1 FROM chain_settlements s \
             WHERE s.block_number = d.block_number AND s.tx_hash = d.tx_hash AND s.log_index = d.log_index)"
        ))
    );
    let paused = pauses?
        .iter()
        .map(|row| {
            Ok(json!({
                "scope": row.get::<String>("scope")?,
                "pausedBy": row.get::<String>("paused_by")?,
                "pausedAt": row.get::<i64>("paused_at")?,
                "reason": row.get::<Option<String>>("reason")?,
            }))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let pending: i64 = pending?
        .row(0)
        .map(|r| r.get("n"))
        .transpose()?
        .unwrap_or(0);
    Ok(Response::json(
        200,
        &json!({
            "allPaused": paused.iter().any(|p| p["scope"] == "*"),
            "paused": paused,
            "pendingDeposits": pending,
        }),
    ))
}
