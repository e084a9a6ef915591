//! `GET /v1/events/{id}/availability`: live counts per ticket type, each seat's state, the
//! sale's window and pause, and the seq of the change log they reflect (`crate::live`).
//!
//! Supplies and the sale come from libSQL (a seated type's supply is its number of seats);
//! held and sold come from Redis after expired holds are swept, so the numbers are never
//! cached. libSQL is read first (an unknown event must not get an inventory), then Redis: a
//! sale change committed between the two reads is in Redis (`liveSale`, written with its
//! log entry) by the time its seq is, so the snapshot and its seq agree.

use crate::call::Call;
use crate::http::Response;
use crate::inventory::{AVAILABILITY, texts};
use crate::sale::live::{SaleView, sale_view_statements};
use crate::services::Services;
use serde_json::{Map, Value, json};
use shared::domain::{EventId, EventStatus};
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::{Rows, Statement};
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
    Ok(Response::json(200, &snapshot(services, &id).await?))
}

/// Whether the first row of `event` (a `status` column) is an event the public may see; no
/// row: no.
///
/// # Errors
/// Internal for rows without a `status`.
pub fn is_public(event: &Rows) -> Result<bool, Error> {
    Ok(match event.row(0) {
        Some(row) => {
            EventStatus::parse(&row.get::<String>("status")?).is_some_and(EventStatus::is_public)
        }
        None => false,
    })
}

/// The availability snapshot of `id` (the body of `GET /v1/events/{id}/availability`).
///
/// # Errors
/// 404 `EVENT_NOT_FOUND` (missing or draft); 503 `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE`.
pub async fn snapshot<S: Services>(services: &S, id: &EventId) -> Result<Value, Error> {
    let types = Statement::new(
        "SELECT t.id, t.supply, \
         (SELECT COUNT(*) FROM seats s WHERE s.event_id = t.event_id \
          AND s.ticket_type_id = t.id) AS seats \
         FROM ticket_types t WHERE t.event_id = ? ORDER BY t.created_at, t.id",
    )
    .bind(id.as_str());
    let [event, state] = sale_view_statements(id);
    // Independent reads in one round trip.
    let mut results = services
        .sql()
        .execute_many(vec![event, state, types])
        .await?
        .into_iter();
    let mut next = || -> Result<shared::sql::Rows, Error> {
        Ok(results.next().ok_or_else(|| {
            Error::Internal("the availability read returned too few results".into())
        })??)
    };
    let (event, state, types) = (next()?, next()?, next()?);
    if !is_public(&event)? {
        return Err(not_found(id.as_str()));
    }
    let sale = SaleView::from_rows(&event, &state)?;
    let inventory = crate::inventory::of(services.config(), id);
    let (_, parts) = inventory
        .run(services.redis(), services.sql(), &AVAILABILITY, &[], &[])
        .await?;
    let parts = texts(&parts);
    let part = |i: usize| parts.get(i).map(String::as_str).unwrap_or_default();
    let malformed = |what: &str| Error::Internal(format!("hold_availability.lua answered {what}"));
    let seq: u64 = part(0).parse().map_err(|_| malformed("no seq"))?;
    let at: i64 = part(1).parse().map_err(|_| malformed("no time"))?;
    let stock: Vec<String> = serde_json::from_str(part(2)).map_err(|_| malformed("no stock"))?;
    let seat_states: Map<String, Value> =
        serde_json::from_str(part(3)).map_err(|_| malformed("no seat states"))?;
    let counters: HashMap<&str, i64> = stock
        .chunks_exact(2)
        .map(|pair| (pair[0].as_str(), pair[1].parse().unwrap_or(0)))
        .collect();
    let count = |name: String| counters.get(name.as_str()).copied().unwrap_or(0).max(0);
    let mut seat_total = 0;
    let items = types
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
    // The sale as the log last announced it wins over the libSQL read (see the module doc).
    let sale = sale.overlaid(part(4));
    Ok(json!({
        "eventId": id,
        "seq": seq,
        "at": at,
        "ticketTypes": items,
        "seats": {
            "total": seat_total,
            "free": (seat_total - seats_held - seats_sold).max(0),
            "held": seats_held,
            "sold": seats_sold,
        },
        "seatStates": seat_states,
        "sale": sale,
    }))
}
