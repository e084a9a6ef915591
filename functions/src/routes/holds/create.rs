//! `POST /v1/holds`: takes seats or units of a ticket type for a while, all or nothing.
//!
//! One Redis round trip in the common case and no libSQL: one run of the gated `hold.lua`
//! passes the rate limit and the token's revocation, reads the event's catalog snapshot
//! (status, types, prices, seat map, sale window and pause), and takes what is free. Prices
//! are snapshotted into the hold so a later order charges what the buyer saw. A missing
//! snapshot or inventory is built from libSQL and the script runs again.

use super::request::{HoldId, HoldInput, HoldRequest, Want};
use crate::call::Call;
use crate::extract::{Caller, authenticate_token, json_body};
use crate::gate::Gate;
use crate::http::Response;
use crate::inventory::texts;
use crate::sale::catalog::{self, CatalogKeys};
use crate::sale::check_admission;
use crate::services::Services;
use serde_json::{Value, json};
use shared::error::Error;
use shared::redis::{Script, Value as Reply};
use std::sync::LazyLock;

/// Takes a hold (`hold.lua`, after the gate and the catalog and inventory functions).
static HOLD: LazyLock<Script> = crate::gated_script!("hold.lua"; "inventory_keys.lua", "live_lib.lua", "hold_lib.lua", "catalog_lib.lua");

/// `POST /v1/holds`.
///
/// # Errors
/// 401; 429 `RATE_LIMITED`; 403 `ADMISSION_REQUIRED` / `ADMISSION_INVALID` /
/// `ADMISSION_EXPIRED` (sales with a waiting room); 400 `VALIDATION_FAILED` (naming an unknown
/// seat, `seats[2]`); 404 `EVENT_NOT_FOUND`; 409 `SALE_NOT_STARTED` / `SALE_ENDED`; 503
/// `SALES_PAUSED`; 409 `EVENT_STATE_CONFLICT` (cancelled), `SEATS_UNAVAILABLE` (listing the
/// seats), `SOLD_OUT`; 422 `WALLET_LIMIT_EXCEEDED`; 503 `REDIS_UNAVAILABLE` (nothing held).
pub async fn create<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate_token(services, call.request)?;
    let request = HoldRequest::try_from(json_body::<HoldInput>(call.request)?)?;
    let gate = Gate::new(services, call, Some(&caller));
    // Admission tokens are pure HMAC: checked here, the script only asks whether the sale
    // needs one.
    let admission = check_admission(services, call.request, &request.event_id, &caller.wallet);
    let hold_id = HoldId::generate(services.rng())?;
    let prefix = &services.config().redis.key_prefix;
    let inventory = crate::inventory::of(services.config(), &request.event_id);
    let catalog_keys = CatalogKeys::new(prefix, request.event_id.as_str());
    let record_key = inventory.record_key(hold_id.as_str());
    let want = match &request.want {
        Want::Seats(labels) => {
            json!({ "seats": labels.iter().map(|l| l.as_str()).collect::<Vec<_>>() })
        }
        Want::Quantity {
            ticket_type_id,
            quantity,
        } => json!({ "type": ticket_type_id.as_str(), "quantity": quantity }),
    }
    .to_string();
    let wallet = caller.wallet.checksummed();
    let args = [
        hold_id.as_str(),
        wallet.as_str(),
        request.event_id.as_str(),
        if admission.is_ok() { "1" } else { "0" },
        want.as_str(),
    ];
    let extra = [
        record_key.as_str(),
        catalog_keys.snapshot.as_str(),
        catalog_keys.seats.as_str(),
        catalog_keys.epoch.as_str(),
    ];
    // At most: build the catalog, then the inventory, then hold.
    let mut parts = Vec::new();
    let mut status = String::new();
    for _ in 0..3 {
        let keys = inventory.keys_with(&extra);
        let argv = inventory.args_with(&args);
        let reply = gate.eval(services, call, &HOLD, &keys, &argv).await?;
        (status, parts) = split(reply)?;
        match status.as_str() {
            "NOCATALOG" => catalog::load(services, &request.event_id).await?,
            "UNLOADED" => {
                inventory
                    .load_sold(services.redis(), services.sql())
                    .await?
            }
            _ => break,
        }
    }
    answer(
        call, &caller, &request, &hold_id, admission, &status, &parts,
    )
}

fn split(reply: Reply) -> Result<(String, Vec<Reply>), Error> {
    let Reply::Array(mut parts) = reply else {
        return Err(Error::Internal(format!("hold.lua answered {reply:?}")));
    };
    if parts.is_empty() {
        return Err(Error::Internal("hold.lua answered nothing".into()));
    }
    let status = parts.remove(0).as_str().unwrap_or_default().to_owned();
    Ok((status, parts))
}

/// The response (or error) for the script's answer.
fn answer(
    call: &Call<'_>,
    caller: &Caller,
    request: &HoldRequest,
    hold_id: &HoldId,
    admission: Result<(), Error>,
    status: &str,
    parts: &[Reply],
) -> Result<Response, Error> {
    let number = |i: usize| parts.get(i).and_then(Reply::as_i64).unwrap_or(0);
    let text = |i: usize| parts.get(i).and_then(Reply::as_str).unwrap_or_default();
    let event_id = &request.event_id;
    match status {
        "OK" => {
            let stored: Value = serde_json::from_str(text(1))
                .map_err(|e| Error::Internal(format!("hold.lua stored a bad snapshot: {e}")))?;
            let mut response = Response::json(
                201,
                &json!({
                    "holdId": hold_id,
                    "eventId": event_id,
                    "expiresAt": number(0),
                    "items": stored["items"],
                    "priceSnapshot": stored["priceSnapshot"],
                }),
            );
            response
                .headers
                .set("location", format!("/v1/holds/{hold_id}"));
            Ok(response)
        }
        "SEATS" => {
            // The list is also a field of the body, so clients need not parse the message.
            let seats = texts(parts);
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
        "BAD_SEAT" => Err(Error::invalid(
            format!("seats[{}]", number(0)),
            format!("there is no seat {:?} at this event", text(1)),
        )),
        "BAD_TYPE" => Err(Error::invalid(
            "ticketTypeId",
            "this is not a ticket type of this event".to_owned(),
        )),
        "SEATED" => Err(Error::invalid(
            "ticketTypeId",
            "this ticket type is sold by seat: send seats instead".to_owned(),
        )),
        "MIXED_CURRENCY" => Err(Error::invalid(
            "seats",
            "the seats of one hold must be priced in one currency",
        )),
        "ADMISSION" => Err(admission.err().unwrap_or_else(|| {
            Error::Internal(format!("hold.lua wants an admission {caller:?} has"))
        })),
        other => Err(sale_refusal(other, event_id.as_str(), text(0))
            .unwrap_or_else(|| Error::Internal(format!("hold.lua answered {other}")))),
    }
}

/// The error of a sale refusal from `catalog_lib.lua` (`detail`: its first part).
pub fn sale_refusal(status: &str, event_id: &str, detail: &str) -> Option<Error> {
    Some(match status {
        "NO_EVENT" => {
            Error::not_found("EVENT_NOT_FOUND", format!("there is no event {event_id:?}"))
        }
        "CANCELLED" => Error::conflict(
            "EVENT_STATE_CONFLICT",
            "the event is cancelled: nothing can be held",
        ),
        "PAUSED" => Error::Client {
            status: 503,
            code: "SALES_PAUSED",
            message: if detail == "*" {
                "all sales are paused by the operator; retry later".to_owned()
            } else {
                "this event's sale is paused by the operator; retry later".to_owned()
            },
        },
        "NOT_STARTED" => Error::conflict(
            "SALE_NOT_STARTED",
            format!("the sale starts at {detail} (ms since the epoch)"),
        ),
        "ENDED" => Error::conflict("SALE_ENDED", "the sale has ended"),
        _ => return None,
    })
}
