//! The event catalog: organizers create and edit events, their ticket types and seat maps;
//! everyone reads published events through the Redis read cache.
//!
//! Every organizer write follows one shape (see [`write`]): authenticate and check the role,
//! parse the body into domain types, read the event, check ownership, status and business
//! rules in Rust, then commit one atomic libSQL batch that starts with a *guard*: a statement
//! that fails, rolling the batch back, unless the facts the checks relied on still hold.
//! Checking in Rust keeps the error messages precise; the guard closes the race between the
//! read and the write without holding a transaction open across round trips. The audit row is
//! in the same batch, and the read cache is invalidated after it.

mod event_input;
mod events;
mod list;
mod nested;
mod record;
mod seats;
mod ticket_types;
mod write;

pub(crate) use write::{owned_event, runs_existing_event};

use crate::call::Call;
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use shared::domain::EventId;
use shared::error::Error;
use shared::http::Method;

/// Dispatches the routes of this area.
///
/// # Errors
/// The handlers' errors (see each handler).
pub async fn dispatch<S: Services>(
    services: &S,
    route: Route,
    call: &Call<'_>,
) -> Result<Response, Error> {
    let result = match (route, call.method) {
        (Route::Events, Method::Get) => list::get(services, call).await,
        (Route::Events, Method::Post) => events::create(services, call).await,
        (Route::Event, Method::Get) => events::get(services, call).await,
        (Route::Event, Method::Patch) => events::update(services, call).await,
        (Route::EventPublish, Method::Post) => events::publish(services, call).await,
        (Route::EventCancel, Method::Post) => events::cancel(services, call).await,
        (Route::TicketTypes, Method::Get) => ticket_types::list(services, call).await,
        (Route::TicketTypes, Method::Post) => ticket_types::create(services, call).await,
        (Route::Seats, Method::Get) => seats::get(services, call).await,
        (Route::Seats, Method::Put) => seats::replace(services, call).await,
        // The router only hands over the methods `Route::methods` lists.
        _ => Err(Error::Internal(format!(
            "{} {} is not a catalog route",
            call.method,
            route.template()
        ))),
    };
    // A committed change to an event's catalog: the next hold must see it.
    let changed = result.as_ref().is_ok_and(|r| r.status < 300);
    if changed && call.method != Method::Get && route != Route::Events {
        crate::sale::catalog::invalidate(services, call.params.get("id")).await?;
    }
    result
}

/// The `{id}` of the path. An id that cannot exist is reported like a missing event: the
/// client asked for something that is not there, whatever its spelling.
pub(crate) fn event_id(call: &Call<'_>) -> Result<EventId, Error> {
    EventId::parse(call.params.get("id")).map_err(|_| not_found(call.params.get("id")))
}

/// 404 `EVENT_NOT_FOUND`.
fn not_found(id: &str) -> Error {
    Error::not_found("EVENT_NOT_FOUND", format!("there is no event {id:?}"))
}

/// Serde helpers for request bodies.
mod serde_opt {
    use serde::{Deserialize, Deserializer};

    /// A field that may be absent but, when present, must not be `null`: with
    /// `#[serde(default, deserialize_with = "present")]`, `null` is a type error naming the field.
    pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        T::deserialize(deserializer).map(Some)
    }

    /// A field where absent (`None`, leave as is) differs from `null` (`Some(None)`, clear it).
    pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}
