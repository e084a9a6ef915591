//! The shape every organizer write shares: who may write, the guarded atomic batch, and the
//! cache invalidation after it.

use super::not_found;
use super::record::EventRecord;
use crate::cache;
use crate::call::Call;
use crate::extract::{Caller, authenticate};
use crate::http::Response;
use crate::services::Services;
use shared::domain::{EventId, EventStatus, Role};
use shared::error::Error;
use shared::ports::{Clock, Sql};
use shared::sql::{Rows, SqlValue, Statement};

/// The SQL that moves an event's version forward (see [`EventRecord::updated_at`]); binds
/// `now` once.
pub(super) const BUMP_VERSION: &str = "updated_at = max(?, updated_at + 1)";

/// The version a write with [`BUMP_VERSION`] gives an event read at `updated_at`.
pub(super) fn next_version(updated_at: i64, now_ms: i64) -> i64 {
    now_ms.max(updated_at + 1)
}

/// The caller, who must be an organizer or an admin.
///
/// # Errors
/// 401 from [`authenticate`]; 403 `FORBIDDEN_ROLE`.
pub(super) async fn organizer<S: Services>(services: &S, call: &Call<'_>) -> Result<Caller, Error> {
    let caller = authenticate(services, call.request).await?;
    caller.require(Role::Organizer)?;
    Ok(caller)
}

/// Checks that `caller` may change `event`: its organizer, or an admin.
///
/// # Errors
/// 403 `EVENT_NOT_OWNER`.
pub(super) fn check_owner(caller: &Caller, event: &EventRecord) -> Result<(), Error> {
    if caller.role >= Role::Admin || caller.wallet == event.organizer {
        Ok(())
    } else {
        Err(Error::forbidden(
            "EVENT_NOT_OWNER",
            "only the event's organizer or an admin may change it",
        ))
    }
}

/// Reads event `id` for a change by `caller`.
///
/// # Errors
/// 404 `EVENT_NOT_FOUND`; 403 `EVENT_NOT_OWNER`; 503/500 from libSQL.
pub(crate) async fn owned_event<S: Services>(
    services: &S,
    caller: &Caller,
    id: &EventId,
) -> Result<EventRecord, Error> {
    let event = EventRecord::load(services, id)
        .await?
        .ok_or_else(|| not_found(id.as_str()))?;
    check_owner(caller, &event)?;
    Ok(event)
}

/// Whether event `id` exists and `caller` may change it (its organizer, or an admin).
///
/// # Errors
/// 503/500 from libSQL.
pub(crate) async fn runs_existing_event<S: Services>(
    services: &S,
    caller: &Caller,
    id: &EventId,
) -> Result<bool, Error> {
    let event = EventRecord::load(services, id).await?;
    Ok(event.is_some_and(|event| check_owner(caller, &event).is_ok()))
}

/// Checks that the event may still change.
///
/// # Errors
/// 409 `EVENT_STATE_CONFLICT` for a cancelled event.
pub(super) fn check_editable(event: &EventRecord) -> Result<(), Error> {
    if event.status.is_editable() {
        Ok(())
    } else {
        Err(state_conflict(event.status, "is read-only"))
    }
}

/// 409 `EVENT_STATE_CONFLICT`.
pub(super) fn state_conflict(status: EventStatus, what: &str) -> Error {
    Error::conflict(
        "EVENT_STATE_CONFLICT",
        format!("the event is {status}: it {what}"),
    )
}

/// Now, as stored.
pub(super) fn now_ms<S: Services>(services: &S) -> i64 {
    i64::try_from(services.clock().now_ms()).unwrap_or(i64::MAX)
}

/// One guarded atomic batch on one event.
pub(super) struct EventWrite<'a> {
    event_id: &'a EventId,
    guarded: bool,
    statements: Vec<Statement>,
}

impl<'a> EventWrite<'a> {
    /// A batch without a guard (creating an event: nothing to have changed).
    pub fn new(event_id: &'a EventId) -> Self {
        EventWrite {
            event_id,
            guarded: false,
            statements: Vec::new(),
        }
    }

    /// A batch that aborts unless the event row still satisfies `condition` (SQL over the
    /// `events` columns, with `?` placeholders bound from `args`).
    pub fn guarded(
        event_id: &'a EventId,
        condition: &str,
        args: impl IntoIterator<Item = SqlValue>,
    ) -> Self {
        let guard = Statement::guard(
            &format!("SELECT 1 FROM events WHERE id = ? AND ({condition})"),
            std::iter::once(SqlValue::from(event_id.as_str())).chain(args),
        );
        EventWrite {
            event_id,
            guarded: true,
            statements: vec![guard],
        }
    }

    /// Appends a statement.
    pub fn push(&mut self, statement: Statement) -> &mut Self {
        self.statements.push(statement);
        self
    }

    /// Runs the batch, then drops the event's cached reads. Returns the results of the pushed
    /// statements (not the guard's).
    ///
    /// # Errors
    /// 409 `EVENT_CHANGED` when the guard failed (nothing written; reload and retry);
    /// 409 `CHAIN_EVENT_ID_TAKEN` / `TICKET_TYPE_NAME_TAKEN`; 503/500 from libSQL.
    pub async fn commit<S: Services>(self, services: &S) -> Result<Vec<Rows>, Error> {
        let skip = usize::from(self.guarded);
        let result = services.sql().batch_atomic(self.statements).await;
        // Also after a failure: a lost answer may hide a commit, and a spare DEL costs nothing.
        cache::invalidate(services, self.event_id.as_str()).await;
        match result {
            Ok(mut rows) => Ok(rows.split_off(skip.min(rows.len()))),
            Err(e) if self.guarded && e.is_guard_failure() => Err(Error::conflict(
                "EVENT_CHANGED",
                "the event changed while this request ran; nothing was written, reload it and retry",
            )),
            Err(e) if e.is_unique_violation_of("events.chain_event_id") => Err(Error::conflict(
                "CHAIN_EVENT_ID_TAKEN",
                "another event already has this chainEventId",
            )),
            // The unique index of migrations/0009 (names compare ignoring ASCII case).
            Err(e) if e.is_unique_violation_of("ticket_types.name") => Err(Error::conflict(
                "TICKET_TYPE_NAME_TAKEN",
                "the event already has a ticket type of this name",
            )),
            Err(e) => Err(e.into()),
        }
    }
}

/// `INSERT OR IGNORE` of the caller's `users` row: an organizer may write before their first
/// login was recorded, and `events.organizer` references `users`.
pub(super) fn ensure_user(caller: &Caller, now_ms: i64) -> Statement {
    Statement::new("INSERT OR IGNORE INTO users (wallet, role, created_at) VALUES (?, ?, ?)")
        .bind(caller.wallet.checksummed())
        .bind(caller.role.as_str())
        .bind(now_ms)
}

/// A JSON response for a write.
pub(super) fn written(status: u16, body: &serde_json::Value, location: Option<String>) -> Response {
    let mut response = Response::json(status, body);
    if let Some(location) = location {
        response.headers.set("location", location);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_strictly_increase() {
        assert_eq!(next_version(100, 500), 500);
        assert_eq!(next_version(500, 500), 501);
        assert_eq!(next_version(900, 500), 901);
    }
}
