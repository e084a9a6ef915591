//! `GET /health`: liveness. Touches no dependency, so it answers even when they are down.

use crate::http::Response;
use serde_json::json;

/// 200 `{"status":"ok"}`.
pub fn get() -> Response {
    Response::json(
        200,
        &json!({"status": "ok", "service": "onlineticket-edge", "version": env!("CARGO_PKG_VERSION")}),
    )
}
