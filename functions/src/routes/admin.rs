//! Administration: granting and revoking the organizer role (which revokes the wallet's
//! access tokens minted with another role at once, see `extract::session`), and reading the
//! audit trail.

use crate::audit;
use crate::call::Call;
use crate::extract::{Page, authenticate, json_body, session};
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use serde::Deserialize;
use serde_json::json;
use shared::domain::{Role, WalletAddress};
use shared::error::Error;
use shared::http::Method;
use shared::ports::{Clock, Sql};
use shared::sql::{SqlValue, Statement};

/// Dispatches the admin routes.
///
/// # Errors
/// See each handler.
pub async fn dispatch<S: Services>(
    services: &S,
    route: Route,
    call: &Call<'_>,
) -> Result<Response, Error> {
    match (route, call.method) {
        (Route::UserRole, Method::Put) => put_role(services, call).await,
        (Route::Audit, Method::Get) => audit_log(services, call).await,
        _ => Err(Error::MethodNotAllowed {
            allowed: route.methods().to_vec(),
        }),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: String,
}

async fn put_role<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    caller.require(Role::Admin)?;
    let wallet = WalletAddress::parse(call.params.get("address"))
        .map_err(|e| Error::invalid("address", format!("address {e}")))?;
    let body: RoleBody = json_body(call.request)?;
    let role = match Role::parse(&body.role) {
        Some(role @ (Role::User | Role::Organizer)) => role,
        Some(Role::Admin) => {
            return Err(Error::unprocessable(
                "ROLE_NOT_ASSIGNABLE",
                "admins are bootstrapped (ADMIN_ADDRESSES or otctl grant-admin), not granted here",
            ));
        }
        None => return Err(Error::invalid("role", "must be user or organizer")),
    };
    let now = services.clock().now_ms();
    let results = services
        .sql()
        .batch_atomic(vec![
            // An admin is never demoted through this route (the WHERE makes it a no-op).
            Statement::new(
                "INSERT INTO users (wallet, role, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (wallet) DO UPDATE SET role = excluded.role WHERE users.role <> 'admin'",
            )
            .bind(wallet.checksummed())
            .bind(role.as_str())
            .bind(now as i64),
            audit::entry_if_changed(&caller.wallet, "user.role.set", &wallet.checksummed(), &json!({"role": role}), call.request_id, now),
            Statement::new("SELECT role FROM users WHERE wallet = ?").bind(wallet.checksummed()),
        ])
        .await?;
    let stored = results
        .last()
        .and_then(|rows| rows.row(0))
        .map(|row| row.get::<String>("role"))
        .transpose()?
        .unwrap_or_default();
    if stored == "admin" {
        return Err(Error::unprocessable(
            "ROLE_NOT_ASSIGNABLE",
            "an admin's role cannot be changed here",
        ));
    }
    // libSQL holds the new role; now the wallet's live sessions refuse tokens minted with
    // another one, at once (a retry of this request finishes it if Redis failed here).
    session::role_changed_to(services, &wallet, role).await?;
    Ok(Response::json(
        200,
        &json!({"address": wallet, "role": stored}),
    ))
}

async fn audit_log<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    caller.require(Role::Admin)?;
    let page = Page::from_query(&call.query)?;
    let mut filters = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    if let Some(actor) = call.query.get("actor") {
        let actor = WalletAddress::parse(actor)
            .map_err(|e| Error::invalid("actor", format!("address {e}")))?;
        filters.push("actor = ?");
        args.push(actor.checksummed().into());
    }
    if let Some(action) = call.query.get("action") {
        filters.push("action = ?");
        args.push(action.into());
    }
    if let Some(target) = call.query.get("target") {
        filters.push("target = ?");
        args.push(target.into());
    }
    if let Some(from) = call.query.parse_opt::<i64>("from")? {
        filters.push("created_at >= ?");
        args.push(from.into());
    }
    if let Some(to) = call.query.parse_opt::<i64>("to")? {
        filters.push("created_at < ?");
        args.push(to.into());
    }
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", filters.join(" AND "))
    };
    let with_args = |sql: String, extra: &[SqlValue]| {
        args.iter()
            .chain(extra)
            .cloned()
            .fold(Statement::new(sql), Statement::bind)
    };
    let results = services
        .sql()
        .batch_atomic(vec![
            with_args(format!("SELECT count(*) AS total FROM audit_log{filter}"), &[]),
            with_args(
                format!("SELECT id, actor, action, target, detail, request_id, created_at FROM audit_log{filter} ORDER BY id DESC LIMIT ? OFFSET ?"),
                &[i64::from(page.page_size).into(), page.offset().into()],
            ),
        ])
        .await?;
    let total = results
        .first()
        .and_then(|r| r.row(0))
        .map(|r| r.get::<i64>("total"))
        .transpose()?
        .unwrap_or(0);
    let mut items = Vec::new();
    if let Some(rows) = results.get(1) {
        for row in rows.iter() {
            let detail: Option<String> = row.get("detail")?;
            items.push(json!({
                "id": row.get::<i64>("id")?,
                "actor": row.get::<String>("actor")?,
                "action": row.get::<String>("action")?,
                "target": row.get::<Option<String>>("target")?,
                "detail": detail.and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok()),
                "requestId": row.get::<Option<String>>("request_id")?,
                "createdAt": row.get::<i64>("created_at")?,
            }));
        }
    }
    Ok(Response::json(200, &page.paged(items, total)))
}
