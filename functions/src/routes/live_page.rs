//! The live seat-map page (`/events/{id}/live`) and its files (`/live/{file}`). The page is
//! the same for every event (it reads the event id from its own URL and asks the public API), so
//! nothing from the request is written into it and it costs no Redis or libSQL call.
//!
//! The page itself is always compiled in: its path is dynamic, which a static asset store
//! cannot map onto one file, and it is 1.4 KB. Its scripts and styles are compiled in with the
//! `embedded-pages` feature (Spin); without it (Workers) they are static assets Cloudflare
//! serves before the Worker runs (`scripts/worker-assets.mjs`, same headers from `_headers`),
//! so a `/live/{file}` request that reaches the Worker names a file that does not exist: 404.

use super::page_files;
use crate::call::Call;
use crate::http::Response;
use crate::router::Route;
use shared::domain::EventId;
use shared::error::Error;

const INDEX: &str = include_str!("../../live/index.html");
#[cfg(feature = "embedded-pages")]
const APP: &str = include_str!("../../live/app.js");
#[cfg(feature = "embedded-pages")]
const STATE: &str = include_str!("../../live/state.js");
#[cfg(feature = "embedded-pages")]
const STYLES: &str = include_str!("../../live/app.css");

fn not_found(what: String) -> Error {
    Error::not_found("ROUTE_NOT_FOUND", what)
}

/// A page file compiled in: its content type and text.
#[cfg(feature = "embedded-pages")]
fn asset(file: &str) -> Result<(&'static str, &'static str), Error> {
    match file {
        "app.js" => Ok(("text/javascript; charset=utf-8", APP)),
        "state.js" => Ok(("text/javascript; charset=utf-8", STATE)),
        "app.css" => Ok(("text/css; charset=utf-8", STYLES)),
        file => Err(not_found(format!("no live page file {file:?}"))),
    }
}

/// No page file is compiled in: the asset store answered those that exist.
#[cfg(not(feature = "embedded-pages"))]
fn asset(file: &str) -> Result<(&'static str, &'static str), Error> {
    Err(not_found(format!("no live page file {file:?}")))
}

/// Serves the page and its scripts (`app.js`, and the model it imports, `state.js`) and styles.
///
/// # Errors
/// 404 `ROUTE_NOT_FOUND` for an id that cannot be an event id (the page would only show an
/// error) and for any other file.
pub fn get(route: Route, call: &Call<'_>) -> Result<Response, Error> {
    let (content_type, body) = match route {
        Route::LivePage => {
            let id = call.params.get("id");
            EventId::parse(id).map_err(|_| not_found(format!("no live page for {id:?}")))?;
            ("text/html; charset=utf-8", INDEX)
        }
        _ => asset(call.params.get("file"))?,
    };
    // Under the pages' policy: nothing but the page's own files may run or load.
    let mut response = page_files::file(content_type, body);
    response.headers.set("referrer-policy", "no-referrer");
    Ok(response)
}

#[cfg(all(test, feature = "embedded-pages"))]
mod tests {
    use super::*;
    use crate::call::RateSlot;
    use crate::extract::Query;
    use crate::http::Request;
    use crate::router::{self, RateGroup};
    use shared::http::Method;

    /// `GET path` through the router, as the app would dispatch it.
    fn serve(path: &str) -> Result<Response, Error> {
        let request = Request::new("GET", path);
        let (route, params) = router::resolve(path).expect("a route");
        let call = Call {
            request: &request,
            method: Method::Get,
            params,
            query: Query::parse(None),
            request_id: "test",
            rate: RateSlot::new(RateGroup::Read),
        };
        get(route, &call)
    }

    #[test]
    fn serves_the_page_and_its_files_under_the_policy() {
        for (path, content_type, body) in [
            ("/events/evt_0123456789abcdef0123/live", "text/html", INDEX),
            ("/live/app.js", "text/javascript", APP),
            ("/live/state.js", "text/javascript", STATE),
            ("/live/app.css", "text/css", STYLES),
        ] {
            let response = serve(path).expect(path);
            assert_eq!(response.status, 200, "{path}");
            let got = response.headers.get("content-type").unwrap_or_default();
            assert!(got.starts_with(content_type), "{path}: {got}");
            assert_eq!(response.body, body.as_bytes(), "{path}");
            assert_eq!(
                response.headers.get("content-security-policy"),
                Some(page_files::CONTENT_SECURITY_POLICY),
                "{path}"
            );
            assert_eq!(
                response.headers.get("x-content-type-options"),
                Some("nosniff")
            );
        }
    }

    #[test]
    fn unknown_files_and_impossible_ids_are_404() {
        for path in [
            "/live/index.html",
            "/live/jsqr.js",
            "/live/app.js.map",
            "/events/evt_nope/live",
        ] {
            let error = serve(path).err().unwrap_or_else(|| panic!("{path} served"));
            assert_eq!(error.status(), 404, "{path}");
            assert_eq!(error.code(), "ROUTE_NOT_FOUND", "{path}");
        }
    }

    #[test]
    fn the_page_has_no_inline_code() {
        page_files::assert_no_inline_code(INDEX);
        // The page lives at /events/{id}/live: its files are named from the root.
        assert!(INDEX.contains(r#"<link rel="stylesheet" href="/live/app.css">"#));
        assert!(INDEX.contains(r#"<script type="module" src="/live/app.js"></script>"#));
        // app.js imports the model relative to itself: it must stay next to it.
        assert!(APP.contains("from './state.js';"));
    }

    #[test]
    fn the_script_writes_no_markup_and_follows_the_stream() {
        // Seat labels and type names come from organizers: text only, never parsed as HTML.
        for script in [APP, STATE] {
            assert!(!script.contains("innerHTML"));
            assert!(!script.contains("insertAdjacentHTML"));
            assert!(!script.contains("eval("));
        }
        assert!(APP.contains("new EventSource("));
        assert!(APP.contains("/updates?since_seq="));
        assert!(APP.contains("/stream?since_seq="));
        assert!(APP.contains("SEQ_TOO_OLD"));
    }
}
