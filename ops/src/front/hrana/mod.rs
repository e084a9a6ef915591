//! Hrana-over-HTTP front (the protocol Turso's `sqld` serves) over an embedded
//! libSQL database file.
//!
//! `sqld` cannot be installed here, so the edge functions' SQL port (and the
//! official `@libsql/client`) talk to this server instead. It answers as
//! `sqld` 0.24.33 does, checked against `libsql-server`'s sources at tag
//! `libsql-server-v0.24.33` (each module names the files it follows):
//!
//! - `GET /v2`, `GET /v3` → 200 (version probes; `/v3-protobuf` is absent, so
//!   clients use JSON);
//! - `POST /v2/pipeline`, `POST /v3/pipeline` with
//!   `{"baton": null|"…", "requests": [...]}` →
//!   `{"baton": …, "base_url": null, "results": [...]}`, wire types from
//!   `libsql_hrana::proto` (shared with our Rust client); Hrana 3 features
//!   (`get_autocommit`, the `is_autocommit` condition) only on `/v3`;
//! - statement errors are results; protocol errors (malformed JSON, an
//!   unknown request type, a bad baton, …) are HTTP 400 `text/plain`; an
//!   expired stream is HTTP 400 `{"message","code":"STREAM_EXPIRED"}`;
//!   `ATTACH` is HTTP 403 (see `errors`, `analysis`);
//! - `Authorization: Bearer <token>` on pipelines, else 401 with
//!   `{"error":"Unauthorized: `…`"}` (`sqld`'s `AuthError` texts for its JWT
//!   strategy; a wrong token reads as an invalid JWT);
//! - `GET /__stats` and `POST /__stats/reset` (same token): the cost counters
//!   (see the `stats` module); rows read and written are the engine's own
//!   per-statement figures, which every `StmtResult` carries too, as from
//!   `sqld`.
//!
//! Streams and batons: a pipeline without a baton opens a stream (its own
//! libSQL connection). Unless the pipeline ends the stream with `close`, the
//! response carries a fresh random baton and the stream stays open (with any
//! open transaction) for the next pipeline, which must present that baton.
//! A baton is valid once. Streams idle for longer than the configured timeout
//! are closed, rolling back their transaction.
//!
//! The engine is libSQL's (the bundled `libsql-ffi` build), driven through
//! its rusqlite API because that API exposes the per-statement rows read and
//! written counters Turso bills; the `libsql` crate keeps them private.
//!
//! The database runs in WAL mode with a busy timeout, so concurrent writers
//! wait for each other instead of failing at once. SQL runs on blocking
//! threads so a waiting writer never stalls the HTTP server.

mod analysis;
mod args;
mod batch;
mod errors;
mod exec;
mod http;
mod query;
mod sql_text;
mod streams;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use rusqlite::OpenFlags;
use tokio::sync::watch;

use super::stats::{HranaMeter, STATS_PATH, STATS_RESET_PATH};
use super::{FrontError, HranaConfig, random_id, temp_db_path};
use streams::Parked;

/// Largest pipeline body accepted.
const BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;
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
    /// Batons of streams closed for idleness, and when: presenting one is
    /// `STREAM_EXPIRED` rather than an invalid baton, as on `sqld`, which
    /// keeps expired handles for a while.
    expired: Mutex<HashMap<String, Instant>>,
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
    // Room for a batch's distinct statements: each is prepared once to check
    // it before the batch runs and found again in this cache when it runs.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
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
        expired: Mutex::new(HashMap::new()),
    });
    tokio::spawn(streams::reap_idle_streams(Arc::downgrade(&inner), shutdown));
    let router = Router::new()
        .route("/", get(http::health))
        .route("/health", get(http::health))
        .route("/v2", get(http::version))
        .route("/v3", get(http::version))
        .route("/v2/pipeline", post(http::pipeline_v2))
        .route("/v3/pipeline", post(http::pipeline_v3))
        .route(STATS_PATH, get(http::stats))
        .route(STATS_RESET_PATH, post(http::reset_stats))
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
