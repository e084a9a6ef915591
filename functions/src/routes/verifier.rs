//! Verifier keys for venue scanners: the event's organizer (or an admin) creates, lists and
//! revokes them; a scanner checks its key with `GET /v1/events/{id}/verifier/me`.
//!
//! Each change also reaches the key's Redis cache, which the live scan checks its key against
//! (`checkin::verifier_key`): a new key's record is cached after the response; a revocation
//! writes the revoked record before answering, so the very next scan with it gets 401.

use crate::audit;
use crate::call::Call;
use crate::checkin::verifier_key::{VerifierRecord, cache_command};
use crate::extract::{Caller, authenticate, authenticate_event_verifier, json_body};
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use serde::Deserialize;
use serde_json::json;
use shared::auth::secret::{alphanumeric, sha256_hex};
use shared::domain::Role;
use shared::error::Error;
use shared::http::Method;
use shared::ports::{Clock, Redis, Rng, Sql};
use shared::sql::Statement;

/// Dispatches the verifier-key routes.
///
/// # Errors
/// See each handler.
pub async fn dispatch<S: Services>(
    services: &S,
    route: Route,
    call: &Call<'_>,
) -> Result<Response, Error> {
    match (route, call.method) {
        (Route::VerifierKeys, Method::Post) => create(services, call).await,
        (Route::VerifierKeys, Method::Get) => list(services, call).await,
        (Route::VerifierKey, Method::Delete) => revoke(services, call).await,
        (Route::VerifierMe, Method::Get) => me(services, call).await,
        _ => Err(Error::MethodNotAllowed {
            allowed: route.methods().to_vec(),
        }),
    }
}

/// The caller must be the event's organizer or an admin.
pub(crate) async fn authorize_owner<S: Services>(
    services: &S,
    call: &Call<'_>,
) -> Result<(Caller, String), Error> {
    let caller = authenticate(services, call.request).await?;
    caller.require(Role::Organizer)?;
    let event_id = call.params.get("id").to_owned();
    let rows = services
        .sql()
        .execute(
            Statement::new("SELECT organizer FROM events WHERE id = ?").bind(event_id.as_str()),
        )
        .await?;
    let organizer: String = rows
        .row(0)
        .ok_or_else(|| Error::not_found("EVENT_NOT_FOUND", format!("no event {event_id}")))?
        .get("organizer")?;
    if caller.role != Role::Admin && organizer != caller.wallet.checksummed() {
        return Err(Error::forbidden(
            "EVENT_NOT_OWNER",
            "only the event's organizer or an admin may do this",
        ));
    }
    Ok((caller, event_id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
}

async fn create<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let (caller, event_id) = authorize_owner(services, call).await?;
    let body: CreateBody = json_body(call.request)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "must be 1 to 100 characters"));
    }
    let key_id = services.rng().hex(8)?;
    let secret = alphanumeric(services.rng(), 40)?;
    let id = format!("vk_{key_id}");
    let secret_hash = sha256_hex(&secret);
    let now = services.clock().now_ms();
    services
        .sql()
        .batch_atomic(vec![
            Statement::new(
                "INSERT INTO verifier_keys (id, event_id, name, secret_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(id.as_str())
            .bind(event_id.as_str())
            .bind(name)
            .bind(secret_hash.as_str())
            .bind(caller.wallet.checksummed())
            .bind(now as i64),
            audit::entry(&caller.wallet, "verifier_key.create", &id, &json!({"eventId": event_id, "name": name}), call.request_id, now),
        ])
        .await?;
    // Warm the key's cache after the response (a scan before that fills it from libSQL).
    let record = VerifierRecord {
        event: event_id.clone(),
        name: name.to_owned(),
        secret_hash,
        revoked: false,
    };
    services.defer(cache_command(services, &id, Some(&record), false));
    // The secret is shown once; only its hash is kept.
    Ok(Response::json(
        201,
        &json!({"id": id, "eventId": event_id, "name": name, "key": format!("otvk_{key_id}_{secret}"), "createdAt": now}),
    ))
}

async fn list<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let (_, event_id) = authorize_owner(services, call).await?;
    let rows = services
        .sql()
        .execute(
            Statement::new("SELECT id, name, created_by, created_at, revoked_at FROM verifier_keys WHERE event_id = ? ORDER BY created_at, id")
                .bind(event_id.as_str()),
        )
        .await?;
    let mut items = Vec::new();
    for row in rows.iter() {
        items.push(json!({
            "id": row.get::<String>("id")?,
            "name": row.get::<String>("name")?,
            "createdBy": row.get::<String>("created_by")?,
            "createdAt": row.get::<i64>("created_at")?,
            "revokedAt": row.get::<Option<i64>>("revoked_at")?,
        }));
    }
    Ok(Response::json(200, &json!({"items": items})))
}

async fn revoke<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let (caller, event_id) = authorize_owner(services, call).await?;
    let key_id = call.params.get("keyId");
    let now = services.clock().now_ms();
    let results = services
        .sql()
        .batch_atomic(vec![
            Statement::new("UPDATE verifier_keys SET revoked_at = ? WHERE id = ? AND event_id = ? AND revoked_at IS NULL")
                .bind(now as i64)
                .bind(key_id)
                .bind(event_id.as_str()),
            audit::entry_if_changed(&caller.wallet, "verifier_key.revoke", key_id, &json!({"eventId": event_id}), call.request_id, now),
            Statement::new(format!(
                "SELECT {} FROM verifier_keys WHERE id = ? AND event_id = ?",
                VerifierRecord::COLUMNS
            ))
            .bind(key_id)
            .bind(event_id.as_str()),
        ])
        .await?;
    let row = results.last().and_then(|rows| rows.row(0)).ok_or_else(|| {
        Error::not_found(
            "VERIFIER_KEY_NOT_FOUND",
            format!("no key {key_id} on event {event_id}"),
        )
    })?;
    let revoked_at: i64 = row.get::<Option<i64>>("revoked_at")?.ok_or_else(|| {
        Error::Internal(format!(
            "verifier key {key_id} not revoked after its revocation"
        ))
    })?;
    // Before answering: the next scan checks its key against this cache. The revoked record
    // overwrites (not deletes) the entry, so a scan that read libSQL just before the revocation
    // cannot put the live record back. Redis down: 503, and the revocation (already in libSQL)
    // is repeated by the retry.
    let record = VerifierRecord::from_row(&row)?;
    services
        .redis()
        .exec(cache_command(services, key_id, Some(&record), false))
        .await?;
    Ok(Response::json(
        200,
        &json!({"id": key_id, "revokedAt": revoked_at}),
    ))
}

async fn me<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let verifier =
        authenticate_event_verifier(services, call.request, call.params.get("id")).await?;
    Ok(Response::json(200, &verifier.json()))
}
