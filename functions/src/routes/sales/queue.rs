//! The waiting room: `POST /v1/sales/{eventId}/queue` joins (once per wallet) and
//! `GET /v1/sales/{eventId}/queue/status` reports the place, or the admission token once the
//! place is reached.
//!
//! Admission needs no scheduler: the cursor is a function of time and the settings
//! ([`shared::sale::Admission`]), so a status poll with a queue ticket that carries its place
//! is O(1) and touches Redis not at all.

use crate::call::Call;
use crate::extract::authenticate;
use crate::http::Response;
use crate::keys;
use crate::sale::{AdmissionPass, QueueTicket, SaleState, load_state};
use crate::services::Services;
use serde_json::{Value, json};
use shared::domain::{EventId, WalletAddress};
use shared::error::Error;
use shared::ports::{Clock, Redis, Rng, Sql};
use shared::redis::{Command, Script};
use shared::sale::{Admission, QueueMode, SaleSettings};
use shared::sql::Statement;
use std::sync::LazyLock;

static JOIN: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../../scripts/queue_join.lua")));

/// The header (or `ticket` query parameter) that carries a queue ticket.
const TICKET_HEADER: &str = "x-queue-ticket";

fn event_id(call: &Call<'_>) -> Result<EventId, Error> {
    let raw = call.params.get("eventId");
    EventId::parse(raw)
        .map_err(|_| Error::not_found("EVENT_NOT_FOUND", format!("there is no event {raw:?}")))
}

/// The settings of a sale with a waiting room.
fn waiting_room(state: &SaleState) -> Result<SaleSettings, Error> {
    match state.settings {
        Some(settings) if settings.waiting_room => Ok(settings),
        _ => Err(Error::conflict(
            "NO_WAITING_ROOM",
            "this event's sale has no waiting room: hold seats directly",
        )),
    }
}

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
    let caller = authenticate(services, call.request).await?;
    let id = event_id(call)?;
    let wallet = caller.wallet.checksummed();
    let sql = services.sql();
    let (state, checks) = futures::join!(
        load_state(services, &id),
        sql.execute(
            Statement::new(
                "SELECT (SELECT status FROM events WHERE id = ?) AS status, \
                 (SELECT COALESCE(reason, '') FROM deny_list WHERE wallet = ?) AS denied",
            )
            .bind(id.as_str())
            .bind(wallet.as_str()),
        )
    );
    let (state, checks) = (state?, checks?);
    let row = checks
        .row(0)
        .ok_or_else(|| Error::Internal("the join check returned no row".to_owned()))?;
    if row.get::<Option<String>>("status")?.as_deref() != Some("published") {
        return Err(Error::not_found(
            "EVENT_NOT_FOUND",
            format!("there is no event {:?} on sale", id.as_str()),
        ));
    }
    if row.get::<Option<String>>("denied")?.is_some() {
        return Err(Error::forbidden(
            "WALLET_DENIED",
            "this wallet may not join the sale",
        ));
    }
    let settings = waiting_room(&state)?;
    state.check_not_paused()?;
    let now = services.clock().now_ms() as i64;
    state.check_not_ended(now)?;
    let ticket = enqueue(services, &id, &caller.wallet, &settings).await?;
    let body = standing_body(services, &settings, &ticket, now)?;
    Ok(Response::json(200, &body))
}

/// Runs `queue_join.lua` and returns the wallet's queue ticket.
async fn enqueue<S: Services>(
    services: &S,
    id: &EventId,
    wallet: &WalletAddress,
    settings: &SaleSettings,
) -> Result<QueueTicket, Error> {
    let part = |p: &str| keys::queue(services, id.as_str(), p);
    let (members, pre, pre_seq, post_seq) = (
        part("members"),
        part("pre"),
        part("pre-seq"),
        part("post-seq"),
    );
    // 48 random bits: exact as a Redis sorted-set score (a double).
    let mut bytes = [0u8; 8];
    services.rng().fill(&mut bytes[2..]);
    let score = u64::from_be_bytes(bytes).to_string();
    let mode = match settings.queue_mode {
        QueueMode::Fifo => "fifo",
        QueueMode::Random => "random",
    };
    let start = settings.starts_at_ms.to_string();
    let wallet_text = wallet.checksummed();
    let reply = services
        .redis()
        .eval(
            &JOIN,
            &[&members, &pre, &pre_seq, &post_seq],
            &[&wallet_text, &start, mode, &score],
        )
        .await?;
    let parts = match &reply {
        shared::redis::Value::Array(parts) => parts.as_slice(),
        _ => &[],
    };
    let number = |i: usize| parts.get(i).and_then(shared::redis::Value::as_i64);
    let (position, joined) = match parts.first().and_then(|v| v.as_str()) {
        Some("POS") => (number(1).map(|p| p as u64), number(2)),
        Some("PRE") => (None, number(1)),
        _ => {
            return Err(Error::Internal(format!(
                "queue_join.lua answered {reply:?}"
            )));
        }
    };
    Ok(QueueTicket {
        e: id.as_str().to_owned(),
        w: wallet_text,
        p: position,
        j: joined.unwrap_or(0),
    })
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
    let state = load_state(services, &id).await?;
    let settings = waiting_room(&state)?;
    let now = services.clock().now_ms() as i64;
    if ticket.p.is_none() && now >= settings.starts_at_ms {
        // The draw is fixed now: read the place once; the new ticket carries it.
        let rank = services
            .redis()
            .exec(
                Command::new("ZRANK")
                    .arg(keys::queue(services, id.as_str(), "pre"))
                    .arg(&ticket.w),
            )
            .await?;
        let rank = rank.as_i64().ok_or_else(|| Error::Client {
            status: 410,
            code: "QUEUE_TICKET_STALE",
            message: "the queue no longer knows this ticket: join again".to_owned(),
        })?;
        ticket.p = Some(rank as u64);
    }
    let body = standing_body(services, &settings, &ticket, now)?;
    Ok(Response::json(200, &body))
}
