//! A fault-injecting HTTP proxy for chaos tests: it sits in front of anvil or the Hrana front
//! and, on the test's command, passes requests through, refuses them (the dependency is
//! "down"), delays them, or answers `eth_getLogs` over too wide a range with a provider-style
//! range error.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does with the next requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Forward everything.
    Pass,
    /// Answer 503 to everything (the dependency is down).
    Down,
    /// Forward after a delay.
    Delay(Duration),
    /// Refuse `eth_getLogs` spanning more than this many blocks, as Alchemy/Infura do.
    MaxLogRange(u64),
    /// Forward the next `n` requests, then behave as `Down` (a fault at a known point).
    DownAfter(u32),
}

struct Shared {
    target: String,
    mode: Mutex<Mode>,
    client: reqwest::Client,
    refused_ranges: Mutex<u32>,
    /// JSON-RPC methods of the requests that reached the target, in order.
    forwarded: Mutex<Vec<String>>,
}

/// A running proxy.
pub struct Proxy {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `target` on a free loopback port.
    pub async fn start(target: &str) -> Proxy {
        let shared = Arc::new(Shared {
            target: target.trim_end_matches('/').to_owned(),
            mode: Mutex::new(Mode::Pass),
            client: reqwest::Client::new(),
            refused_ranges: Mutex::new(0),
            forwarded: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Proxy { url, shared, task }
    }

    /// Switches the mode.
    pub fn set(&self, mode: Mode) {
        *self.shared.mode.lock().expect("mode lock") = mode;
    }

    /// The JSON-RPC methods forwarded to the target so far (each call of a batch counts), and
    /// forgets them: what a request in between cost the node.
    pub fn take_forwarded(&self) -> Vec<String> {
        std::mem::take(&mut *self.shared.forwarded.lock().expect("lock"))
    }

    /// How many `eth_getLogs` calls were refused for their range.
    pub fn refused_ranges(&self) -> u32 {
        *self.shared.refused_ranges.lock().expect("lock")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn log_range(body: &[u8]) -> Option<u64> {
    let request: serde_json::Value = serde_json::from_slice(body).ok()?;
    if request["method"] != "eth_getLogs" {
        return None;
    }
    let hex =
        |v: &serde_json::Value| u64::from_str_radix(v.as_str()?.trim_start_matches("0x"), 16).ok();
    let filter = &request["params"][0];
    Some(hex(&filter["toBlock"])? - hex(&filter["fromBlock"])? + 1)
}

/// The JSON-RPC methods in a request body (one call or a batch).
fn rpc_methods(body: &[u8]) -> Vec<String> {
    let method = |call: &serde_json::Value| call["method"].as_str().map(str::to_owned);
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(calls)) => calls.iter().filter_map(method).collect(),
        Ok(call) => method(&call).into_iter().collect(),
        Err(_) => Vec::new(),
    }
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mode = shared.mode.lock().expect("mode lock").clone();
    match mode {
        Mode::Down => {
            return (StatusCode::SERVICE_UNAVAILABLE, "down (chaos proxy)").into_response();
        }
        Mode::Delay(delay) => tokio::time::sleep(delay).await,
        Mode::MaxLogRange(max) => {
            if log_range(&body).is_some_and(|range| range > max) {
                *shared.refused_ranges.lock().expect("lock") += 1;
                let reply = serde_json::json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32005,
                    "message": format!("query returned more than 10000 results (chaos proxy allows {max} blocks)")}});
                return (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    reply.to_string(),
                )
                    .into_response();
            }
        }
        Mode::DownAfter(n) => {
            let mut mode = shared.mode.lock().expect("mode lock");
            *mode = if n <= 1 {
                Mode::Down
            } else {
                Mode::DownAfter(n - 1)
            };
            if n == 0 {
                return (StatusCode::SERVICE_UNAVAILABLE, "down (chaos proxy)").into_response();
            }
        }
        Mode::Pass => {}
    }
    shared
        .forwarded
        .lock()
        .expect("lock")
        .extend(rpc_methods(&body));
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = shared
        .client
        .request(method, format!("{}{path}", shared.target))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            let content_type = response.headers().get("content-type").cloned();
            let bytes = response.bytes().await.unwrap_or_default();
            let mut out = (status, bytes).into_response();
            if let Some(ct) = content_type {
                out.headers_mut().insert("content-type", ct);
            }
            out
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
