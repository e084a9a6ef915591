//! The waitlist: `POST /v1/events/{id}/waitlist` joins (once); `GET` says where the caller
//! stands and, when a refunded seat was reserved for it, the hold to order within the offer
//! time (`POST /v1/orders` with that `holdId`; no admission token needed).

use crate::call::Call;
use crate::extract::authenticate;
use crate::http::Response;
use crate::inventory::{WAITLIST_JOIN, texts};
use crate::routes::catalog::event_id;
use crate::services::Services;
use serde_json::{Value, json};
use shared::error::Error;
use shared::ports::{Redis, Sql};
use shared::redis::Command;
use shared::sql::Statement;

/// `POST /v1/events/{id}/waitlist`.
///
/// # Errors
/// 401; 404 `EVENT_NOT_FOUND` (missing, draft or cancelled).
pub async fn join<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let id = event_id(call)?;
    let rows = services
        .sql()
        .execute(Statement::new("SELECT status FROM events WHERE id = ?").bind(id.as_str()))
        .await?;
    let status: Option<String> = rows.row(0).map(|r| r.get("status")).transpose()?;
    if status.as_deref() != Some("published") {
        return Err(Error::not_found(
            "EVENT_NOT_FOUND",
            format!("there is no event {:?} on sale", id.as_str()),
        ));
    }
    let inventory = crate::inventory::of(services.config(), &id);
    let (_, parts) = inventory
        .run_loaded(
            services.redis(),
            &WAITLIST_JOIN,
            &[],
            &[&caller.wallet.checksummed()],
        )
        .await?;
    let number = |i: usize| parts.get(i).and_then(shared::redis::Value::as_i64);
    Ok(Response::json(
        if number(1) == Some(1) { 201 } else { 200 },
        &json!({ "eventId": id, "position": number(0), "joined": true }),
    ))
}

/// `GET /v1/events/{id}/waitlist`: the caller's place and offer.
///
/// # Errors
/// 401; 404 `EVENT_NOT_FOUND`.
pub async fn status<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let id = event_id(call)?;
    let wallet = caller.wallet.checksummed();
    let inventory = crate::inventory::of(services.config(), &id);
    let redis = services.redis();
    let (position, offer) = futures::join!(
        redis.exec(
            Command::new("LPOS")
                .arg(inventory.key("waitlist"))
                .arg(&wallet)
        ),
        redis.exec(
            Command::new("HGET")
                .arg(inventory.key("offers"))
                .arg(&wallet)
        )
    );
    let position = position?.as_i64().map(|p| p + 1);
    let offer = match offer?.as_str() {
        Some(hold) => {
            let record = redis
                .exec(
                    Command::new("HMGET")
                        .arg(inventory.record_key(hold))
                        .arg("expiresAt")
                        .arg("items"),
                )
                .await?;
            let fields = match record {
                shared::redis::Value::Array(parts) => texts(&parts),
                _ => Vec::new(),
            };
            match fields.first().filter(|f| !f.is_empty()) {
                Some(expires) => json!({
                    "holdId": hold,
                    "expiresAt": expires.parse::<i64>().ok(),
                    "items": fields.get(1).and_then(|i| serde_json::from_str::<Value>(i).ok()),
                }),
                None => Value::Null,
            }
        }
        None => Value::Null,
    };
    Ok(Response::json(
        200,
        &json!({
            "eventId": id,
            "waiting": position.is_some(),
            "position": position,
            "offer": offer,
        }),
    ))
}
