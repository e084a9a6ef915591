//! The scanner web page (`/scanner/`): static files compiled into the function, so both
//! runtimes serve it without an asset store, under a strict Content-Security-Policy. `jsqr.js` is the npm `jsqr` decoder, embedded at
//! build time by `build.rs` (see there).

use crate::call::Call;
use crate::http::Response;
use crate::router::Route;
use shared::error::Error;

const INDEX: &str = include_str!("../../scanner/index.html");
const APP: &str = include_str!("../../scanner/app.js");
const STYLES: &str = include_str!("../../scanner/app.css");
const JSQR: &str = include_str!(concat!(env!("OUT_DIR"), "/jsQR.js"));

/// The page holds a verifier key: nothing but its own files may run or load. Scripts and
/// styles are files of this route (no inline code); `fetch` goes to our own API; the favicon
/// is an empty `data:` image (it keeps the browser from asking for `/favicon.ico`). The camera
/// (`getUserMedia` into `video.srcObject`) needs no source. `form-action 'none'`: the login
/// form is handled by script, so a broken script can never submit the key into a URL.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Serves the page, its scripts and its styles.
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
        (_, "app.css") => ("text/css; charset=utf-8", STYLES),
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
    response
        .headers
        .set("content-security-policy", CONTENT_SECURITY_POLICY);
    response.headers.set("x-content-type-options", "nosniff");
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_only_our_own_files() {
        let policy = CONTENT_SECURITY_POLICY;
        assert!(policy.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"));
        assert!(!policy.contains("unsafe"), "{policy}");
        assert!(!policy.contains("  "), "{policy}");
    }

    #[test]
    fn the_page_has_no_inline_code_and_offers_to_forget_the_key() {
        // Inline code would be refused by the policy above.
        assert!(!INDEX.contains("<style"));
        assert!(!INDEX.contains(" style="));
        assert!(!INDEX.contains("<script>"));
        let handler = INDEX.match_indices(" on").any(|(at, _)| {
            let rest = &INDEX[at + 3..];
            let name = rest.len() - rest.trim_start_matches(char::is_alphabetic).len();
            name > 0 && rest[name..].starts_with('=')
        });
        assert!(!handler, "no inline event handlers");
        assert!(INDEX.contains(r#"<link rel="stylesheet" href="app.css">"#));
        assert!(INDEX.contains(r#"id="forget-key""#));
        assert!(APP.contains("store.del('key')"));
    }
}
