//! Spin host shell (spin-sdk 7, WASI 0.3 HTTP).
//!
//! Only translation lives here. Configuration comes through `wasi:config/store` (Spin's
//! variables; under `wasmtime serve`, wasi config variables through `ot-config-adapter`), then
//! the environment: see [`config`]. Redis and libSQL are reached over HTTP, exactly as on
//! Workers.

mod config;
mod outbound;

use functions::{BodyStream, Instances, Platform, Request, Response};
use futures::StreamExt;
use http_body::Frame;
use http_body_util::{Either, Full, StreamBody};
use shared::config::Config;
use shared::http::{Headers, HttpRequest, HttpResponse, TransportError};
use shared::ports::{Clock, HttpClient, Rng};
use spin_sdk::http::body::IncomingBodyExt;
use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Outbound HTTP through `wasi:http/client`.
#[derive(Clone, Copy)]
struct SpinHttp;

impl HttpClient for SpinHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        outbound::send(request).await
    }
}

/// System time; sleeps through `wasi:clocks`.
struct SpinClock;

impl Clock for SpinClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    async fn sleep(&self, ms: u64) {
        spin_sdk::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// `wasi:random` through getrandom.
struct SpinRng;

impl Rng for SpinRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), shared::error::Error> {
        // wasi:random is always present; should it ever fail, the request ends in 503
        // `RNG_UNAVAILABLE` rather than go on with predictable bytes.
        getrandom::fill(buf).map_err(|e| shared::ports::rng_unavailable(e.to_string()))
    }
}

async fn into_request(req: spin_sdk::http::Request) -> Result<Request, spin_sdk::http::Error> {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let mut request = Request::new(req.method().as_str(), &path_and_query);
    request.headers = req
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?.to_owned())))
        .collect::<Headers>();
    // Read as it arrives, within the route's limit (see `functions::body`).
    match functions::body::read(&request, req.into_body().stream()).await {
        Ok(body) => request.body = body,
        Err(refused) => request.body_refused = Some(refused),
    }
    Ok(request)
}

/// A streamed body's chunks as http-body frames.
type Frames = futures::stream::Map<
    futures::stream::Chain<futures::stream::Iter<std::option::IntoIter<Vec<u8>>>, BodyStream>,
    fn(Vec<u8>) -> Result<Frame<bytes::Bytes>, Infallible>,
>;

/// A whole body (sent with its length), or a stream (server-sent events).
type Body = Either<Full<bytes::Bytes>, StreamBody<Frames>>;

fn frame(chunk: Vec<u8>) -> Result<Frame<bytes::Bytes>, Infallible> {
    Ok(Frame::data(bytes::Bytes::from(chunk)))
}

fn into_http_response(response: Response) -> Result<http::Response<Body>, spin_sdk::http::Error> {
    let mut builder = http::Response::builder().status(response.status);
    for (name, value) in response.headers.iter() {
        builder = builder.header(name, value);
    }
    let body = match response.stream {
        // No length: the p3 body stream carries the chunks as the stream yields them.
        Some(stream) => {
            let prefix = (!response.body.is_empty()).then_some(response.body);
            let chunks = futures::stream::iter(prefix).chain(stream);
            Either::Right(StreamBody::new(chunks.map(frame as fn(_) -> _)))
        }
        // An explicit length keeps the response from being chunked.
        None => {
            builder = builder.header("content-length", response.body.len().to_string());
            Either::Left(Full::new(bytes::Bytes::from(response.body)))
        }
    };
    Ok(builder.body(body)?)
}

#[spin_sdk::http_service]
async fn handle(
    req: spin_sdk::http::Request,
) -> Result<http::Response<Body>, spin_sdk::http::Error> {
    let mut request = into_request(req).await?;
    let config = Config::from_lookup(config::lookup);
    // Spin runs behind an ingress that appends the client to X-Forwarded-For; only the
    // entries our own proxies appended (on the right) can be trusted, so the count of them
    // comes from configuration. A bad configuration answers 503 anyway: no address then.
    if let Ok(config) = &config {
        request.client_ip =
            functions::client_ip::from_forwarded_for(&request.headers, config.trusted_proxy_hops);
    }
    let platform = Platform {
        http: SpinHttp,
        clock: SpinClock,
        rng: SpinRng,
        log: |line| eprintln!("{line}"),
        // Spin instantiates the component for every request (its wasi:http p3 executor calls
        // `instantiate` per request). `wasmtime serve` 49 does reuse a p3 instance (up to 128
        // requests, 16 at once, measured) but drops it after 1 s idle without telling it, so
        // state kept between requests is not to be relied on either: flush every request.
        // The live feeds (module state too) are therefore shared only by the streams one
        // instance serves at once; see `tests/bench/live.rs` for what that costs.
        instances: Instances::PerRequest,
        // No location cache: a CDN in front of Spin plays that part for the updates route
        // (`Cache-Control: public, max-age=1`).
        cache: None,
    };
    let served = functions::serve(platform, config, request).await;
    // WASI 0.3 lets a task keep running after it has returned its response: deferred commands
    // and the metrics flush run there, like `ctx.wait_until` on Workers, after the response
    // is sent, and cannot delay or stall it. The host keeps the instance until the task ends.
    if let Some(after) = served.after {
        spin_sdk::wasip3::spawn(after.run());
    }
    into_http_response(served.response)
}
