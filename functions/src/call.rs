//! What a handler receives besides the services: the request and what routing found.

use crate::extract::Query;
use crate::http::Request;
use crate::rate_limit::Decision;
use crate::router::Params;
use crate::router::RateGroup;
use shared::http::Method;
use std::cell::Cell;

/// One request, routed.
pub struct Call<'a> {
    pub request: &'a Request,
    /// The method (`HEAD` already mapped to `GET`).
    pub method: Method,
    pub params: Params,
    pub query: Query,
    pub request_id: &'a str,
    pub rate: RateSlot,
}

/// The route's rate-limit group, and the verdict of a limiter run inside the handler's own
/// script call (gated routes, see [`crate::gate`]) for the response headers.
pub struct RateSlot {
    pub group: RateGroup,
    pub decision: Cell<Option<Decision>>,
}

impl RateSlot {
    /// An empty slot for a route of `group`.
    pub fn new(group: RateGroup) -> Self {
        RateSlot {
            group,
            decision: Cell::new(None),
        }
    }
}
