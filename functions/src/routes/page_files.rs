//! What the web pages the function serves (the door scanner, the live seat map) share: static
//! files compiled in (feature `embedded-pages`, the Spin build), answered under one policy that
//! lets nothing but the page's own files run or load. On Workers the same files are static
//! assets and `functions/hosts/cloudflare/assets/_headers` gives them these same headers (a
//! test below holds the two together).

use crate::http::Response;

/// Scripts and styles are files of the page's route (no inline code); `fetch` and
/// `EventSource` go to our own API; the favicon is an empty `data:` image (it keeps the
/// browser from asking for `/favicon.ico`). `form-action 'none'`: forms are handled by script,
/// so a broken script can never submit what a page holds (the scanner's key) into a URL.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// A page file, `200` with `content_type`, under [`CONTENT_SECURITY_POLICY`]. The files change
/// with each deployment: revalidating is cheap, a stale script is not.
pub fn file(content_type: &str, body: &'static str) -> Response {
    let mut response = Response::with_body(200, content_type, body.as_bytes().to_vec());
    response.headers.set("cache-control", "no-cache");
    response
        .headers
        .set("content-security-policy", CONTENT_SECURITY_POLICY);
    response.headers.set("x-content-type-options", "nosniff");
    response
}

/// Asserts that a page's HTML has no inline code, which the policy would refuse: no `<style>`
/// or `style=`, no inline `<script>`, no `on…=` handlers.
#[cfg(test)]
pub fn assert_no_inline_code(index: &str) {
    assert!(!index.contains("<style"));
    assert!(!index.contains(" style="));
    assert!(!index.contains("<script>"));
    let handler = index.match_indices(" on").any(|(at, _)| {
        let rest = &index[at + 3..];
        let name = rest.len() - rest.trim_start_matches(char::is_alphabetic).len();
        name > 0 && rest[name..].starts_with('=')
    });
    assert!(!handler, "no inline event handlers");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_only_our_own_files() {
        let policy = CONTENT_SECURITY_POLICY;
        assert!(policy.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"));
        assert!(policy.contains("connect-src 'self';"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        assert!(!policy.contains("  "), "{policy}");
    }

    /// The headers Workers' asset store sends with the pages' files (`_headers`, one block of
    /// indented `Name: value` lines per path pattern) are the ones this module sends on Spin.
    #[test]
    fn the_workers_asset_headers_are_the_same() {
        let file = include_str!("../../hosts/cloudflare/assets/_headers");
        let block = |pattern: &str| -> Vec<(String, String)> {
            let mut lines = file.lines().skip_while(|l| *l != pattern).skip(1);
            let mut headers = Vec::new();
            while let Some(line) = lines.next().filter(|l| l.starts_with("  ")) {
                let (name, value) = line.trim().split_once(": ").expect("Name: value");
                headers.push((name.to_ascii_lowercase(), value.to_owned()));
            }
            headers
        };
        let sent = |extra: (&str, &str)| {
            let response = file_headers(extra);
            let mut headers: Vec<(String, String)> = response
                .headers
                .iter()
                .filter(|(name, _)| *name != "content-type")
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
                .collect();
            headers.sort();
            headers
        };
        let mut scanner = block("/scanner/*");
        scanner.sort();
        assert_eq!(scanner, sent(("permissions-policy", "camera=(self)")));
        let mut live = block("/live/*");
        live.sort();
        assert_eq!(live, sent(("referrer-policy", "no-referrer")));
    }

    /// A page file's answer with the one header its page adds (as scanner.rs and live_page.rs do).
    fn file_headers((name, value): (&str, &str)) -> Response {
        let mut response = file("text/plain", "");
        response.headers.set(name, value);
        response
    }

    #[test]
    fn the_inline_code_check_sees_handlers() {
        assert_no_inline_code(r#"<button id="b" data-on="x">once</button>"#);
        let caught = std::panic::catch_unwind(|| {
            assert_no_inline_code(r#"<button onclick="go()">go</button>"#);
        });
        assert!(caught.is_err());
    }
}
