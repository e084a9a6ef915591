//! `PUT|GET /v1/events/{id}/seats`: an event's seat map, replaced as a whole.
//!
//! A replacement is one atomic batch: the old map is deleted and the new one inserted, so a
//! reader sees the old map or the new one, never a mix. Rows go in multi-row `INSERT`s of
//! [`ROWS_PER_INSERT`] to keep a 10,000-seat batch to about a hundred statements.

use super::event_id;
use super::events::public_event;
use super::write::{EventWrite, check_editable, now_ms, organizer, owned_event, written};
use crate::audit;
use crate::cache::cached_json;
use crate::call::Call;
use crate::extract::json_body_with_limit;
use crate::http::{Request, Response};
use crate::keys;
use crate::services::Services;
use serde::Deserialize;
use serde_json::json;
use shared::domain::{MAX_SEATS, SeatAttribute, SeatLabel, TicketTypeId};
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::Statement;
use std::collections::{HashMap, HashSet};

/// The largest seat-map body. A full map of [`MAX_SEATS`] seats with realistic attributes is
/// about 1.2 MB and one with every attribute at its longest about 3 MB: past the general
/// 1 MiB limit of `extract::json_body`, so this route reads its body itself.
const MAX_SEAT_MAP_BYTES: usize = 4 * 1024 * 1024;

/// Seats per `INSERT`: 6 parameters each stays far below SQLite's oldest default limit of
/// 999 parameters per statement.
const ROWS_PER_INSERT: usize = 100;

/// The body of `PUT /v1/events/{id}/seats`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeatMapInput {
    seats: Option<Vec<SeatInput>>,
}

/// One seat. Fields are optional here so a missing one is reported by its path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SeatInput {
    label: Option<String>,
    section: Option<String>,
    row: Option<String>,
    number: Option<String>,
    ticket_type_id: Option<String>,
}

/// A parsed seat.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seat {
    label: SeatLabel,
    section: SeatAttribute,
    row: SeatAttribute,
    number: SeatAttribute,
    ticket_type_id: TicketTypeId,
}

/// Parses the map: at most [`MAX_SEATS`], labels unique. Errors name the seat's path
/// (`seats[3].label`).
fn parse_map(input: SeatMapInput) -> Result<Vec<Seat>, Error> {
    let seats = input
        .seats
        .ok_or_else(|| Error::invalid("seats", "is required"))?;
    if seats.len() > MAX_SEATS {
        return Err(Error::invalid(
            "seats",
            format!(
                "a seat map holds at most {MAX_SEATS} seats, not {}",
                seats.len()
            ),
        ));
    }
    let mut first_index: HashMap<String, usize> = HashMap::with_capacity(seats.len());
    seats
        .into_iter()
        .enumerate()
        .map(|(i, seat)| {
            let at = |name: &str| format!("seats[{i}].{name}");
            let attribute = |value: Option<String>, name: &str| {
                SeatAttribute::parse(value.as_deref().unwrap_or_default())
                    .map_err(|m| Error::invalid(at(name), m))
            };
            let label = SeatLabel::parse(
                &seat
                    .label
                    .ok_or_else(|| Error::invalid(at("label"), "is required"))?,
            )
            .map_err(|m| Error::invalid(at("label"), m))?;
            if let Some(first) = first_index.insert(label.as_str().to_owned(), i) {
                return Err(Error::invalid(
                    at("label"),
                    format!(
                        "{:?} is already the label of seats[{first}]",
                        label.as_str()
                    ),
                ));
            }
            let ticket_type_id = TicketTypeId::parse(
                &seat
                    .ticket_type_id
                    .ok_or_else(|| Error::invalid(at("ticketTypeId"), "is required"))?,
            )
            .map_err(|m| Error::invalid(at("ticketTypeId"), m))?;
            Ok(Seat {
                label,
                section: attribute(seat.section, "section")?,
                row: attribute(seat.row, "row")?,
                number: attribute(seat.number, "number")?,
                ticket_type_id,
            })
        })
        .collect()
}

/// Parses the body like `extract::json_body` (same errors, same field paths) with the larger
/// [`MAX_SEAT_MAP_BYTES`] limit.
fn seat_map_body(request: &Request) -> Result<SeatMapInput, Error> {
    json_body_with_limit(request, MAX_SEAT_MAP_BYTES)
}

/// The ids of the event's ticket types.
async fn ticket_type_ids<S: Services>(services: &S, event: &str) -> Result<HashSet<String>, Error> {
    let rows = services
        .sql()
        .execute(Statement::new("SELECT id FROM ticket_types WHERE event_id = ?").bind(event))
        .await?;
    rows.iter()
        .map(|row| row.get::<String>("id").map_err(Error::from))
        .collect()
}

/// `PUT /v1/events/{id}/seats`: replaces the seat map.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE` / `EVENT_NOT_OWNER`; 404 `EVENT_NOT_FOUND`; 400
/// `VALIDATION_FAILED` naming the seat (`seats[3].ticketTypeId` for a ticket type of another
/// event too: the reference is wrong input, and the path is what the client needs); 409
/// `EVENT_STATE_CONFLICT` / `EVENT_CHANGED`.
pub async fn replace<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = organizer(services, call).await?;
    let id = event_id(call)?;
    let seats = parse_map(seat_map_body(call.request)?)?;
    let (event, types) = futures::join!(
        owned_event(services, &caller, &id),
        ticket_type_ids(services, id.as_str())
    );
    check_editable(&event?)?;
    let types = types?;
    // Ticket types are never deleted or moved, so this check still holds at commit time.
    if let Some((i, seat)) = seats
        .iter()
        .enumerate()
        .find(|(_, seat)| !types.contains(seat.ticket_type_id.as_str()))
    {
        return Err(Error::invalid(
            format!("seats[{i}].ticketTypeId"),
            format!("{} is not a ticket type of this event", seat.ticket_type_id),
        ));
    }
    let now = now_ms(services);
    let mut write = EventWrite::guarded(&id, "status IN ('draft', 'published')", []);
    write.push(Statement::new("DELETE FROM seats WHERE event_id = ?").bind(id.as_str()));
    for chunk in seats.chunks(ROWS_PER_INSERT) {
        let mut insert = Statement::new(format!(
            "INSERT INTO seats (event_id, label, section, row_label, number, ticket_type_id) \
             VALUES {}",
            vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        ));
        for seat in chunk {
            insert = insert
                .bind(id.as_str())
                .bind(seat.label.as_str())
                .bind(seat.section.as_str())
                .bind(seat.row.as_str())
                .bind(seat.number.as_str())
                .bind(seat.ticket_type_id.as_str());
        }
        write.push(insert);
    }
    write.push(audit::entry(
        &caller.wallet,
        "seats.replace",
        id.as_str(),
        &json!({ "seats": seats.len() }),
        call.request_id,
        now as u64,
    ));
    write.commit(services).await?;
    Ok(written(
        200,
        &json!({ "eventId": id, "total": seats.len() }),
        None,
    ))
}

/// `GET /v1/events/{id}/seats`: the seat map in upload order.
///
/// # Errors
/// 404 `EVENT_NOT_FOUND` (missing or draft event); 503/500.
pub async fn get<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let id = &event_id(call)?;
    cached_json(
        services,
        call.request,
        keys::event_cache(services, id.as_str()),
        "seats",
        || async move {
            // rowid order is insertion order: the order the organizer uploaded.
            let seats = Statement::new(
                "SELECT label, section, row_label, number, ticket_type_id FROM seats \
                 WHERE event_id = ? ORDER BY rowid",
            )
            .bind(id.as_str());
            let (event, rows) =
                futures::join!(public_event(services, id), services.sql().execute(seats));
            event?;
            let items = rows?
                .iter()
                .map(|row| {
                    Ok(json!({
                        "label": row.get::<String>("label")?,
                        "section": row.get::<String>("section")?,
                        "row": row.get::<String>("row_label")?,
                        "number": row.get::<String>("number")?,
                        "ticketTypeId": row.get::<String>("ticket_type_id")?,
                    }))
                })
                .collect::<Result<Vec<_>, Error>>()?;
            Ok(json!({ "eventId": id, "total": items.len(), "items": items }))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const TT: &str = "tt_00000000000000000001";

    fn parse(body: serde_json::Value) -> Result<Vec<Seat>, Error> {
        let input: SeatMapInput =
            serde_json::from_value(body).map_err(|e| Error::invalid("body", e.to_string()))?;
        parse_map(input)
    }

    fn field_of(result: Result<Vec<Seat>, Error>) -> String {
        match result {
            Err(Error::Invalid { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn parses_seats_with_optional_attributes() {
        let seats = parse(json!({"seats": [
            {"label": "A-1", "section": "Floor", "row": "A", "number": "1", "ticketTypeId": TT},
            {"label": "A-2", "ticketTypeId": TT},
        ]}))
        .expect("valid");
        assert_eq!(seats.len(), 2);
        assert_eq!(seats[1].section.as_str(), "");
        assert!(parse(json!({"seats": []})).expect("empty map").is_empty());
    }

    #[test]
    fn reads_bodies_past_the_general_limit() {
        let seat = json!({"label": "x".repeat(32), "section": "y".repeat(32), "row": "r",
                          "number": "n", "ticketTypeId": TT});
        let mut request = Request::new("PUT", "/v1/events/evt_00000000000000000000/seats");
        request.body =
            serde_json::to_vec(&json!({ "seats": vec![seat; MAX_SEATS] })).expect("serialises");
        assert!(request.body.len() > 1024 * 1024);
        let seats = seat_map_body(&request).map(|input| input.seats.map(|s| s.len()));
        assert_eq!(seats.ok(), Some(Some(MAX_SEATS)));
        request.body = vec![b' '; MAX_SEAT_MAP_BYTES + 1];
        assert_eq!(
            seat_map_body(&request).map(|_| ()).map_err(|e| e.status()),
            Err(413)
        );
        request.body = br#"{"seats":[{"label":"a","ticketTypeId":"tt_1","x":1}]}"#.to_vec();
        match seat_map_body(&request) {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "seats[0].x"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_seat() {
        let ok = json!({"label": "A-1", "ticketTypeId": TT});
        assert_eq!(
            field_of(parse(
                json!({"seats": [ok, {"label": "", "ticketTypeId": TT}]})
            )),
            "seats[1].label"
        );
        assert_eq!(
            field_of(parse(
                json!({"seats": [ok, {"label": "A-1", "ticketTypeId": TT}]})
            )),
            "seats[1].label"
        );
        assert_eq!(
            field_of(parse(json!({"seats": [ok, {"ticketTypeId": TT}]}))),
            "seats[1].label"
        );
        assert_eq!(
            field_of(parse(
                json!({"seats": [{"label": "B", "ticketTypeId": "evt_1"}]})
            )),
            "seats[0].ticketTypeId"
        );
        assert_eq!(
            field_of(parse(
                json!({"seats": [{"label": "B", "ticketTypeId": TT, "row": "x".repeat(33)}]})
            )),
            "seats[0].row"
        );
        assert_eq!(field_of(parse(json!({}))), "seats");
        let too_many: Vec<_> = (0..=MAX_SEATS)
            .map(|i| json!({"label": i.to_string(), "ticketTypeId": TT}))
            .collect();
        assert_eq!(field_of(parse(json!({ "seats": too_many }))), "seats");
    }
}
