//! The API contract, enforced on every response an e2e test receives: each [`crate::App`]'s
//! client talks to the function through a small validating proxy (this module), which checks
//! the response against `functions/openapi.json` for its route, method and status.
//!
//! Why a proxy rather than checks in `App::send`/`App::get`: many tests build their own
//! requests (`App::request(..).send()`, bursts), and a reqwest client has no response hook.
//! Sending the app's client through an HTTP proxy covers every path with one line at client
//! construction, and the tests' code stays as it is. Tests that open raw sockets (malformed
//! requests on purpose) bypass it.
//!
//! Rules, in order:
//! - paths outside the API (`/cdn-cgi/…`, the platform's cron trigger) are not checked;
//! - a path no route matches must be the generic 404 `ROUTE_NOT_FOUND` error;
//! - a CORS preflight (`OPTIONS`) must be 204, or the generic 403 `CORS_ORIGIN_DENIED`;
//! - a method the route does not document must be the generic 405 `METHOD_NOT_ALLOWED`;
//! - the status must be documented for the operation (`default` counts);
//! - a JSON body is validated against the documented schema (`$ref`s resolve within the
//!   document); a response with no JSON body (204, 304, Prometheus text, SVG, HTML) only needs
//!   its status documented.
//!
//! A request carrying the [`SKIP`] header is forwarded unchecked (the header is not
//! forwarded): for deliberately malformed requests whose answer is not part of the contract.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// Request header that turns the check off for one request (deliberately malformed input).
pub const SKIP: &str = "x-e2e-contract-skip";

/// The OpenAPI document the function serves at `/openapi.json` (the same file, compiled in).
pub static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../functions/openapi.json"))
        .expect("openapi.json is JSON")
});

/// The documented path template that `path` falls under: a `{param}` matches one non-empty
/// segment; where several match, the one with a literal segment earliest wins, as in the
/// router (`/v1/events/{id}/sale` and a literal sibling). The document, not the router, is the
/// reference here: the e2e tests see the function from outside, as a client reading the
/// document does.
pub fn template_of(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    let paths = DOCUMENT["paths"].as_object()?;
    paths
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut score = Vec::with_capacity(parts.len());
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') && part.ends_with('}') {
                    if segment.is_empty() {
                        return None;
                    }
                    score.push(false);
                } else if part == segment {
                    score.push(true);
                } else {
                    return None;
                }
            }
            Some((score, template.as_str()))
        })
        .max()
        .map(|(_, template)| template)
}

// Compiled validators by JSON pointer: each compile walks the whole document, so do it once.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> =
    LazyLock::new(Default::default);

/// Escapes one JSON-pointer token (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A validator for the schema at `pointer` in [`DOCUMENT`], with `$ref`s resolving against
/// the whole document: the root is the document itself with a `$ref` to the pointer, so
/// `#/components/...` means what it means in OpenAPI.
///
/// # Errors
/// The compile error when the schema is not a valid JSON Schema 2020-12.
pub fn validator(pointer: &str) -> Result<Arc<jsonschema::Validator>, String> {
    // Compiled under the lock: a burst of 500 first answers must not compile 500 copies.
    let mut validators = VALIDATORS.lock().expect("validators");
    if let Some(v) = validators.get(pointer) {
        return Ok(v.clone());
    }
    let mut root = DOCUMENT.clone();
    root["$schema"] = "https://json-schema.org/draft/2020-12/schema".into();
    root["$ref"] = format!("#{}", fragment(pointer)).into();
    let compiled = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        // Addresses go out EIP-55 checksummed (DESIGN §4): a pattern cannot check that.
        .with_format("eip55", |s: &str| {
            shared::domain::WalletAddress::parse_checksummed(s).is_ok()
        })
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("schema at {pointer} does not compile: {e}"))?;
    let compiled = Arc::new(compiled);
    validators.insert(pointer.to_owned(), compiled.clone());
    Ok(compiled)
}

/// `pointer` as a URI fragment: `{`, `}` and other characters a fragment may not hold are
/// percent-encoded (RFC 6901 section 6); path templates are full of braces.
fn fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for b in pointer.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Follows a `{"$ref": "#/…"}` object to its target, returning the target and its pointer.
fn follow(value: &Value, pointer: String) -> (&Value, String) {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with('#') => {
            let target = &r[1..];
            match DOCUMENT.pointer(target) {
                Some(found) => follow(found, target.to_owned()),
                None => (value, pointer),
            }
        }
        _ => (value, pointer),
    }
}

/// What one exchange looked like, for [`check`].
pub struct Exchange<'a> {
    pub method: &'a Method,
    /// Path and query as requested.
    pub path: &'a str,
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// Checks one response against the document.
///
/// # Errors
/// What is wrong, in one line a test failure can show.
pub fn check(x: &Exchange<'_>) -> Result<(), String> {
    let path = x.path.split('?').next().unwrap_or_default();
    if path.starts_with("/cdn-cgi/") {
        return Ok(());
    }
    let is_json = x
        .content_type
        .is_some_and(|c| c.starts_with("application/json") || c.contains("+json"));
    let json = || -> Result<Value, String> {
        serde_json::from_slice(x.body).map_err(|e| format!("body is not JSON ({e})"))
    };
    let generic = |status: u16, code: &str| -> Result<(), String> {
        if x.status != status {
            return Err(format!("undocumented status {}", x.status));
        }
        let body = json()?;
        validate("/components/schemas/Error", &body)?;
        if body["error_code"] != code {
            return Err(format!("expected {code}, got {}", body["error_code"]));
        }
        Ok(())
    };
    let Some(template) = template_of(path) else {
        return generic(404, "ROUTE_NOT_FOUND");
    };
    // CORS preflights are answered by the edge for every path (OpenAPI has no place for
    // them): 204 without a body, or 403 `CORS_ORIGIN_DENIED`.
    if *x.method == Method::OPTIONS {
        return match x.status {
            204 => Ok(()),
            _ => generic(403, "CORS_ORIGIN_DENIED"),
        };
    }
    let method = if *x.method == Method::HEAD {
        "get".to_owned()
    } else {
        x.method.as_str().to_ascii_lowercase()
    };
    let op_pointer = format!("/paths/{}/{method}", escape(template));
    let Some(op) = DOCUMENT.pointer(&op_pointer) else {
        return generic(405, "METHOD_NOT_ALLOWED");
    };
    let status = x.status.to_string();
    let (response, pointer) = match op["responses"].get(&status) {
        Some(r) => follow(r, format!("{op_pointer}/responses/{status}")),
        None => match op["responses"].get("default") {
            Some(r) => follow(r, format!("{op_pointer}/responses/default")),
            None => return Err(format!("undocumented status {status}")),
        },
    };
    if *x.method == Method::HEAD || x.body.is_empty() || !is_json {
        return Ok(());
    }
    let Some(content) = response["content"].as_object() else {
        return Err("a JSON body where the document has none".to_owned());
    };
    let Some((media, documented)) = content
        .iter()
        .find(|(media, _)| media.starts_with("application/json") || media.contains("+json"))
    else {
        return Err("a JSON body where the document has another media type".to_owned());
    };
    if documented.get("schema").is_none() {
        return Err(format!("no schema for {media}"));
    }
    validate(
        &format!("{pointer}/content/{}/schema", escape(media)),
        &json()?,
    )
}

/// Validates `instance` against the schema at `pointer`, listing every error.
///
/// # Errors
/// The errors with their instance paths.
pub fn validate(pointer: &str, instance: &Value) -> Result<(), String> {
    let validator = validator(pointer)?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        let mut shown = instance.to_string();
        if shown.len() > 600 {
            shown.truncate(600);
            shown.push('…');
        }
        Err(format!(
            "does not match {pointer}: {}; body {shown}",
            errors.join("; ")
        ))
    }
}

struct Shared {
    client: reqwest::Client,
    violations: Mutex<Vec<String>>,
}

/// A running validating proxy; dropping it stops it and fails the test if any response broke
/// the contract.
pub struct Guard {
    /// `http://127.0.0.1:port`, for `reqwest::Proxy::http`.
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Guard {
    /// Starts a proxy on a free loopback port.
    pub async fn start() -> Guard {
        let shared = Arc::new(Shared {
            client: reqwest::Client::builder()
                // The test's own client follows redirects; each hop comes through here.
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .expect("proxy client"),
            violations: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind contract proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Guard { url, shared, task }
    }

    /// The violations seen so far (and forgets them): for tests that break the contract on
    /// purpose and want to say so.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.shared.violations.lock().expect("violations"))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.task.abort();
        let violations = self.take();
        // A second panic while unwinding would abort the whole test binary.
        // Capturing (writing the schemas) reports violations without failing the tests.
        let capturing = std::env::var_os("E2E_CONTRACT_CAPTURE").is_some();
        if !violations.is_empty() && !std::thread::panicking() && !capturing {
            panic!(
                "{} response(s) broke functions/openapi.json:\n{}",
                violations.len(),
                violations.join("\n")
            );
        }
    }
}

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "transfer-encoding",
    "proxy-authorization",
    "te",
    "upgrade",
];

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("request body: {e}")).into_response(),
    };
    // A proxied request names the absolute URL.
    let url = parts.uri.to_string();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let skip = parts.headers.contains_key(SKIP);
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if name.as_str() != SKIP && !HOP_BY_HOP.contains(&name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    let sent = shared
        .client
        .request(parts.method.clone(), &url)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        // The function is down (a test may have stopped it): no contract to check.
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("upstream: {e}")).into_response(),
    };
    let status = response.status();
    let mut headers = response.headers().clone();
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("upstream body: {e}")).into_response(),
    };
    capture(&parts.method, &path, status.as_u16(), &headers, &body);
    if !skip {
        let exchange = Exchange {
            method: &parts.method,
            path: &path,
            status: status.as_u16(),
            content_type: headers.get("content-type").and_then(|v| v.to_str().ok()),
            body: &body,
        };
        if let Err(why) = check(&exchange) {
            let line = format!("{} {path} -> {}: {why}", parts.method, status.as_u16());
            eprintln!("contract: {line}");
            shared.violations.lock().expect("violations").push(line);
        }
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
    let mut out = Response::new(axum::body::Body::from(body));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

/// With `E2E_CONTRACT_CAPTURE=<file>`, appends each exchange as one JSON line (method, path,
/// status, content type, JSON body): the raw material for writing and reviewing schemas.
fn capture(method: &Method, path: &str, status: u16, headers: &HeaderMap, body: &[u8]) {
    use std::io::Write;
    let Ok(file) = std::env::var("E2E_CONTRACT_CAPTURE") else {
        return;
    };
    let line = serde_json::json!({
        "method": method.as_str(),
        "path": path,
        "template": template_of(path.split('?').next().unwrap_or_default()),
        "status": status,
        "contentType": headers.get("content-type").and_then(|v| v.to_str().ok()),
        "body": serde_json::from_slice::<Value>(body).unwrap_or(Value::Null),
    });
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        let _ = writeln!(f, "{line}");
    }
}
