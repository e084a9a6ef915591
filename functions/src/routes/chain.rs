//! Placeholder: the chain read API (issue 4).

use crate::call::Call;
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use shared::error::Error;

/// Dispatches the chain read routes.
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
