//! Placeholder.

use crate::call::Call;
use crate::http::Response;
use crate::services::Services;
use shared::error::Error;

/// Placeholder.
pub async fn post_crypto<S: Services>(_services: &S, _call: &Call<'_>) -> Result<Response, Error> {
    Err(Error::not_found("NOT_IMPLEMENTED", "not implemented"))
}
