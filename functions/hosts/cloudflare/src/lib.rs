//! Cloudflare Workers host shell.
//!
//! Only translation lives here: a `worker::Request` becomes a [`functions::Request`], `Env`
//! vars/secrets become the config lookup, `fetch()` becomes the `HttpClient` port, and the
//! router's [`functions::Response`] goes back as a `worker::Response`. After-response work
//! (deferred Redis commands, a due metrics flush) runs under `ctx.wait_until`, after the
//! response is on its way. A streaming response (server-sent events) goes out as a
//! `ReadableStream`; the Cache API is the location cache the live feeds share reads through.

use functions::{EdgeCache, Instances, Platform, Request, Response};
use futures::future::LocalBoxFuture;
use futures::{FutureExt, StreamExt};
use shared::config::{Config, ConfigError};
use shared::http::{Headers, HttpRequest, HttpResponse, TransportError};
use shared::ports::{Clock, HttpClient, Rng};
use std::rc::Rc;
use std::time::Duration;
use worker::{Context, Env, ScheduleContext, ScheduledEvent, event};

/// Outbound HTTP through the Workers `fetch` API.
#[derive(Clone, Copy)]
struct WorkerHttp;

impl HttpClient for WorkerHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let refused = |e: worker::Error| TransportError::Refused(e.to_string());
        let headers = worker::Headers::new();
        for (name, value) in request.headers.iter() {
            headers.set(name, value).map_err(refused)?;
        }
        let mut init = worker::RequestInit::new();
        init.with_method(worker::Method::from(request.method.as_str().to_owned()))
            .with_headers(headers);
        if !request.body.is_empty() {
            init.with_body(Some(
                worker::js_sys::Uint8Array::from(request.body.as_slice()).into(),
            ));
        }
        let outbound = worker::Request::new_with_init(&request.url, &init).map_err(refused)?;
        let mut response = worker::Fetch::Request(outbound)
            .send()
            .await
            .map_err(|e| TransportError::Connect(e.to_string()))?;
        let body = response
            .bytes()
            .await
            .map_err(|e| TransportError::Connect(e.to_string()))?;
        Ok(HttpResponse {
            status: response.status_code(),
            headers: response.headers().entries().collect(),
            body,
        })
    }
}

/// `Date.now()`; timers via `setTimeout`.
struct WorkerClock;

impl Clock for WorkerClock {
    fn now_ms(&self) -> u64 {
        worker::Date::now().as_millis()
    }

    async fn sleep(&self, ms: u64) {
        worker::Delay::from(Duration::from_millis(ms)).await;
    }
}

/// `crypto.getRandomValues` through getrandom's `wasm_js` backend.
struct WorkerRng;

impl Rng for WorkerRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), shared::error::Error> {
        // Workers always has a CSPRNG; should it ever fail, the request ends in 503
        // `RNG_UNAVAILABLE` rather than go on with predictable bytes.
        getrandom::fill(buf).map_err(|e| shared::ports::rng_unavailable(e.to_string()))
    }
}

/// The Cache API's default cache: shared by the isolates of a location (Miniflare implements
/// it locally), so the live feeds of all of them share one log read per poll interval.
struct WorkerCache;

impl EdgeCache for WorkerCache {
    fn get<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Option<Vec<u8>>> {
        async move {
            let mut hit = worker::Cache::default().get(key, false).await.ok()??;
            hit.bytes().await.ok()
        }
        .boxed_local()
    }

    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>, max_age_secs: u64) -> LocalBoxFuture<'a, ()> {
        async move {
            let stored = async {
                let headers = worker::Headers::new();
                headers.set("content-type", "application/json")?;
                headers.set("cache-control", &format!("public, max-age={max_age_secs}"))?;
                let response = worker::Response::from_bytes(body)?.with_headers(headers);
                worker::Cache::default().put(key, response).await
            };
            // Best effort: a failed put only costs the next isolate its own read.
            if let Err(e) = stored.await {
                log_error(&format!("live feed cache put failed: {e}"));
            }
        }
        .boxed_local()
    }
}

fn platform() -> Platform<WorkerHttp, WorkerClock, WorkerRng> {
    Platform {
        http: WorkerHttp,
        clock: WorkerClock,
        rng: WorkerRng,
        log: log_error,
        // workerd serves many requests from one isolate (module state survives between them),
        // so metrics are aggregated and flushed every few seconds, not per request.
        instances: Instances::Reused,
        cache: Some(Rc::new(WorkerCache)),
    }
}

/// Writes a log line: the app's JSON lines by their level (`console.log` for info,
/// `console.error` for errors; Workers Logs and `wrangler tail` keep both), and the host's own
/// free-text errors wrapped into a JSON error line like them.
fn log_error(line: &str) {
    if !line.starts_with('{') {
        let now = worker::Date::now().as_millis();
        worker::console_error!("{}", functions::logs::error_line(now, line, None));
    } else if functions::logs::is_error(line) {
        worker::console_error!("{line}");
    } else {
        worker::console_log!("{line}");
    }
}

/// Vars and secrets are both readable as text bindings.
fn config(env: &Env) -> Result<Config, ConfigError> {
    Config::from_lookup(|key| {
        env.var(key)
            .map(|v| v.to_string())
            .or_else(|_| env.secret(key).map(|s| s.to_string()))
            .ok()
    })
}

async fn into_request(mut req: worker::Request) -> worker::Result<Request> {
    let url = req.url()?;
    let path_and_query = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let mut request = Request::new(req.method().as_ref(), &path_and_query);
    request.headers = req.headers().entries().collect::<Headers>();
    // Set by Cloudflare's edge and not forgeable by the client (unlike X-Forwarded-For).
    request.client_ip = request.headers.get("cf-connecting-ip").map(str::to_owned);
    // Read as it arrives, within the route's limit (see `functions::body`).
    // No stream at all: no body (a GET, or an empty POST).
    if let Ok(chunks) = req.stream() {
        match functions::body::read(&request, chunks).await {
            Ok(body) => request.body = body,
            Err(refused) => request.body_refused = Some(refused),
        }
    }
    Ok(request)
}

fn into_worker_response(response: Response) -> worker::Result<worker::Response> {
    let headers = worker::Headers::new();
    for (name, value) in response.headers.iter() {
        headers.set(name, value)?;
    }
    let body = match response.stream {
        // The chunks go out as the stream yields them (a `ReadableStream`): no length.
        Some(stream) => {
            let prefix = (!response.body.is_empty()).then_some(response.body);
            let chunks = futures::stream::iter(prefix).chain(stream);
            worker::Response::from_stream(chunks.map(Ok::<_, worker::Error>))?
        }
        None => worker::Response::from_bytes(response.body)?,
    };
    Ok(body.with_status(response.status).with_headers(headers))
}

#[event(fetch)]
async fn fetch(req: worker::Request, env: Env, ctx: Context) -> worker::Result<worker::Response> {
    let request = into_request(req).await?;
    let served = functions::serve(platform(), config(&env), request).await;
    if let Some(after) = served.after {
        ctx.wait_until(after.run());
    }
    into_worker_response(served.response)
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    // The run logs its own JSON step and tick lines; only a run that could not start (a bad
    // configuration) is logged here.
    if let Err(error) = functions::run_scheduled(platform(), config(&env)).await {
        log_error(&format!(
            "cron {}: the scheduled run failed: {error}",
            event.cron()
        ));
    }
}
