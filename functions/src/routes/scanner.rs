//! The scanner web page (`/scanner/`), under the pages' strict Content-Security-Policy
//! ([`super::page_files`]). With the `embedded-pages` feature (Spin) its files are compiled into
//! the function; `jsqr.js` is the npm `jsqr` decoder, embedded at build time by `build.rs`.
//! Without it (Workers) the same files are static assets that Cloudflare serves before the
//! Worker runs (`scripts/worker-assets.mjs`, with the same headers from `_headers`), so a
//! request that still reaches these routes names a file that does not exist: 404.

#[cfg(feature = "embedded-pages")]
use super::page_files;
use crate::call::Call;
use crate::http::Response;
use crate::router::Route;
use shared::error::Error;

#[cfg(feature = "embedded-pages")]
const INDEX: &str = include_str!("../../scanner/index.html");
#[cfg(feature = "embedded-pages")]
const APP: &str = include_str!("../../scanner/app.js");
#[cfg(feature = "embedded-pages")]
const STYLES: &str = include_str!("../../scanner/app.css");
#[cfg(feature = "embedded-pages")]
const JSQR: &str = include_str!(concat!(env!("OUT_DIR"), "/jsQR.js"));

/// Serves the page, its scripts and its styles. The page holds a verifier key: the policy
/// lets nothing but its own files run; the camera (`getUserMedia` into `video.srcObject`)
/// needs no source.
///
/// # Errors
/// 404 `ROUTE_NOT_FOUND` for any other file (and, without `embedded-pages`, for every file:
/// the asset store answered those that exist).
pub fn get(route: Route, call: &Call<'_>) -> Result<Response, Error> {
    if route == Route::ScannerRedirect {
        // The page loads its scripts by relative URL: it must be served from `/scanner/`.
        let mut response = Response::with_body(308, "text/plain; charset=utf-8", Vec::new());
        response.headers.set("location", "/scanner/");
        return Ok(response);
    }
    file(route, call.params.get("file"))
}

#[cfg(feature = "embedded-pages")]
fn file(route: Route, file: &str) -> Result<Response, Error> {
    let (content_type, body) = match (route, file) {
        (Route::ScannerPage, _) | (_, "index.html") => ("text/html; charset=utf-8", INDEX),
        (_, "app.js") => ("text/javascript; charset=utf-8", APP),
        (_, "app.css") => ("text/css; charset=utf-8", STYLES),
        (_, "jsqr.js") => ("text/javascript; charset=utf-8", JSQR),
        (_, file) => return Err(missing(file)),
    };
    let mut response = page_files::file(content_type, body);
    // The camera needs a secure context; the page asks for nothing else.
    response.headers.set("permissions-policy", "camera=(self)");
    Ok(response)
}

#[cfg(not(feature = "embedded-pages"))]
fn file(_route: Route, file: &str) -> Result<Response, Error> {
    Err(missing(file))
}

fn missing(file: &str) -> Error {
    Error::not_found("ROUTE_NOT_FOUND", format!("no scanner file {file}"))
}

#[cfg(all(test, feature = "embedded-pages"))]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_no_inline_code_and_offers_to_forget_the_key() {
        page_files::assert_no_inline_code(INDEX);
        assert!(INDEX.contains(r#"<link rel="stylesheet" href="app.css">"#));
        assert!(INDEX.contains(r#"id="forget-key""#));
        assert!(APP.contains("store.del('key')"));
    }
}
