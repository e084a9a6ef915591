//! What a handler receives besides the services: the request and what routing found.

use crate::extract::Query;
use crate::http::Request;
use crate::router::Params;
use shared::http::Method;

/// One request, routed.
pub struct Call<'a> {
    pub request: &'a Request,
    /// The method (`HEAD` already mapped to `GET`).
    pub method: Method,
    pub params: Params,
    pub query: Query,
    pub request_id: &'a str,
}
