//! `GET /v1/events/{id}/availability/updates?since_seq=N&limit=M`: the change-log entries after
//! a client's seq, for a client that reconnects or polls instead of streaming.
//!
//! Costs one Redis round trip: the read runs inside the gate's script call (rate limit and
//! log read in one `EVALSHA`, see `crate::gate`). libSQL is read only when the event has no
//! log, to tell an unknown event (404) from one whose log Redis lost (409 `SEQ_TOO_OLD`). Answers may be cached for a second (`Cache-Control`), so a CDN in
//! front of the API serves a crowd polling the same seq with one origin read.

use super::log::{self, LogRead};
use crate::call::Call;
use crate::gate::Gate;
use crate::http::Response;
use crate::routes::holds::availability;
use crate::services::Services;
use serde_json::{Value, json};
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::Sql;
use shared::redis::Script;
use shared::sql::Statement;
use std::sync::LazyLock;

/// The log read behind the read group's rate limit, in one script call.
static GATED_READ: LazyLock<Script> = crate::gated_script!("live_read.lua");

/// Entries per answer when the client does not say.
const DEFAULT_LIMIT: usize = 500;
/// Entries per answer at most.
const MAX_LIMIT: usize = 1_000;

fn not_found(id: &str) -> Error {
    Error::not_found("EVENT_NOT_FOUND", format!("there is no event {id:?}"))
}

/// 409 `SEQ_TOO_OLD`: the entries after `since` are no longer kept.
pub fn too_old(since: u64) -> Error {
    Error::conflict(
        "SEQ_TOO_OLD",
        format!(
            "the change log no longer holds the changes after seq {since}: take a new snapshot \
             (GET /v1/events/{{id}}/availability) and follow from its seq"
        ),
    )
}

/// `GET /v1/events/{id}/availability/updates`.
///
/// # Errors
/// 400 `VALIDATION_FAILED` (`since_seq`, `limit`) / `SEQ_AHEAD`; 404 `EVENT_NOT_FOUND`;
/// 409 `SEQ_TOO_OLD`; 503 `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE`.
pub async fn get<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let raw = call.params.get("id");
    let id = EventId::parse(raw).map_err(|_| not_found(raw))?;
    let since = call.query.parse_opt::<u64>("since_seq")?.ok_or_else(|| {
        Error::invalid(
            "since_seq",
            "send the seq of your snapshot or of the last update you applied",
        )
    })?;
    let limit = match call.query.parse_opt::<usize>("limit")? {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
    };
    let [meta, log_key] = log::log_keys(&services.config().redis.key_prefix, &id);
    let gate = Gate::new(services, call, None);
    let reply = gate
        .eval(
            services,
            call,
            &GATED_READ,
            &[&meta, &log_key],
            &[&since.to_string(), &limit.to_string()],
        )
        .await?;
    let read = log::parse(reply)?;
    let Some(head) = read.head else {
        // No log: an unknown event, or one whose log Redis lost (its snapshot starts anew).
        return Err(if is_public(services, &id).await? {
            too_old(since)
        } else {
            not_found(raw)
        });
    };
    check_cursor(&read, since, head)?;
    let to_seq = read.entries.last().map_or(since, |e| e.seq);
    let updates = read
        .entries
        .iter()
        .map(|e| serde_json::from_str(&e.json))
        .collect::<Result<Vec<Value>, _>>()
        .map_err(|e| Error::Internal(format!("a change-log entry is not JSON: {e}")))?;
    let mut response = Response::json(
        200,
        &json!({
            "eventId": id,
            "fromSeq": since,
            "toSeq": to_seq,
            "headSeq": head,
            "updates": updates,
        }),
    );
    response.headers.set(
        "cache-control",
        "public, max-age=1, stale-while-revalidate=1",
    );
    Ok(response)
}

/// Whether a client at `since` can catch up from `read`: 400 when it is ahead of the log,
/// 409 when the log dropped entries it has not seen.
///
/// # Errors
/// 400 `SEQ_AHEAD`; 409 `SEQ_TOO_OLD`.
pub fn check_cursor(read: &LogRead, since: u64, head: u64) -> Result<(), Error> {
    if since > head {
        return Err(Error::bad_request(
            "SEQ_AHEAD",
            format!("since_seq {since} is ahead of the change log (last seq {head})"),
        ));
    }
    if !read.covers(since) {
        return Err(too_old(since));
    }
    Ok(())
}

async fn is_public<S: Services>(services: &S, id: &EventId) -> Result<bool, Error> {
    let rows = services
        .sql()
        .execute(Statement::new("SELECT status FROM events WHERE id = ?").bind(id.as_str()))
        .await?;
    availability::is_public(&rows)
}
