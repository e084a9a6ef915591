//! The waiting room: `POST /v1/sales/{eventId}/queue` joins (once per wallet) and
//! `GET /v1/sales/{eventId}/queue/status` reports the place, or the admission token once the
//! place is reached.
//!
//! Admission needs no scheduler: the cursor is a function of time and the settings
//! ([`shared::sale::Admission`]), so a status poll with a queue ticket that carries its place
//! is O(1) and touches Redis not at all.

use crate::call::Call;
use crate::extract::authenticate_token;
use crate::gate::Gate;
use crate::http::Response;
use crate::keys;
use crate::routes::holds::sale_refusal;
use crate::sale::catalog::{self, CatalogKeys};
use crate::sale::{AdmissionPass, QueueTicket, deny_cache};
use crate::services::Services;
use serde_json::{Value, json};
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Clock, Rng};
use shared::redis::{Script, Value as Value_};
use shared::sale::{Admission, SaleSettings};
use std::sync::LazyLock;

/// Joins (`queue_join.lua`, gated, with the catalog's functions).
static JOIN: LazyLock<Script> = crate::gated_script!("queue_join.lua"; "catalog_lib.lua");
/// Reads what a status poll needs (`queue_status.lua`, gated, with the catalog's functions).
static STATUS: LazyLock<Script> = crate::gated_script!("queue_status.lua"; "catalog_lib.lua");

/// The header (or `ticket` query parameter) that carries a queue ticket.
const TICKET_HEADER: &str = "x-queue-ticket";

fn event_id(call: &Call<'_>) -> Result<EventId, Error> {
    let raw = call.params.get("eventId");
    EventId::parse(raw)
        .map_err(|_| Error::not_found("EVENT_NOT_FOUND", format!("there is no event {raw:?}")))
}

/// The settings of a sale with a waiting room.
/// The body both routes answer with.
fn standing_body<S: Services>(
    services: &S,
    settings: &SaleSettings,
    ticket: &QueueTicket,
    now: i64,
) -> Result<Value, Error> {
    let signed = ticket.sign(services);
    let Some(position) = ticket.p else {
        // A random-mode arrival before the start: the place is drawn at the start.
        let until_start = ((settings.starts_at_ms - now).max(0) as u64).div_ceil(1000);
        return Ok(json!({
            "queueTicket": signed,
            "position": null,
            "ahead": null,
            "estimatedWaitSeconds": until_start,
            "pollAfterSeconds": until_start.clamp(1, 30),
            "admitted": false,
        }));
    };
    let standing = Admission::at(settings, now).standing(position);
    let mut body = json!({
        "queueTicket": signed,
        "position": position,
        "ahead": standing.ahead,
        "estimatedWaitSeconds": standing.estimated_wait_secs,
        "pollAfterSeconds": standing.poll_after_secs,
        "admitted": standing.admitted,
    });
    if standing.admitted {
        // The session runs from admission (or the join, if later); polling again does not
        // extend it, so the number of shoppers inside stays bounded by the settings.
        let from = Admission::admitted_at_ms(settings, position).max(ticket.j);
        let expires = from + i64::from(settings.session_secs) * 1000;
        if expires <= now {
            return Err(Error::Client {
                status: 410,
                code: "ADMISSION_EXPIRED",
                message: "your turn came and your shopping session has ended".to_owned(),
            });
        }
        let pass = AdmissionPass {
            e: ticket.e.clone(),
            w: ticket.w.clone(),
            x: expires,
        };
        body["admissionToken"] = json!(pass.sign(services));
        body["admissionExpiresAt"] = json!(expires);
    }
    Ok(body)
}

/// `POST /v1/sales/{eventId}/queue`.
///
/// # Errors
/// 401; 403 `WALLET_DENIED`; 404 `EVENT_NOT_FOUND`; 409 `NO_WAITING_ROOM` / `SALE_ENDED`;
/// 503 `SALES_PAUSED` / `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE`.
pub async fn join<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate_token(services, call.request)?;
    let id = event_id(call)?;
    let gate = Gate::new(services, call, Some(&caller));
    let wallet = caller.wallet.checksummed();
    let part = |p: &str| keys::queue(services, id.as_str(), p);
    let (members, pre, pre_seq, post_seq) = (
        part("members"),
        part("pre"),
        part("pre-seq"),
        part("post-seq"),
    );
    let prefix = &services.config().redis.key_prefix;
    let catalog_keys = CatalogKeys::new(prefix, id.as_str());
    let deny = deny_cache::key(services);
    // 48 random bits: exact as a Redis sorted-set score (a double).
    let mut bytes = [0u8; 8];
    services.rng().fill(&mut bytes[2..])?;
    let score = u64::from_be_bytes(bytes).to_string();
    let keys = [
        members.as_str(),
        &pre,
        &pre_seq,
        &post_seq,
        &catalog_keys.snapshot,
        &catalog_keys.epoch,
        &deny,
    ];
    let mut parts = Vec::new();
    for _ in 0..3 {
        parts = array(
            gate.eval(services, call, &JOIN, &keys, &[&wallet, &score])
                .await?,
        );
        match text(&parts, 0) {
            "NOCATALOG" => catalog::load(services, &id).await?,
            "NODENY" => deny_cache::load(services).await?,
            _ => break,
        }
    }
    let number = |i: usize| parts.get(i).and_then(Value_::as_i64);
    let (position, joined, sale) = match text(&parts, 0) {
        "POS" => (number(1).map(|p| p as u64), number(2), text(&parts, 3)),
        "PRE" => (None, number(1), text(&parts, 2)),
        other => return Err(refusal(other, &id, text(&parts, 1))),
    };
    let settings = catalog::settings_of(sale)?
        .ok_or_else(|| Error::Internal("queue_join.lua admitted a sale without settings".into()))?;
    let ticket = QueueTicket {
        e: id.as_str().to_owned(),
        w: wallet,
        p: position,
        j: joined.unwrap_or(0),
    };
    let now = services.clock().now_ms() as i64;
    let body = standing_body(services, &settings, &ticket, now)?;
    Ok(Response::json(200, &body))
}

/// A script reply as its parts.
fn array(reply: Value_) -> Vec<Value_> {
    match reply {
        Value_::Array(parts) => parts,
        other => vec![other],
    }
}

fn text(parts: &[Value_], i: usize) -> &str {
    parts.get(i).and_then(Value_::as_str).unwrap_or_default()
}

/// The error for a refusal of the waiting room's scripts.
fn refusal(status: &str, id: &EventId, detail: &str) -> Error {
    match status {
        "NO_EVENT" => Error::not_found(
            "EVENT_NOT_FOUND",
            format!("there is no event {:?} on sale", id.as_str()),
        ),
        "DENIED" => Error::forbidden("WALLET_DENIED", "this wallet may not join the sale"),
        "NO_WAITING_ROOM" => Error::conflict(
            "NO_WAITING_ROOM",
            "this event's sale has no waiting room: hold seats directly",
        ),
        other => sale_refusal(other, id.as_str(), detail)
            .unwrap_or_else(|| Error::Internal(format!("a queue script answered {other}"))),
    }
}

/// `GET /v1/sales/{eventId}/queue/status` with the queue ticket in `X-Queue-Ticket` (or
/// `?ticket=`).
///
/// # Errors
/// 401 `QUEUE_TICKET_MISSING`; 403 `QUEUE_TICKET_INVALID`; 409 `NO_WAITING_ROOM`;
/// 410 `QUEUE_TICKET_STALE` (the queue was lost: join again) / `ADMISSION_EXPIRED`.
pub async fn status<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let id = event_id(call)?;
    let presented = call
        .request
        .headers
        .get(TICKET_HEADER)
        .or_else(|| call.query.get("ticket"))
        .ok_or_else(|| {
            Error::unauthorized(
                "QUEUE_TICKET_MISSING",
                "send the queue ticket from joining in X-Queue-Ticket",
            )
        })?;
    let mut ticket = QueueTicket::verify(services, presented.trim(), &id)?;
    let gate = Gate::new(services, call, None);
    let pre = keys::queue(services, id.as_str(), "pre");
    let catalog_keys = CatalogKeys::new(&services.config().redis.key_prefix, id.as_str());
    let keys = [pre.as_str(), &catalog_keys.snapshot, &catalog_keys.epoch];
    // A ticket without a place may learn it: the draw is fixed once the sale started.
    let want_rank = if ticket.p.is_none() { "1" } else { "0" };
    let mut parts = Vec::new();
    for _ in 0..2 {
        parts = array(
            gate.eval(services, call, &STATUS, &keys, &[&ticket.w, want_rank])
                .await?,
        );
        if text(&parts, 0) != "NOCATALOG" {
            break;
        }
        catalog::load(services, &id).await?;
    }
    if text(&parts, 0) != "OK" {
        return Err(refusal(text(&parts, 0), &id, ""));
    }
    let settings = catalog::settings_of(text(&parts, 1))?.ok_or_else(|| {
        Error::Internal("queue_status.lua answered a sale without settings".into())
    })?;
    let now = services.clock().now_ms() as i64;
    if ticket.p.is_none() && now >= settings.starts_at_ms {
        // The draw is fixed now: the new ticket carries the place.
        let rank = parts.get(2).and_then(Value_::as_i64).unwrap_or(-1);
        if rank < 0 {
            return Err(Error::Client {
                status: 410,
                code: "QUEUE_TICKET_STALE",
                message: "the queue no longer knows this ticket: join again".to_owned(),
            });
        }
        ticket.p = Some(rank as u64);
    }
    let body = standing_body(services, &settings, &ticket, now)?;
    Ok(Response::json(200, &body))
}
