//! The sale around the holds: settings, the waiting room, the pause switch, the deny list
//! and the waitlist.

mod deny;
mod pause;
mod queue;
mod settings;
mod waitlist;

use crate::call::Call;
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use shared::error::Error;
use shared::http::Method;

/// Checks an operator's free-text `reason` (pause switch, deny list).
///
/// # Errors
/// 400 `VALIDATION_FAILED` (`reason`).
fn check_reason(reason: Option<&String>) -> Result<(), Error> {
    if reason.is_some_and(|r| r.len() > 500) {
        return Err(Error::invalid("reason", "must be at most 500 bytes"));
    }
    Ok(())
}

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
        (Route::SaleSettings, Method::Put) => {
            let response = settings::put(services, call).await?;
            // The next hold must sell inside the new window, with the new limits.
            crate::sale::catalog::invalidate(services, call.params.get("id")).await?;
            Ok(response)
        }
        (Route::SaleSettings, Method::Get) => settings::get(services, call).await,
        (Route::Queue, Method::Post) => queue::join(services, call).await,
        (Route::QueueStatus, Method::Get) => queue::status(services, call).await,
        (Route::SalesPause, Method::Post) => pause::pause(services, call).await,
        (Route::SalesResume, Method::Post) => pause::resume(services, call).await,
        (Route::SalesStatus, Method::Get) => pause::status(services, call).await,
        (Route::DenyList, Method::Put) => deny::put(services, call).await,
        (Route::DenyList, Method::Delete) => deny::delete(services, call).await,
        (Route::Waitlist, Method::Post) => waitlist::join(services, call).await,
        (Route::Waitlist, Method::Get) => waitlist::status(services, call).await,
        // The router only hands over the methods `Route::methods` lists.
        _ => Err(Error::Internal(format!(
            "{} {} is not a sales route",
            call.method,
            route.template()
        ))),
    }
}
