//! `DELETE /v1/holds/{id}`: the owner gives a hold back before it expires.

use super::request::HoldId;
use crate::call::Call;
use crate::extract::authenticate;
use crate::http::Response;
use crate::inventory::RELEASE;
use crate::keys;
use crate::services::Services;
use serde_json::json;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::Redis;
use shared::redis::Command;

fn not_found(id: &str) -> Error {
    Error::not_found(
        "HOLD_NOT_FOUND",
        format!("there is no active hold {id:?} (it may have expired)"),
    )
}

/// `DELETE /v1/holds/{id}`.
///
/// # Errors
/// 401; 403 `HOLD_NOT_OWNER`; 409 `HOLD_ORDERED`; 404 `HOLD_NOT_FOUND` (unknown, released or expired);
/// 503 `REDIS_UNAVAILABLE`.
pub async fn release<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let raw = call.params.get("id");
    let id = HoldId::parse(raw).ok_or_else(|| not_found(raw))?;
    // The record names its event, whose inventory the release changes.
    let prefix = &services.config().redis.key_prefix;
    let record_key = keys::hold_record(prefix, id.as_str());
    let event = services
        .redis()
        .exec(Command::new("HGET").arg(&record_key).arg("event"))
        .await?;
    let Some(event) = event.as_str() else {
        return Err(not_found(raw));
    };
    let event_id = EventId::parse(event)
        .map_err(|e| Error::Internal(format!("hold {id} names event {event:?}: {e}")))?;
    let inventory = crate::inventory::of(services.config(), &event_id);
    let (status, _) = inventory
        .run(
            services.redis(),
            services.sql(),
            &RELEASE,
            &[&record_key],
            &[id.as_str(), &caller.wallet.checksummed()],
        )
        .await?;
    match status.as_str() {
        "OK" => Ok(Response::json(
            200,
            &json!({ "holdId": id, "eventId": event_id, "released": true }),
        )),
        "NOT_FOUND" => Err(not_found(raw)),
        "ORDERED" => Err(Error::conflict(
            "HOLD_ORDERED",
            "an order is waiting for payment on this hold; it ends with the order",
        )),
        "NOT_OWNER" => Err(Error::forbidden(
            "HOLD_NOT_OWNER",
            "only the wallet that took a hold may release it",
        )),
        other => Err(Error::Internal(format!(
            "hold_release.lua answered {other}"
        ))),
    }
}
