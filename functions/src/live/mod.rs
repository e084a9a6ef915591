//! Live availability: every change to an event's availability is one entry of a seq-numbered
//! change log in Redis, appended by the same script that makes the change
//! (`scripts/live_lib.lua`), so a client that holds a snapshot and applies every later entry
//! has exactly the state of a later snapshot.
//!
//! - `GET /v1/events/{id}/availability` is the snapshot, with the `seq` it reflects
//!   (`routes::holds::availability`).
//! - `GET /v1/events/{id}/availability/updates?since_seq=&limit=` catches up ([`updates`]).
//! - `GET /v1/events/{id}/availability/stream` streams the entries as server-sent events
//!   ([`stream`]); the log is read once per instance and poll interval however many clients
//!   watch.

pub(crate) mod backend;
pub(crate) mod cdn;
pub(crate) mod edge_cache;
pub(crate) mod feed;
mod feed_state;
pub mod log;
mod sse;
mod stream;
mod updates;

use crate::call::Call;
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
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
    match (route, call.method) {
        (Route::AvailabilityUpdates, Method::Get) => updates::get(services, call).await,
        (Route::AvailabilityStream, Method::Get) => stream::get(services, call).await,
        // The router only hands over the methods `Route::methods` lists.
        _ => Err(Error::Internal(format!(
            "no handler for {} {}",
            call.method.as_str(),
            route.template()
        ))),
    }
}
