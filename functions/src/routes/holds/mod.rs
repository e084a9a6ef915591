//! Holds: a buyer takes seats, or units of a general-admission ticket type, for a short
//! while before ordering them.
//!
//! Redis is the gate: every change to an event's inventory is one Lua script run
//! (`scripts/hold*.lua`), so concurrent requests from any number of stateless instances can
//! neither oversell nor take a seat twice, and each takes all it asked for or nothing.
//! Expired holds are released by the scripts themselves (an expiry index swept on every run,
//! and any expired holder of a requested seat evicted on the spot), so no background process
//! is needed. libSQL stays the truth for what exists and what is sold.

pub(crate) mod availability;
mod create;
mod release;
mod request;

pub use create::sale_refusal;
pub use request::HoldId;

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
        (Route::Holds, Method::Post) => create::create(services, call).await,
        (Route::Hold, Method::Delete) => release::release(services, call).await,
        (Route::Availability, Method::Get) => availability::get(services, call).await,
        // The router only hands over the methods `Route::methods` lists.
        _ => Err(Error::Internal(format!(
            "{} {} is not a holds route",
            call.method,
            route.template()
        ))),
    }
}
