//! The live seat-map page (`/events/{id}/live`) and its files (`/live/{file}`).

use crate::call::Call;
use crate::http::Response;
use crate::router::Route;
use shared::error::Error;

/// Serves the page and its files.
///
/// # Errors
/// 404 `ROUTE_NOT_FOUND` until the page exists.
pub fn get(route: Route, _call: &Call<'_>) -> Result<Response, Error> {
    Err(Error::not_found(
        "ROUTE_NOT_FOUND",
        format!("{} is not served yet", route.template()),
    ))
}
