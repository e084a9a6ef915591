//! `POST /v1/events`, `GET|PATCH /v1/events/{id}`, `POST /v1/events/{id}/publish|cancel`.

use super::event_input::EventInput;
use super::nested::Nested;
use super::record::{EventFields, EventRecord};
use super::write::{
    BUMP_VERSION, EventWrite, check_editable, ensure_user, next_version, now_ms, organizer,
    owned_event, state_conflict, written,
};
use super::{event_id, not_found};
use crate::audit;
use crate::cache::cached_json;
use crate::call::Call;
use crate::extract::json_body;
use crate::http::Response;
use crate::keys;
use crate::services::Services;
use serde_json::json;
use shared::domain::{EventId, EventStatus, Timestamp};
use shared::error::Error;
use shared::sql::{SqlValue, Statement};

/// The values bound for the writable columns, in [`WRITABLE_COLUMNS`] order.
const WRITABLE_COLUMNS: [&str; 11] = [
    "title",
    "description",
    "venue",
    "timezone",
    "starts_at",
    "ends_at",
    "sale_starts_at",
    "sale_ends_at",
    "metadata",
    "contract_address",
    "chain_event_id",
];

fn writable_values(f: &EventFields) -> [SqlValue; 11] {
    [
        f.title.as_str().into(),
        f.description.as_str().into(),
        f.venue.as_str().into(),
        f.timezone.as_str().into(),
        f.window.start().ms().into(),
        f.window.end().ms().into(),
        f.sale.start().map(Timestamp::ms).into(),
        f.sale.end().map(Timestamp::ms).into(),
        f.metadata.to_json_text().into(),
        f.contract_address.map(|a| a.checksummed()).into(),
        f.chain_event_id
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .into(),
    ]
}

/// `POST /v1/events`: a new draft owned by the caller.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE`; 400 `VALIDATION_FAILED`; 422 `SALE_WINDOW_OUTSIDE_EVENT`;
/// 409 `CHAIN_EVENT_ID_TAKEN`.
pub async fn create<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = organizer(services, call).await?;
    let (fields, _) = json_body::<EventInput>(call.request)?.resolve(None)?;
    let id = EventId::generate(services.rng())?;
    let now = now_ms(services);
    let mut insert = Statement::new(format!(
        "INSERT INTO events (id, organizer, status, created_at, updated_at, {}) \
         VALUES (?, ?, 'draft', ?, ?{})",
        WRITABLE_COLUMNS.join(", "),
        ", ?".repeat(WRITABLE_COLUMNS.len())
    ))
    .bind(id.as_str())
    .bind(caller.wallet.checksummed())
    .bind(now)
    .bind(now);
    for value in writable_values(&fields) {
        insert = insert.bind(value);
    }
    let mut write = EventWrite::new(&id);
    write
        .push(ensure_user(&caller, now))
        .push(insert)
        .push(audit::entry(
            &caller.wallet,
            "event.create",
            id.as_str(),
            &json!({ "title": fields.title.as_str() }),
            call.request_id,
            now as u64,
        ));
    write.commit(services).await?;
    let event = EventRecord {
        id,
        organizer: caller.wallet,
        status: EventStatus::Draft,
        fields,
        created_at: now,
        updated_at: now,
    };
    let location = format!("/v1/events/{}", event.id);
    Ok(written(201, &event.to_json(), Some(location)))
}

/// `PATCH /v1/events/{id}`: changes the fields the body names.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE` / `EVENT_NOT_OWNER`; 404 `EVENT_NOT_FOUND`; 400
/// `VALIDATION_FAILED`; 409 `EVENT_STATE_CONFLICT` (cancelled) / `EVENT_CHANGED` /
/// `CHAIN_EVENT_ID_TAKEN`; 422 `SALE_WINDOW_OUTSIDE_EVENT`.
pub async fn update<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = organizer(services, call).await?;
    let id = event_id(call)?;
    let input = json_body::<EventInput>(call.request)?;
    if input.is_empty() {
        return Err(Error::invalid("body", "name at least one field to change"));
    }
    let (event, nested) = futures::join!(
        owned_event(services, &caller, &id),
        Nested::read(services, &id)
    );
    let mut event = event?;
    let nested = nested?;
    check_editable(&event)?;
    let (fields, changed) = input.resolve(Some(&event.fields))?;
    nested.check(&fields)?;
    let now = now_ms(services);
    let assignments: Vec<String> = WRITABLE_COLUMNS
        .iter()
        .map(|c| format!("{c} = ?"))
        .collect();
    let mut update = Statement::new(format!(
        "UPDATE events SET {}, {BUMP_VERSION} WHERE id = ?",
        assignments.join(", ")
    ));
    for value in writable_values(&fields) {
        update = update.bind(value);
    }
    // The version pins every field the checks read; the count pins the ticket types checked
    // (they are never deleted, so an equal count means the same set), and the settings'
    // window the one checked.
    let [types, settings] = nested.guard_args();
    let mut write = EventWrite::guarded(
        &id,
        &format!("updated_at = ? AND {}", Nested::GUARD),
        [event.updated_at.into(), types, settings],
    );
    write
        .push(update.bind(now).bind(id.as_str()))
        .push(audit::entry(
            &caller.wallet,
            "event.update",
            id.as_str(),
            &json!({ "fields": changed }),
            call.request_id,
            now as u64,
        ));
    write.commit(services).await?;
    event.fields = fields;
    event.updated_at = next_version(event.updated_at, now);
    Ok(written(200, &event.to_json(), None))
}

/// Moves the event to `next` (a status the caller already checked it may reach).
async fn transition<S: Services>(
    services: &S,
    call: &Call<'_>,
    caller: &crate::extract::Caller,
    mut event: EventRecord,
    next: EventStatus,
    action: &str,
) -> Result<Response, Error> {
    let now = now_ms(services);
    let id = event.id.clone();
    let mut write = EventWrite::guarded(&id, "updated_at = ?", [event.updated_at.into()]);
    write
        .push(
            Statement::new(format!(
                "UPDATE events SET status = ?, {BUMP_VERSION} WHERE id = ?"
            ))
            .bind(next.as_str())
            .bind(now)
            .bind(id.as_str()),
        )
        .push(audit::entry(
            &caller.wallet,
            action,
            id.as_str(),
            &json!({ "from": event.status, "to": next }),
            call.request_id,
            now as u64,
        ));
    write.commit(services).await?;
    event.status = next;
    event.updated_at = next_version(event.updated_at, now);
    Ok(written(200, &event.to_json(), None))
}

/// `POST /v1/events/{id}/publish`: draft → published.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE` / `EVENT_NOT_OWNER`; 404 `EVENT_NOT_FOUND`; 409
/// `EVENT_STATE_CONFLICT` / `EVENT_CHANGED`; 422 `EVENT_HAS_NO_TICKET_TYPES`.
pub async fn publish<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = organizer(services, call).await?;
    let id = event_id(call)?;
    let (event, nested) = futures::join!(
        owned_event(services, &caller, &id),
        Nested::read(services, &id)
    );
    let event = event?;
    let next = event
        .status
        .publish()
        .ok_or_else(|| state_conflict(event.status, "cannot be published; only a draft can"))?;
    // Ticket types are never deleted, so having one now means having one at commit time.
    if nested?.types.is_empty() {
        return Err(Error::unprocessable(
            "EVENT_HAS_NO_TICKET_TYPES",
            "add at least one ticket type before publishing",
        ));
    }
    transition(services, call, &caller, event, next, "event.publish").await
}

/// `POST /v1/events/{id}/cancel`: draft or published → cancelled (read-only from then on).
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE` / `EVENT_NOT_OWNER`; 404 `EVENT_NOT_FOUND`; 409
/// `EVENT_STATE_CONFLICT` / `EVENT_CHANGED`.
pub async fn cancel<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = organizer(services, call).await?;
    let id = event_id(call)?;
    let event = owned_event(services, &caller, &id).await?;
    let next = event
        .status
        .cancel()
        .ok_or_else(|| state_conflict(event.status, "is already cancelled"))?;
    transition(services, call, &caller, event, next, "event.cancel").await
}

/// `GET /v1/events/{id}`: a published or cancelled event (drafts are not public).
///
/// # Errors
/// 404 `EVENT_NOT_FOUND`; 503/500 from libSQL.
pub async fn get<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let id = &event_id(call)?;
    cached_json(
        services,
        call.request,
        keys::event_cache(services, id.as_str()),
        "detail",
        || async move {
            let event = public_event(services, id).await?;
            Ok(event.to_json())
        },
    )
    .await
}

/// Event `id` if the public may see it.
///
/// # Errors
/// 404 `EVENT_NOT_FOUND` for a missing or draft event.
pub(super) async fn public_event<S: Services>(
    services: &S,
    id: &EventId,
) -> Result<EventRecord, Error> {
    EventRecord::load(services, id)
        .await?
        .filter(|event| event.status.is_public())
        .ok_or_else(|| not_found(id.as_str()))
}
