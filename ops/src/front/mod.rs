//! Local stand-ins ("fronts") for the two managed data services of the edge
//! functions.
//!
//! In production the functions reach Redis through Upstash's REST protocol and
//! libSQL through Turso's Hrana-over-HTTP protocol. Neither Upstash's local
//! proxy nor Turso's `sqld` can be installed here, so a local or e2e stack runs
//! these fronts instead:
//!
//! - [`UpstashConfig`]: an Upstash-compatible REST server in front of a real
//!   `redis-server` (see the `upstash` module).
//! - [`HranaConfig`]: a Hrana-over-HTTP server (the wire format of `sqld`) in
//!   front of an embedded libSQL database file (see the `hrana` module).
//!
//! Both speak exactly the HTTP dialect that the official JS clients
//! (`@upstash/redis`, `@libsql/client`) and our own Rust clients use, so the
//! same edge code runs against them unchanged. [`serve`] binds both, returns
//! their addresses and a handle to stop them.
//!
//! Next to them, [`cdn`] is a small caching reverse proxy that stands for the CDN in front
//! of the API (`LIVE_FEED_URL`), with counters of its own.
//!
//! Each front also counts what its requests would be billed by the real
//! service ([`UpstashCosts`], [`HranaCosts`]), readable at `GET /__stats` and
//! zeroed by `POST /__stats/reset`, so tests can assert what an API request
//! costs.

pub mod cdn;
mod hrana;
mod stats;
mod upstash;

pub use stats::{HranaCosts, STATS_PATH, STATS_RESET_PATH, UpstashCosts};

use std::future::IntoFuture;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Default address of a front: loopback, with a port chosen by the OS.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// How long a server is given to finish in-flight requests after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What to start: either front may be left out.
#[derive(Debug, Clone, Default)]
pub struct FrontConfig {
    /// The Upstash REST front, if wanted.
    pub upstash: Option<UpstashConfig>,
    /// The Hrana-over-HTTP front, if wanted.
    pub hrana: Option<HranaConfig>,
}

/// Settings of the Upstash-compatible REST front.
#[derive(Debug, Clone)]
pub struct UpstashConfig {
    /// Address to listen on; keep it on loopback. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// The real Redis behind the front, e.g. `redis://127.0.0.1:6390`.
    pub redis_url: String,
    /// Token clients must send as `Authorization: Bearer <token>`.
    pub token: String,
}

impl UpstashConfig {
    /// A front for `redis_url` guarded by `token`, on 127.0.0.1 with a free port.
    pub fn new(redis_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            redis_url: redis_url.into(),
            token: token.into(),
        }
    }
}

/// Settings of the Hrana-over-HTTP front.
#[derive(Debug, Clone)]
pub struct HranaConfig {
    /// Address to listen on; keep it on loopback. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Path of the libSQL database file (created if missing). `:memory:` gives
    /// a throw-away database (a temporary file removed at shutdown, so that
    /// every stream sees the same data).
    pub db_path: String,
    /// Token clients must send as `Authorization: Bearer <token>`.
    pub token: String,
    /// An interactive stream (baton) idle for longer than this is closed and
    /// its open transaction rolled back.
    pub stream_idle_timeout: Duration,
    /// How long a statement waits for a lock held by another stream before
    /// failing with `SQLITE_BUSY`.
    pub busy_timeout: Duration,
}

impl HranaConfig {
    /// A front over `db_path` guarded by `token`, on 127.0.0.1 with a free port,
    /// 10 s stream idle timeout and 5 s busy timeout.
    pub fn new(db_path: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            db_path: db_path.into(),
            token: token.into(),
            stream_idle_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Why the fronts could not start or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum FrontError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The Redis behind the Upstash front could not be reached.
    #[error("cannot connect to redis at {url}: {source}")]
    Redis {
        /// The configured Redis URL.
        url: String,
        /// The client error.
        source: redis::RedisError,
    },
    /// The libSQL database could not be opened or prepared.
    #[error("cannot open libsql database {path}: {message}")]
    Database {
        /// The configured database path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A server task failed while running or did not stop in time.
    #[error("front server failed: {0}")]
    Server(String),
}

/// A handle that asks the running fronts to stop; cheap to clone.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Ask every front to stop accepting requests and finish.
    pub fn shutdown(&self) {
        self.tx.send_replace(true);
    }
}

/// The fronts started by [`serve`]: their bound addresses and their lifetime.
#[derive(Debug)]
pub struct RunningFronts {
    upstash_addr: Option<SocketAddr>,
    hrana_addr: Option<SocketAddr>,
    shutdown: ShutdownHandle,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
    cleanup: Vec<hrana::Cleanup>,
}

impl RunningFronts {
    /// Bound address of the Upstash REST front, if started.
    pub fn upstash_addr(&self) -> Option<SocketAddr> {
        self.upstash_addr
    }

    /// Bound address of the Hrana front, if started.
    pub fn hrana_addr(&self) -> Option<SocketAddr> {
        self.hrana_addr
    }

    /// Base URL for `UPSTASH_REDIS_REST_URL`, e.g. `http://127.0.0.1:41234`.
    pub fn upstash_url(&self) -> Option<String> {
        self.upstash_addr.map(|a| format!("http://{a}"))
    }

    /// Base URL for `LIBSQL_URL`, e.g. `http://127.0.0.1:41235`.
    pub fn hrana_url(&self) -> Option<String> {
        self.hrana_addr.map(|a| format!("http://{a}"))
    }

    /// A handle that stops the fronts from elsewhere (e.g. a signal task).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Wait until the fronts stop (after [`ShutdownHandle::shutdown`], or when
    /// a server fails), then release their resources.
    pub async fn wait(mut self) -> Result<(), FrontError> {
        let mut first_err = None;
        let mut tasks = std::mem::take(&mut self.tasks);
        // When one server ends on its own (an error), stop the others too.
        while !tasks.is_empty() {
            let (done, index, rest) = futures::future::select_all(tasks.iter_mut()).await;
            drop(rest);
            if let Some(err) = task_error(done) {
                first_err.get_or_insert(err);
            }
            self.shutdown.shutdown();
            tasks.remove(index);
        }
        for c in self.cleanup.drain(..) {
            c.run();
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Stop the fronts and wait for them (at most a few seconds for in-flight
    /// requests), then release their resources.
    pub async fn shutdown(self) -> Result<(), FrontError> {
        self.shutdown.shutdown();
        match tokio::time::timeout(SHUTDOWN_GRACE * 2, self.wait()).await {
            Ok(r) => r,
            Err(_) => Err(FrontError::Server("fronts did not stop in time".into())),
        }
    }
}

impl Drop for RunningFronts {
    /// Dropping the handle stops the fronts (without waiting for them) and
    /// removes a temporary `:memory:` database file.
    fn drop(&mut self) {
        self.shutdown.shutdown();
        for c in self.cleanup.drain(..) {
            c.run();
        }
    }
}

fn task_error(done: Result<std::io::Result<()>, tokio::task::JoinError>) -> Option<FrontError> {
    match done {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(FrontError::Server(e.to_string())),
        Err(e) => Some(FrontError::Server(e.to_string())),
    }
}

/// Start the configured fronts and return once they are listening.
///
/// Fails if a port cannot be bound, if Redis cannot be reached, or if the
/// database cannot be opened; nothing keeps running in that case.
pub async fn serve(config: FrontConfig) -> Result<RunningFronts, FrontError> {
    let (tx, rx) = watch::channel(false);
    let mut running = RunningFronts {
        upstash_addr: None,
        hrana_addr: None,
        shutdown: ShutdownHandle { tx: Arc::new(tx) },
        tasks: Vec::new(),
        cleanup: Vec::new(),
    };
    if let Err(e) = start_all(config, rx, &mut running).await {
        // Stop whatever was already started before reporting.
        let _ = running.shutdown().await;
        return Err(e);
    }
    Ok(running)
}

async fn start_all(
    config: FrontConfig,
    rx: watch::Receiver<bool>,
    running: &mut RunningFronts,
) -> Result<(), FrontError> {
    if let Some(cfg) = config.upstash {
        let router = upstash::router(&cfg).await?;
        let (addr, task) = spawn_server(cfg.listen, router, rx.clone()).await?;
        running.upstash_addr = Some(addr);
        running.tasks.push(task);
    }
    if let Some(cfg) = config.hrana {
        let (router, cleanup) = hrana::router(&cfg, rx.clone()).await?;
        running.cleanup.push(cleanup);
        let (addr, task) = spawn_server(cfg.listen, router, rx.clone()).await?;
        running.hrana_addr = Some(addr);
        running.tasks.push(task);
    }
    Ok(())
}

async fn spawn_server(
    listen: SocketAddr,
    router: axum::Router,
    mut rx: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<std::io::Result<()>>), FrontError> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| FrontError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| FrontError::Bind {
        addr: listen,
        source,
    })?;
    let mut grace_rx = rx.clone();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .into_future();
        tokio::pin!(server);
        tokio::select! {
            r = &mut server => r,
            _ = async {
                let _ = grace_rx.wait_for(|stop| *stop).await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => Ok(()),
        }
    });
    Ok((addr, task))
}

/// True if the request carries `Authorization: Bearer <token>` (the scheme
/// name is case-insensitive) with exactly the configured token.
pub(crate) fn bearer_ok(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.trim().splitn(2, ' ');
    let scheme = parts.next().unwrap_or_default();
    let given = parts.next().unwrap_or_default().trim();
    scheme.eq_ignore_ascii_case("bearer") && constant_time_eq(given.as_bytes(), token.as_bytes())
}

pub(crate) use shared::auth::secret::constant_time_eq;

/// A fresh unguessable identifier (for batons and temporary file names).
pub(crate) fn random_id() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 18];
    if getrandom::fill(&mut bytes).is_err() {
        // Without OS randomness fall back to time and a counter: still unique,
        // and batons are only a session handle behind the bearer token.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        bytes[8..18].copy_from_slice(&t.to_le_bytes()[..10]);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Where a `:memory:` database really lives (see [`HranaConfig::db_path`]).
pub(crate) fn temp_db_path() -> PathBuf {
    std::env::temp_dir().join(format!("ot-hrana-{}.db", random_id()))
}
