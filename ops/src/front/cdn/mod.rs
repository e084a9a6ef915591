//! A small caching reverse proxy: the CDN in front of the API in tests and benchmarks, so
//! `LIVE_FEED_URL` can point at something that behaves like one.
//!
//! - `GET` answers the origin marks `Cache-Control: public, max-age=N` (status 200) are stored
//!   for N seconds, keyed by path and query ([`policy`]), and served from there (`X-Cache:
//!   HIT`, `Age`).
//! - Concurrent misses of one key wait for one origin request and share its answer
//!   ([`cache`]).
//! - Anything else passes through, streamed ([`origin`]); the client is appended to
//!   `X-Forwarded-For` either way.
//! - `GET /__stats`: hits, misses, collapsed misses, origin requests and pass-throughs
//!   ([`CdnStats`]).
//!
//! The origin may be set after the CDN listens ([`RunningCdn::set_origin`]): an app that
//! reads through the CDN must know its URL before it starts.

mod cache;
mod origin;
mod policy;
mod stats;

pub use stats::CdnStats;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{DEFAULT_LISTEN, FrontError};
use cache::{Cache, Stored};
use origin::{Forward, Origin};
use stats::Meter;

/// Largest request body passed through.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Settings of the CDN.
#[derive(Debug, Clone)]
pub struct CdnConfig {
    /// Address to listen on; keep it on loopback. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// The origin's base URL, if known yet (see [`RunningCdn::set_origin`]).
    pub origin: Option<String>,
}

impl Default for CdnConfig {
    fn default() -> Self {
        CdnConfig {
            listen: DEFAULT_LISTEN,
            origin: None,
        }
    }
}

#[derive(Clone)]
struct Shared {
    origin: Arc<Origin>,
    cache: Arc<Cache>,
    meter: Arc<Meter>,
}

/// A CDN that listens; dropping it stops it.
#[derive(Debug)]
pub struct RunningCdn {
    addr: SocketAddr,
    origin: Arc<Origin>,
    meter: Arc<Meter>,
    stop: watch::Sender<bool>,
}

impl RunningCdn {
    /// Its base URL, e.g. `http://127.0.0.1:41236`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where requests go from now on.
    pub fn set_origin(&self, base_url: &str) {
        self.origin.set(base_url);
    }

    /// What it served so far (what `GET /__stats` answers).
    pub fn stats(&self) -> CdnStats {
        self.meter.read()
    }
}

impl Drop for RunningCdn {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// Starts a CDN and returns once it listens.
///
/// # Errors
/// [`FrontError::Bind`] when the address cannot be bound; [`FrontError::Server`] when no
/// HTTP client can be built.
pub async fn start(config: CdnConfig) -> Result<RunningCdn, FrontError> {
    let origin = Arc::new(Origin::new(config.origin).map_err(FrontError::Server)?);
    let meter = Arc::new(Meter::default());
    let shared = Shared {
        origin: origin.clone(),
        cache: Arc::default(),
        meter: meter.clone(),
    };
    let bind = |source| FrontError::Bind {
        addr: config.listen,
        source,
    };
    let listener = TcpListener::bind(config.listen).await.map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;
    let router = Router::new()
        .route("/__stats", axum::routing::get(stats))
        .fallback(serve)
        .with_state(shared);
    let (stop, mut stopped) = watch::channel(false);
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
    });
    Ok(RunningCdn {
        addr,
        origin,
        meter,
        stop,
    })
}

async fn stats(State(shared): State<Shared>) -> Response {
    axum::Json(shared.meter.read()).into_response()
}

async fn serve(
    State(shared): State<Shared>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let key = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let forward = Forward {
        method: parts.method.clone(),
        path_and_query: &key,
        headers: &parts.headers,
        client,
        body,
    };
    if !policy::cacheable_request(&parts.method) {
        Meter::add(&shared.meter.passed);
        Meter::add(&shared.meter.origin_requests);
        return match shared.origin.send(forward).await {
            Ok(response) => origin::streamed(response),
            Err(e) => bad_gateway(&e),
        };
    }
    if let Some(stored) = shared.cache.fresh(&key) {
        Meter::add(&shared.meter.hits);
        return stored.response(true);
    }
    Meter::add(&shared.meter.misses);
    let (flight, leader) = shared.cache.flight(&key);
    if !leader {
        Meter::add(&shared.meter.collapsed);
    }
    let answer = flight
        .get_or_init(|| async {
            Meter::add(&shared.meter.origin_requests);
            let response = shared.origin.send(forward).await?;
            let (status, headers) = (response.status(), response.headers().clone());
            let ttl = policy::freshness(status, &headers);
            let body = response
                .bytes()
                .await
                .map_err(|e| format!("origin body: {e}"))?;
            let headers = origin::without_hop_by_hop(&headers);
            Ok(Arc::new(Stored::new(status, headers, body, ttl)))
        })
        .await
        .clone();
    shared.cache.land(&key, &flight);
    match answer {
        Ok(stored) => stored.response(false),
        Err(e) => bad_gateway(&e),
    }
}

fn bad_gateway(reason: &str) -> Response {
    let mut response = Response::new(Body::from(reason.to_owned()));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}
