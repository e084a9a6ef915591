//! `POST /v1/events`, `GET|PATCH /v1/events/{id}`, `POST /v1/events/{id}/publish|cancel`.

use super::record::{EventFields, EventRecord, sale_window};
use super::serde_opt::{nullable, present};
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
use serde::Deserialize;
use serde_json::json;
use shared::domain::{
    ChainEventId, EventDescription, EventId, EventMetadata, EventStatus, EventTitle, SaleWindow,
    TimeWindow, TimeZone, Timestamp, Venue, WalletAddress,
};
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::{SqlValue, Statement};

/// The body of `POST /v1/events` (all of `title`, `startsAt`, `endsAt` required) and of
/// `PATCH /v1/events/{id}` (any subset). Fields are optional here so a missing one is
/// reported by name, not as a failure of the whole body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct EventInput {
    #[serde(default, deserialize_with = "present")]
    title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    venue: Option<String>,
    #[serde(default, deserialize_with = "present")]
    timezone: Option<String>,
    #[serde(default, deserialize_with = "present")]
    starts_at: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    ends_at: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    sale_starts_at: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    sale_ends_at: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    metadata: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "nullable")]
    contract_address: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    chain_event_id: Option<Option<String>>,
}

fn required(field: &str) -> Error {
    Error::invalid(field, "is required")
}

/// Parses `input` with `parse`, naming `field` on failure; records the field as changed.
fn parse_field<T>(
    changed: &mut Vec<&'static str>,
    field: &'static str,
    input: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, Error> {
    input
        .map(|value| {
            changed.push(field);
            parse(value).map_err(|m| Error::invalid(field, m))
        })
        .transpose()
}

fn parse_time(
    changed: &mut Vec<&'static str>,
    field: &'static str,
    input: Option<i64>,
) -> Result<Option<Timestamp>, Error> {
    input
        .map(|ms| {
            changed.push(field);
            Timestamp::from_ms(ms).map_err(|m| Error::invalid(field, m))
        })
        .transpose()
}

/// A nullable field: absent keeps `current`, `null` clears, a value is parsed.
fn parse_nullable<T, I>(
    changed: &mut Vec<&'static str>,
    field: &'static str,
    input: Option<Option<I>>,
    current: Option<T>,
    parse: impl Fn(I) -> Result<T, String>,
) -> Result<Option<T>, Error> {
    match input {
        None => Ok(current),
        Some(value) => {
            changed.push(field);
            value
                .map(|v| parse(v).map_err(|m| Error::invalid(field, m)))
                .transpose()
        }
    }
}

impl EventInput {
    /// Whether the body names no field at all.
    fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.venue.is_none()
            && self.timezone.is_none()
            && self.starts_at.is_none()
            && self.ends_at.is_none()
            && self.sale_starts_at.is_none()
            && self.sale_ends_at.is_none()
            && self.metadata.is_none()
            && self.contract_address.is_none()
            && self.chain_event_id.is_none()
    }

    /// The event's fields after applying this input to `base` (`None` when creating), and the
    /// names of the fields the input set.
    ///
    /// # Errors
    /// 400 naming the field; 422 `SALE_WINDOW_OUTSIDE_EVENT`.
    pub(super) fn resolve(
        self,
        base: Option<&EventFields>,
    ) -> Result<(EventFields, Vec<&'static str>), Error> {
        let mut changed = Vec::new();
        let c = &mut changed;
        let title = parse_field(c, "title", self.title.as_deref(), EventTitle::parse)?
            .or_else(|| base.map(|b| b.title.clone()))
            .ok_or_else(|| required("title"))?;
        let description = parse_field(
            c,
            "description",
            self.description.as_deref(),
            EventDescription::parse,
        )?
        .or_else(|| base.map(|b| b.description.clone()));
        let description = match description {
            Some(d) => d,
            None => EventDescription::parse("").map_err(Error::Internal)?,
        };
        let venue = parse_field(c, "venue", self.venue.as_deref(), Venue::parse)?
            .or_else(|| base.map(|b| b.venue.clone()));
        let venue = match venue {
            Some(v) => v,
            None => Venue::parse("").map_err(Error::Internal)?,
        };
        let timezone = parse_field(c, "timezone", self.timezone.as_deref(), TimeZone::parse)?
            .or_else(|| base.map(|b| b.timezone.clone()))
            .unwrap_or_default();

        let start = parse_time(c, "startsAt", self.starts_at)?
            .or_else(|| base.map(|b| b.window.start()))
            .ok_or_else(|| required("startsAt"))?;
        let end = parse_time(c, "endsAt", self.ends_at)?
            .or_else(|| base.map(|b| b.window.end()))
            .ok_or_else(|| required("endsAt"))?;
        let window = TimeWindow::new(start, end).map_err(|m| {
            // Blame the bound the client just sent; when both were sent, the end.
            if self.ends_at.is_none() && self.starts_at.is_some() {
                Error::invalid("startsAt", "must be before endsAt")
            } else {
                Error::invalid("endsAt", m)
            }
        })?;

        let base_sale = base.map(|b| b.sale).unwrap_or_default();
        let sale_start = parse_nullable(
            c,
            "saleStartsAt",
            self.sale_starts_at,
            base_sale.start(),
            Timestamp::from_ms,
        )?;
        let sale_ends_sent = self.sale_ends_at.is_some();
        let sale_end = parse_nullable(
            c,
            "saleEndsAt",
            self.sale_ends_at,
            base_sale.end(),
            Timestamp::from_ms,
        )?;
        let sale = SaleWindow::new(sale_start, sale_end).map_err(|m| {
            if sale_ends_sent {
                Error::invalid("saleEndsAt", m)
            } else {
                Error::invalid("saleStartsAt", "must be before saleEndsAt")
            }
        })?;
        if !sale.fits_event(&window) {
            return Err(Error::unprocessable(
                "SALE_WINDOW_OUTSIDE_EVENT",
                "the sale must start before the event ends and end no later than the event",
            ));
        }

        let metadata = self
            .metadata
            .map(|m| {
                c.push("metadata");
                EventMetadata::parse(m).map_err(|e| Error::invalid("metadata", e))
            })
            .transpose()?
            .or_else(|| base.map(|b| b.metadata.clone()))
            .unwrap_or_default();
        let contract_address = parse_nullable(
            c,
            "contractAddress",
            self.contract_address,
            base.and_then(|b| b.contract_address),
            |a| WalletAddress::parse(&a),
        )?;
        let chain_event_id = parse_nullable(
            c,
            "chainEventId",
            self.chain_event_id,
            base.and_then(|b| b.chain_event_id.clone()),
            |id| ChainEventId::parse(&id),
        )?;
        Ok((
            EventFields {
                title,
                description,
                venue,
                timezone,
                window,
                sale,
                metadata,
                contract_address,
                chain_event_id,
            },
            changed,
        ))
    }
}

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
    let id = EventId::generate(services.rng());
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

/// The sale windows of an event's ticket types.
async fn ticket_type_windows<S: Services>(
    services: &S,
    id: &EventId,
) -> Result<Vec<(String, SaleWindow)>, Error> {
    let rows = services
        .sql()
        .execute(
            Statement::new(
                "SELECT id, sale_starts_at, sale_ends_at FROM ticket_types WHERE event_id = ?",
            )
            .bind(id.as_str()),
        )
        .await?;
    rows.iter()
        .map(|row| Ok((row.get::<String>("id")?, sale_window(&row)?)))
        .collect()
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
    let (event, types) = futures::join!(
        owned_event(services, &caller, &id),
        ticket_type_windows(services, &id)
    );
    let mut event = event?;
    let types = types?;
    check_editable(&event)?;
    let (fields, changed) = input.resolve(Some(&event.fields))?;
    if let Some((type_id, _)) = types
        .iter()
        .find(|(_, sale)| !sale.within(&fields.sale, &fields.window))
    {
        return Err(Error::unprocessable(
            "SALE_WINDOW_OUTSIDE_EVENT",
            format!("ticket type {type_id} would sell outside the event's sale window"),
        ));
    }
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
    // (they are never deleted, so an equal count means the same set).
    let mut write = EventWrite::guarded(
        &id,
        "updated_at = ? AND (SELECT count(*) FROM ticket_types WHERE event_id = events.id) = ?",
        [event.updated_at.into(), (types.len() as i64).into()],
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
    let (event, types) = futures::join!(
        owned_event(services, &caller, &id),
        ticket_type_windows(services, &id)
    );
    let event = event?;
    let next = event
        .status
        .publish()
        .ok_or_else(|| state_conflict(event.status, "cannot be published; only a draft can"))?;
    // Ticket types are never deleted, so having one now means having one at commit time.
    if types?.is_empty() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Request;

    fn body(json: &str) -> Result<EventInput, Error> {
        let mut request = Request::new("POST", "/v1/events");
        request.body = json.as_bytes().to_vec();
        json_body::<EventInput>(&request)
    }

    fn create(json: &str) -> Result<EventFields, Error> {
        body(json)?.resolve(None).map(|(fields, _)| fields)
    }

    fn field_of<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
        match result {
            Err(Error::Invalid { field, .. }) => field,
            Err(Error::Client { code, .. }) => code.to_owned(),
            other => format!("{other:?}"),
        }
    }

    const MINIMAL: &str = r#"{"title":"Jazz","startsAt":1000,"endsAt":2000}"#;

    #[test]
    fn create_fills_defaults() {
        let fields = create(MINIMAL).expect("valid");
        assert_eq!(fields.title.as_str(), "Jazz");
        assert_eq!(fields.timezone.as_str(), "UTC");
        assert_eq!(fields.description.as_str(), "");
        assert_eq!(fields.sale, SaleWindow::default());
        assert_eq!(fields.metadata.to_json_text(), "{}");
        assert_eq!(fields.contract_address, None);
    }

    #[test]
    fn create_names_missing_and_bad_fields() {
        assert_eq!(field_of(create(r#"{"title":"x","endsAt":2}"#)), "startsAt");
        assert_eq!(field_of(create(r#"{"startsAt":1,"endsAt":2}"#)), "title");
        assert_eq!(
            field_of(create(r#"{"title":"x","startsAt":"soon","endsAt":2}"#)),
            "startsAt"
        );
        assert_eq!(
            field_of(create(r#"{"title":"x","startsAt":5,"endsAt":5}"#)),
            "endsAt"
        );
        assert_eq!(
            field_of(create(r#"{"title":null,"startsAt":1,"endsAt":2}"#)),
            "title"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":2,"colour":"red"}"#
            )),
            "colour"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":2,"metadata":[]}"#
            )),
            "metadata"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":2,"timezone":"Mars/Base"}"#
            )),
            "timezone"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":2,"contractAddress":"0x12"}"#
            )),
            "contractAddress"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":9,"saleStartsAt":5,"saleEndsAt":4}"#
            )),
            "saleEndsAt"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":9,"saleEndsAt":10}"#
            )),
            "SALE_WINDOW_OUTSIDE_EVENT"
        );
    }

    #[test]
    fn patch_merges_onto_the_current_fields() {
        let base = create(
            r#"{"title":"Jazz","startsAt":1000,"endsAt":2000,"saleEndsAt":900,
                "contractAddress":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8"}"#,
        )
        .expect("valid");
        let (fields, changed) =
            body(r#"{"title":"Blues","saleEndsAt":null,"contractAddress":null}"#)
                .and_then(|b| b.resolve(Some(&base)))
                .expect("valid");
        assert_eq!(changed, ["title", "saleEndsAt", "contractAddress"]);
        assert_eq!(fields.title.as_str(), "Blues");
        assert_eq!(fields.window, base.window);
        assert_eq!(fields.sale, SaleWindow::default());
        assert_eq!(fields.contract_address, None);
        // Moving only the start past the stored end blames the start.
        let moved = body(r#"{"startsAt":2500}"#).and_then(|b| b.resolve(Some(&base)));
        assert_eq!(field_of(moved), "startsAt");
        assert!(body("{}").expect("parses").is_empty());
    }
}
