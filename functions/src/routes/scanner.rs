//! The scanner web page (`/scanner/`): static files compiled into the function, so both
//! runtimes serve it without an asset store. `jsqr.js` is the npm `jsqr` decoder, embedded at
//! build time by `build.rs` (see there).

use crate::call::Call;
use crate::http::Response;
use crate::router::Route;
use shared::error::Error;

const INDEX: &str = include_str!("../../scanner/index.html");
const APP: &str = include_str!("../../scanner/app.js");
const JSQR: &str = include_str!(concat!(env!("OUT_DIR"), "/jsQR.js"));

/// Serves the page and its scripts.
///
/// # Errors
/// 404 `ROUTE_NOT_FOUND` for any other file.
pub fn get(route: Route, call: &Call<'_>) -> Result<Response, Error> {
    if route == Route::ScannerRedirect {
        // The page loads its scripts by relative URL: it must be served from `/scanner/`.
        let mut response = Response::with_body(308, "text/plain; charset=utf-8", Vec::new());
        response.headers.set("location", "/scanner/");
        return Ok(response);
    }
    let (content_type, body) = match (route, call.params.get("file")) {
        (Route::ScannerPage, _) | (_, "index.html") => ("text/html; charset=utf-8", INDEX),
        (_, "app.js") => ("text/javascript; charset=utf-8", APP),
        (_, "jsqr.js") => ("text/javascript; charset=utf-8", JSQR),
        (_, file) => {
            return Err(Error::not_found(
                "ROUTE_NOT_FOUND",
                format!("no scanner file {file}"),
            ));
        }
    };
    let mut response = Response::with_body(200, content_type, body.as_bytes().to_vec());
    // The camera needs a secure context; the page asks for nothing else.
    response.headers.set("cache-control", "no-cache");
    response.headers.set("permissions-policy", "camera=(self)");
    Ok(response)
}
