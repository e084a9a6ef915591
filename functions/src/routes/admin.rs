//! Placeholder: filled in by the issue-3 work.

use crate::call::Call;
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use shared::error::Error;

/// Dispatches the routes of this area.
pub async fn dispatch<S: Services>(
    _services: &S,
    route: Route,
    _call: &Call<'_>,
) -> Result<Response, Error> {
    Err(Error::not_found(
        "NOT_IMPLEMENTED",
        format!("{} is not implemented yet", route.template()),
    ))
}
