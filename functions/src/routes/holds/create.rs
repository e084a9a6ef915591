//! `POST /v1/holds`: takes seats or units of a ticket type for a while, all or nothing.
//!
//! libSQL says what exists (the event is published, the seats and types are real, their
//! prices and limits); one run of `hold.lua` decides, atomically, whether it is free and takes
//! it. Prices are snapshotted into the hold so a later order charges what the buyer saw.

use super::request::{HoldId, HoldInput, HoldRequest, Want};
use crate::call::Call;
use crate::extract::{authenticate, json_body};
use crate::http::Response;
use crate::inventory::{HOLD, Inventory, texts};
use crate::sale::{SaleState, check_admission, load_state};
use crate::services::Services;
use alloy_primitives::U256;
use serde_json::{Value, json};
use shared::domain::{Amount, EventId, EventStatus};
use shared::error::Error;
use shared::ports::{Clock, Sql};
use shared::sql::{Row, Statement};
use std::collections::BTreeMap;

/// A ticket type as a hold needs it.
#[derive(Debug, Clone)]
struct TypeInfo {
    price: String,
    currency: String,
    supply: i64,
    /// 0: no limit.
    per_wallet_limit: i64,
    /// Sold by seat (it has seats in the map) rather than by quantity.
    seated: bool,
}

impl TypeInfo {
    fn from_row(row: &Row<'_>) -> Result<(String, Self), Error> {
        Ok((
            row.get("id")?,
            TypeInfo {
                price: row.get("price")?,
                currency: row.get("currency")?,
                supply: row.get("supply")?,
                per_wallet_limit: row.get::<Option<i64>>("per_wallet_limit")?.unwrap_or(0),
                seated: row.get::<i64>("seated")? != 0,
            },
        ))
    }
}

/// One line of a hold.
#[derive(Debug, Clone)]
struct Item {
    ticket_type_id: String,
    seat: Option<String>,
    quantity: u32,
}

/// The event's status and ticket types, and (for a seat hold) the requested seats' types.
struct Catalog {
    status: Option<EventStatus>,
    types: BTreeMap<String, TypeInfo>,
    seats: BTreeMap<String, String>,
}

async fn read_catalog<S: Services>(services: &S, request: &HoldRequest) -> Result<Catalog, Error> {
    let id = request.event_id.as_str();
    let event = Statement::new("SELECT status FROM events WHERE id = ?").bind(id);
    let types = Statement::new(
        "SELECT t.id, t.price, t.currency, t.supply, t.per_wallet_limit, \
         EXISTS (SELECT 1 FROM seats s WHERE s.event_id = t.event_id \
                 AND s.ticket_type_id = t.id) AS seated \
         FROM ticket_types t WHERE t.event_id = ?",
    )
    .bind(id);
    let seats = match &request.want {
        Want::Seats(labels) => {
            let mut statement = Statement::new(format!(
                "SELECT label, ticket_type_id FROM seats WHERE event_id = ? AND label IN ({})",
                vec!["?"; labels.len()].join(", ")
            ))
            .bind(id);
            for label in labels {
                statement = statement.bind(label.as_str());
            }
            Some(statement)
        }
        Want::Quantity { .. } => None,
    };
    let sql = services.sql();
    let (event, types, seats) = futures::join!(sql.execute(event), sql.execute(types), async {
        match seats {
            Some(statement) => sql.execute(statement).await.map(Some),
            None => Ok(None),
        }
    });
    let status = match event?.row(0) {
        Some(row) => {
            let status: String = row.get("status")?;
            Some(EventStatus::parse(&status).ok_or_else(|| {
                Error::Internal(format!("stored event status {status:?} does not parse"))
            })?)
        }
        None => None,
    };
    let types = types?
        .iter()
        .map(|row| TypeInfo::from_row(&row))
        .collect::<Result<_, Error>>()?;
    let seats = match seats? {
        Some(rows) => rows
            .iter()
            .map(|row| Ok((row.get("label")?, row.get("ticket_type_id")?)))
            .collect::<Result<_, Error>>()?,
        None => BTreeMap::new(),
    };
    Ok(Catalog {
        status,
        types,
        seats,
    })
}

/// Checks the event can be held from.
fn check_event(id: &EventId, status: Option<EventStatus>) -> Result<(), Error> {
    match status {
        Some(EventStatus::Published) => Ok(()),
        Some(EventStatus::Cancelled) => Err(Error::conflict(
            "EVENT_STATE_CONFLICT",
            "the event is cancelled: nothing can be held",
        )),
        // Drafts are not public: as absent as a missing event.
        _ => Err(Error::not_found(
            "EVENT_NOT_FOUND",
            format!("there is no event {:?}", id.as_str()),
        )),
    }
}

/// The lines of the hold, each checked against the catalog.
fn items(want: &Want, catalog: &Catalog) -> Result<Vec<Item>, Error> {
    match want {
        Want::Seats(labels) => labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let tt = catalog.seats.get(label.as_str()).ok_or_else(|| {
                    Error::invalid(
                        format!("seats[{i}]"),
                        format!("there is no seat {:?} at this event", label.as_str()),
                    )
                })?;
                Ok(Item {
                    ticket_type_id: tt.clone(),
                    seat: Some(label.as_str().to_owned()),
                    quantity: 1,
                })
            })
            .collect(),
        Want::Quantity {
            ticket_type_id,
            quantity,
        } => {
            let info = catalog.types.get(ticket_type_id.as_str()).ok_or_else(|| {
                Error::invalid(
                    "ticketTypeId",
                    format!("{ticket_type_id} is not a ticket type of this event"),
                )
            })?;
            if info.seated {
                return Err(Error::invalid(
                    "ticketTypeId",
                    format!("{ticket_type_id} is sold by seat: send seats instead"),
                ));
            }
            Ok(vec![Item {
                ticket_type_id: ticket_type_id.as_str().to_owned(),
                seat: None,
                quantity: *quantity,
            }])
        }
    }
}

/// The items as the client sees them, and the total in the one currency they share.
fn price_snapshot(items: &[Item], catalog: &Catalog) -> Result<(Vec<Value>, Value), Error> {
    let mut total = U256::ZERO;
    let mut currency: Option<&str> = None;
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let info = type_info(catalog, &item.ticket_type_id)?;
        let price = Amount::parse(&info.price)
            .map_err(|e| Error::Internal(format!("stored price does not parse: {e}")))?;
        match currency {
            Some(c) if c != info.currency => {
                return Err(Error::invalid(
                    "seats",
                    "the seats of one hold must be priced in one currency",
                ));
            }
            _ => currency = Some(&info.currency),
        }
        total = price
            .value()
            .checked_mul(U256::from(item.quantity))
            .and_then(|line| total.checked_add(line))
            .ok_or_else(|| Error::invalid("body", "the total does not fit in 256 bits"))?;
        lines.push(json!({
            "ticketTypeId": item.ticket_type_id,
            "seatLabel": item.seat,
            "quantity": item.quantity,
            "price": info.price,
            "currency": info.currency,
        }));
    }
    Ok((
        lines,
        json!({ "total": total.to_string(), "currency": currency }),
    ))
}

fn type_info<'c>(catalog: &'c Catalog, id: &str) -> Result<&'c TypeInfo, Error> {
    // A seat's type is a type of its event (the catalog checks it on upload).
    catalog
        .types
        .get(id)
        .ok_or_else(|| Error::Internal(format!("seat of unknown ticket type {id}")))
}

/// The script's request argument: the lines, and the limit and stock of each type.
fn script_request(items: &[Item], catalog: &Catalog) -> Result<String, Error> {
    let mut types = serde_json::Map::new();
    for item in items {
        let info = type_info(catalog, &item.ticket_type_id)?;
        types.insert(
            item.ticket_type_id.clone(),
            json!({
                "limit": info.per_wallet_limit,
                "supply": if info.seated { -1 } else { info.supply },
            }),
        );
    }
    let lines: Vec<Value> = items
        .iter()
        .map(|i| {
            json!([
                i.ticket_type_id,
                i.seat.as_deref().unwrap_or(""),
                i.quantity
            ])
        })
        .collect();
    Ok(json!({ "items": lines, "types": types }).to_string())
}

/// `POST /v1/holds`.
///
/// # Errors
/// 401; 403 `ADMISSION_REQUIRED` / `ADMISSION_INVALID` / `ADMISSION_EXPIRED` (sales with a
/// waiting room); 400 `VALIDATION_FAILED` (naming an unknown seat, `seats[2]`); 404
/// `EVENT_NOT_FOUND`; 409 `SALE_NOT_STARTED` / `SALE_ENDED`; 503 `SALES_PAUSED`;
/// 409 `EVENT_STATE_CONFLICT` (cancelled), `SEATS_UNAVAILABLE` (listing the seats),
/// `SOLD_OUT`; 422 `WALLET_LIMIT_EXCEEDED`; 503 `REDIS_UNAVAILABLE` (nothing held).
pub async fn create<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let request = HoldRequest::try_from(json_body::<HoldInput>(call.request)?)?;
    let (catalog, sale) = futures::join!(
        read_catalog(services, &request),
        load_state(services, &request.event_id)
    );
    let (catalog, sale): (Catalog, SaleState) = (catalog?, sale?);
    check_event(&request.event_id, catalog.status)?;
    sale.check_open(services.clock().now_ms() as i64)?;
    if sale.needs_admission() {
        check_admission(services, call.request, &request.event_id, &caller.wallet)?;
    }
    let items = items(&request.want, &catalog)?;
    let (lines, snapshot) = price_snapshot(&items, &catalog)?;
    let hold_id = HoldId::generate(services.rng());
    let wallet = caller.wallet.checksummed();
    let inventory = Inventory::new(&services.config().redis.key_prefix, &request.event_id);
    let record_key = inventory.record_key(hold_id.as_str());
    let stored = json!({ "items": lines, "priceSnapshot": snapshot }).to_string();
    let (status, parts) = inventory
        .run(
            services.redis(),
            services.sql(),
            &HOLD,
            &[&record_key],
            &[
                hold_id.as_str(),
                &wallet,
                request.event_id.as_str(),
                &sale.hold_ttl_ms().to_string(),
                &sale.event_wallet_limit().to_string(),
                &script_request(&items, &catalog)?,
                &stored,
            ],
        )
        .await?;
    let number = |i: usize| parts.get(i).and_then(|v| v.as_i64()).unwrap_or(0);
    let text = |i: usize| parts.get(i).and_then(|v| v.as_str()).unwrap_or_default();
    match status.as_str() {
        "OK" => {
            let mut response = Response::json(
                201,
                &json!({
                    "holdId": hold_id,
                    "eventId": request.event_id,
                    "expiresAt": number(0),
                    "items": lines,
                    "priceSnapshot": snapshot,
                }),
            );
            response
                .headers
                .set("location", format!("/v1/holds/{hold_id}"));
            Ok(response)
        }
        "SEATS" => {
            // The list is also a field of the body, so clients need not parse the message.
            let seats = texts(&parts);
            let error = Error::conflict(
                "SEATS_UNAVAILABLE",
                format!("these seats are held or sold: {}", seats.join(", ")),
            );
            let mut body = serde_json::to_value(error.body(call.request_id))
                .map_err(|e| Error::Internal(e.to_string()))?;
            body["unavailable"] = json!(seats);
            Ok(Response::json(409, &body))
        }
        "SOLD_OUT" => Err(Error::conflict(
            "SOLD_OUT",
            format!("{} has {} left", text(0), number(1)),
        )),
        "LIMIT" => Err(Error::unprocessable(
            "WALLET_LIMIT_EXCEEDED",
            if text(0).is_empty() {
                format!(
                    "this wallet may hold or buy {} more tickets of this event",
                    number(1)
                )
            } else {
                format!(
                    "this wallet may hold or buy {} more tickets of {}",
                    number(1),
                    text(0)
                )
            },
        )),
        other => Err(Error::Internal(format!("hold.lua answered {other}"))),
    }
}
