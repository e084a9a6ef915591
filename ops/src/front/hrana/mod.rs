//! Hrana-over-HTTP front (the protocol Turso's `sqld` serves) over an embedded
//! libSQL database file.
//!
//! `sqld` cannot be installed here, so the edge functions' SQL port (and the
//! official `@libsql/client`) talk to this server instead:
//!
//! - `GET /v2`, `GET /v3` → 200 (version probes; `/v3-protobuf` is absent, so
//!   clients use JSON);
//! - `POST /v2/pipeline`, `POST /v3/pipeline` with
//!   `{"baton": null|"…", "requests": [...]}` →
//!   `{"baton": …, "base_url": null, "results": [...]}`, wire types from
//!   `libsql_hrana::proto` (shared with our Rust client);
//! - `Authorization: Bearer <token>` on pipelines, else 401;
//! - `GET /__stats` and `POST /__stats/reset` (same token): the cost counters
//!   (see the `stats` module); rows read and written are the engine's own
//!   per-statement figures, which every `StmtResult` carries too, as from
//!   `sqld`.
//!
//! Streams and batons: a pipeline without a baton opens a stream (its own
//! libSQL connection). Unless the pipeline ends the stream with `close`, the
//! response carries a fresh random baton and the stream stays open (with any
//! open transaction) for the next pipeline, which must present that baton.
//! A baton is valid once; unknown or expired batons get a 400. Streams idle for
//! longer than the configured timeout are closed, rolling back their
//! transaction.
//!
//! The engine is libSQL's (the bundled `libsql-ffi` build), driven through
//! its rusqlite API because that API exposes the per-statement rows read and
//! written counters Turso bills; the `libsql` crate keeps them private.
//!
//! The database runs in WAL mode with a busy timeout, so concurrent writers
//! wait for each other instead of failing at once. SQL runs on blocking
//! threads so a waiting writer never stalls the HTTP server.

mod exec;
mod sql_text;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use libsql_hrana::proto::{PipelineReqBody, PipelineRespBody};
use rusqlite::OpenFlags;
use serde_json::json;
use tokio::sync::watch;

use super::stats::{HranaMeter, STATS_PATH, STATS_RESET_PATH};
use super::{FrontError, HranaConfig, bearer_ok, random_id, temp_db_path};
use exec::SqlStream;

/// Largest pipeline body accepted.
const BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Most streams open at once (parked between requests).
const MAX_STREAMS: usize = 4096;

/// Files to remove once the front has stopped (the backing file of a
/// `:memory:` database).
#[derive(Debug)]
pub(super) struct Cleanup {
    temp_db: Option<PathBuf>,
}

impl Cleanup {
    /// Remove the temporary database and its WAL/SHM files, if any.
    pub(super) fn run(self) {
        if let Some(path) = self.temp_db {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// A stream waiting for its next pipeline.
struct Parked {
    stream: SqlStream,
    since: Instant,
}

struct Inner {
    /// The database file every stream opens.
    path: PathBuf,
    /// Kept open for the database's lifetime, so the WAL is not checkpointed
    /// and deleted each time the last stream closes. (In a mutex only because
    /// a connection is `Send` but not `Sync`; it is never used again.)
    _anchor: Mutex<rusqlite::Connection>,
    token: Box<str>,
    /// What the pipelines served so far would cost on Turso.
    meter: Arc<HranaMeter>,
    busy_timeout: Duration,
    idle_timeout: Duration,
    /// Open streams between requests, by their current baton.
    streams: Mutex<HashMap<String, Parked>>,
}

type AppState = Arc<Inner>;

/// Lock a mutex, recovering the data if a panicking thread poisoned it (the
/// maps stay consistent: every update is a single insert/remove).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A new connection with the busy timeout set. Every stream gets a fresh one
/// (as with `sqld`), so no connection state (PRAGMAs, TEMP tables) leaks
/// between streams. The path is taken literally (no `file:` URIs).
fn open_connection(path: &Path, busy_timeout: Duration) -> rusqlite::Result<rusqlite::Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy_timeout)?;
    // WAL commits without an fsync each (the WAL is synced at checkpoints): a local stand-in
    // needs no power-loss durability, and an fsync per commit made the stand-in, not the API,
    // the bottleneck of every benchmark that writes.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

impl Inner {
    /// A connection for a new stream.
    fn connection(&self) -> rusqlite::Result<rusqlite::Connection> {
        open_connection(&self.path, self.busy_timeout)
    }

    /// Park an open stream under a fresh baton.
    fn park(&self, stream: SqlStream) -> Option<String> {
        let mut streams = lock(&self.streams);
        if streams.len() >= MAX_STREAMS {
            return None;
        }
        let baton = random_id();
        streams.insert(
            baton.clone(),
            Parked {
                stream,
                since: Instant::now(),
            },
        );
        Some(baton)
    }

    /// Take the stream a baton names; `None` if unknown or expired.
    fn take(&self, baton: &str) -> Option<SqlStream> {
        let parked = lock(&self.streams).remove(baton)?;
        if parked.since.elapsed() > self.idle_timeout {
            return None;
        }
        Some(parked.stream)
    }

    /// Remove streams idle for too long (all of them when `all`).
    fn expire(&self, all: bool) -> Vec<Parked> {
        let mut streams = lock(&self.streams);
        let expired: Vec<String> = streams
            .iter()
            .filter(|(_, p)| all || p.since.elapsed() > self.idle_timeout)
            .map(|(b, _)| b.clone())
            .collect();
        expired
            .into_iter()
            .filter_map(|b| streams.remove(&b))
            .collect()
    }
}

/// Open the database and build the Hrana router. Also starts the task that
/// expires idle streams (it ends at shutdown).
pub(super) async fn router(
    cfg: &HranaConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<(Router, Cleanup), FrontError> {
    let (path, temp_db) = if cfg.db_path == ":memory:" {
        let p = temp_db_path();
        (p.clone(), Some(p))
    } else {
        (PathBuf::from(&cfg.db_path), None)
    };
    let cleanup = Cleanup { temp_db };
    let db_err = |message: String| FrontError::Database {
        path: cfg.db_path.clone(),
        message,
    };
    let busy_timeout = cfg.busy_timeout;
    let anchor_path = path.clone();
    let setup = tokio::task::spawn_blocking(move || enable_wal(&anchor_path, busy_timeout)).await;
    let anchor = match setup {
        Ok(Ok(anchor)) => anchor,
        Ok(Err(message)) => {
            cleanup.run();
            return Err(db_err(message));
        }
        Err(e) => {
            cleanup.run();
            return Err(db_err(e.to_string()));
        }
    };
    let inner = Arc::new(Inner {
        path,
        _anchor: Mutex::new(anchor),
        token: cfg.token.clone().into_boxed_str(),
        meter: Arc::default(),
        busy_timeout,
        idle_timeout: cfg.stream_idle_timeout,
        streams: Mutex::new(HashMap::new()),
    });
    tokio::spawn(reap_idle_streams(Arc::downgrade(&inner), shutdown));
    let router = Router::new()
        .route("/", get(health))
        .route("/health", get(health))
        .route("/v2", get(version))
        .route("/v3", get(version))
        .route("/v2/pipeline", post(pipeline))
        .route("/v3/pipeline", post(pipeline))
        .route(STATS_PATH, get(stats))
        .route(STATS_RESET_PATH, post(reset_stats))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(inner);
    Ok((router, cleanup))
}

/// Create the database if needed, switch it to WAL (persistent in the file)
/// and return the connection that did it, to be kept open.
fn enable_wal(path: &Path, busy_timeout: Duration) -> Result<rusqlite::Connection, String> {
    let conn = open_connection(path, busy_timeout).map_err(|e| e.to_string())?;
    let mode = conn
        .query_row("PRAGMA journal_mode=WAL", [], |row| row.get::<_, String>(0))
        .and_then(|mode| {
            // A read makes this connection open the WAL and hold its shared
            // lock, so later stream connections are never "the last one" to
            // close.
            conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
            Ok(mode)
        })
        .map_err(|e| e.to_string())?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!(
            "could not switch to WAL journal mode (got {mode:?})"
        ));
    }
    Ok(conn)
}

/// Close streams idle for longer than the timeout; at shutdown close all.
async fn reap_idle_streams(state: Weak<Inner>, mut shutdown: watch::Receiver<bool>) {
    let tick = state.upgrade().map_or(Duration::from_secs(1), |s| {
        (s.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1))
    });
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(tick) => false,
            r = shutdown.wait_for(|stop| *stop) => { let _ = r; true }
        };
        let Some(inner) = state.upgrade() else {
            return;
        };
        let expired = inner.expire(stopping);
        drop(inner);
        if !expired.is_empty() {
            // Closing a connection may roll back: do it off the async workers.
            let _ = tokio::task::spawn_blocking(move || drop(expired)).await;
        }
        if stopping {
            return;
        }
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn version() -> StatusCode {
    StatusCode::OK
}

/// An HTTP-level error in the shape `@libsql/client` reads (`message`, `code`).
fn http_error(status: StatusCode, message: &str, code: &str) -> Response {
    (
        status,
        Json(json!({ "error": message, "message": message, "code": code })),
    )
        .into_response()
}

fn unauthorized() -> Response {
    http_error(StatusCode::UNAUTHORIZED, "Unauthorized", "UNAUTHORIZED")
}

/// `GET /__stats`: the counts so far.
async fn stats(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !bearer_ok(&headers, &state.token) {
        return unauthorized();
    }
    Json(state.meter.read()).into_response()
}

/// `POST /__stats/reset`: the counts so far, which are zeroed.
async fn reset_stats(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !bearer_ok(&headers, &state.token) {
        return unauthorized();
    }
    Json(state.meter.take()).into_response()
}

/// `POST /v2/pipeline` and `POST /v3/pipeline`.
async fn pipeline(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !bearer_ok(&headers, &state.token) {
        return unauthorized();
    }
    // Every authorized pipeline is a billed request, even one that fails.
    state.meter.requests.add(1);
    let req: PipelineReqBody = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return http_error(
                StatusCode::BAD_REQUEST,
                &format!("Invalid pipeline request body: {e}"),
                "PROTO_ERROR",
            );
        }
    };
    let existing = match &req.baton {
        Some(baton) => match state.take(baton) {
            Some(stream) => Some(stream),
            None => {
                return http_error(
                    StatusCode::BAD_REQUEST,
                    "The stream for this baton does not exist or has expired",
                    "STREAM_EXPIRED",
                );
            }
        },
        None => None,
    };
    let worker_state = state.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut stream = match existing {
            Some(s) => s,
            None => SqlStream::new(
                worker_state.connection().map_err(exec::sql_error)?,
                worker_state.meter.clone(),
            ),
        };
        let results = exec::run_requests(&mut stream, req.requests);
        let baton = if stream.closed {
            // Closing the connection rolls back a transaction left open.
            drop(stream);
            None
        } else {
            match worker_state.park(stream) {
                Some(baton) => Some(baton),
                None => {
                    return Err(libsql_hrana::proto::Error {
                        message: "Too many open streams".into(),
                        code: "STREAM_LIMIT".into(),
                    });
                }
            }
        };
        Ok(PipelineRespBody {
            baton,
            base_url: None,
            results,
        })
    })
    .await;
    match joined {
        Ok(Ok(resp)) => Json(resp).into_response(),
        Ok(Err(e)) => http_error(StatusCode::SERVICE_UNAVAILABLE, &e.message, &e.code),
        Err(e) => http_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("Pipeline execution failed: {e}"),
            "INTERNAL",
        ),
    }
}
