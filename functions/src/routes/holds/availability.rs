//! `GET /v1/events/{id}/availability`: live counts per ticket type and per seat status.
//!
//! Supplies come from libSQL (a seated type's supply is its number of seats); held and sold
//! counts come from Redis after expired holds are swept, so the numbers are never cached.

use crate::call::Call;
use crate::http::Response;
use crate::inventory::{AVAILABILITY, texts};
use crate::services::Services;
use serde_json::json;
use shared::domain::{EventId, EventStatus};
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::Statement;
use std::collections::HashMap;

fn not_found(id: &str) -> Error {
    Error::not_found("EVENT_NOT_FOUND", format!("there is no event {id:?}"))
}

/// `GET /v1/events/{id}/availability`.
///
/// # Errors
/// 404 `EVENT_NOT_FOUND` (missing or draft); 503 `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE`.
pub async fn get<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let raw = call.params.get("id");
    let id = EventId::parse(raw).map_err(|_| not_found(raw))?;
    let event = Statement::new("SELECT status FROM events WHERE id = ?").bind(id.as_str());
    let types = Statement::new(
        "SELECT t.id, t.supply, \
         (SELECT COUNT(*) FROM seats s WHERE s.event_id = t.event_id \
          AND s.ticket_type_id = t.id) AS seats \
         FROM ticket_types t WHERE t.event_id = ? ORDER BY t.created_at, t.id",
    )
    .bind(id.as_str());
    let sql = services.sql();
    let (event, types) = futures::join!(sql.execute(event), sql.execute(types));
    let public = match event?.row(0) {
        Some(row) => {
            EventStatus::parse(&row.get::<String>("status")?).is_some_and(EventStatus::is_public)
        }
        None => false,
    };
    if !public {
        return Err(not_found(raw));
    }
    let inventory = crate::inventory::of(services.config(), &id);
    let (_, parts) = inventory
        .run(services.redis(), services.sql(), &AVAILABILITY, &[], &[])
        .await?;
    let parts = texts(&parts);
    let counters: HashMap<&str, i64> = parts
        .chunks_exact(2)
        .map(|pair| (pair[0].as_str(), pair[1].parse().unwrap_or(0)))
        .collect();
    let count = |name: String| counters.get(name.as_str()).copied().unwrap_or(0).max(0);
    let mut seat_total = 0;
    let items = types?
        .iter()
        .map(|row| {
            let tt: String = row.get("id")?;
            let seats: i64 = row.get("seats")?;
            seat_total += seats;
            let supply = if seats > 0 {
                seats
            } else {
                row.get::<i64>("supply")?
            };
            let held = count(format!("{tt}:held"));
            let sold = count(format!("{tt}:sold"));
            Ok(json!({
                "ticketTypeId": tt,
                "supply": supply,
                "held": held,
                "sold": sold,
                "free": (supply - held - sold).max(0),
            }))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let seats_held = count("seats:held".to_owned());
    let seats_sold = count("seats:sold".to_owned());
    Ok(Response::json(
        200,
        &json!({
            "eventId": id,
            "ticketTypes": items,
            "seats": {
                "total": seat_total,
                "free": (seat_total - seats_held - seats_sold).max(0),
                "held": seats_held,
                "sold": seats_sold,
            },
        }),
    ))
}
