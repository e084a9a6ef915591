//! Execution of Hrana stream requests on one libSQL connection.
//!
//! A Hrana stream is one SQL connection plus the SQL texts stored on it
//! (`store_sql`). This module runs the requests of a pipeline in order on such
//! a stream, as `sqld`'s `hrana/http/request.rs` does (tag
//! `libsql-server-v0.24.33`): a statement error is that request's result and
//! the pipeline goes on; a protocol error (a missing or doubled `sql`/`sql_id`,
//! an unknown stored SQL id, a bad batch condition, a request after `close`,
//! a Hrana 3 feature on `/v2`) or an `ATTACH` stops the pipeline, and the
//! HTTP layer answers 400 or 403.
//!
//! Everything here is blocking (the engine may sleep in its busy handler), so
//! callers run it on a blocking thread, never on the async runtime's workers.
//!
//! Costs are charged per statement in `query`; transaction control
//! (`BEGIN`, `COMMIT`, `ROLLBACK`) sent as an `execute` or as a batch step
//! runs as an ordinary statement, so it counts as one, as it does on `sqld`;
//! a `sequence` counts each statement of its script that runs; `describe`
//! (prepare only) and closing a stream (which rolls back without a
//! statement) cost nothing.

use std::collections::HashMap;
use std::sync::Arc;

use libsql_hrana::proto::{
    BatchStreamResp, CloseSqlStreamResp, CloseStreamResp, DescribeCol, DescribeParam,
    DescribeResult, DescribeStreamResp, ExecuteStreamResp, GetAutocommitStreamResp,
    SequenceStreamResp, StoreSqlStreamResp, StreamRequest, StreamResponse, StreamResult,
};

use super::HranaMeter;
use super::args::Args;
use super::batch;
use super::errors::{Failure, prepare_error, protocol, stmt};
use super::query::{self, Query};
use super::sql_text::{self, split_statements};

/// Most SQL texts one stream may store (`MAX_SQL_COUNT` in `sqld`).
const MAX_STORED_SQL: usize = 50;
/// Longest SQL text one stream may store (`MAX_STORED_SQL_SIZE`: 5 kB).
const MAX_STORED_SQL_BYTES: usize = 5000;

/// One Hrana stream: its connection and its stored SQL texts.
pub(super) struct SqlStream {
    /// The stream's own connection (so a transaction spans requests).
    pub(super) conn: rusqlite::Connection,
    sqls: HashMap<i32, String>,
    /// Set once a `close` request ran; later requests that need the
    /// connection are protocol errors.
    pub(super) closed: bool,
    /// Where the statements run on this stream are charged.
    pub(super) meter: Arc<HranaMeter>,
}

impl SqlStream {
    /// A fresh stream over `conn`, charging its statements to `meter`.
    pub(super) fn new(conn: rusqlite::Connection, meter: Arc<HranaMeter>) -> Self {
        Self {
            conn,
            sqls: HashMap::new(),
            closed: false,
            meter,
        }
    }

    /// The SQL text named by a request: inline `sql` or a stored `sql_id`.
    ///
    /// # Errors
    /// A protocol error, as `sqld`'s `proto_sql_to_sql`.
    pub(super) fn resolve_sql(
        &self,
        sql: Option<&str>,
        sql_id: Option<i32>,
    ) -> Result<String, Failure> {
        match (sql, sql_id) {
            (Some(sql), None) => Ok(sql.to_string()),
            (None, Some(id)) => self
                .sqls
                .get(&id)
                .cloned()
                .ok_or_else(|| Failure::Protocol(protocol::sql_not_found(id))),
            (Some(_), Some(_)) => Err(Failure::Protocol(protocol::SQL_AND_SQL_ID.into())),
            (None, None) => Err(Failure::Protocol(protocol::NO_SQL.into())),
        }
    }

    /// The connection, unless the stream was closed.
    fn open(&self) -> Result<&rusqlite::Connection, Failure> {
        if self.closed {
            Err(Failure::Protocol(protocol::BATON_STREAM_CLOSED.into()))
        } else {
            Ok(&self.conn)
        }
    }
}

/// Run a pipeline's requests in order; each gets its own result.
///
/// # Errors
/// The first protocol error or refusal: the pipeline stops there and the
/// results so far are dropped (their effects stay, as on `sqld`).
pub(super) fn run_requests(
    stream: &mut SqlStream,
    requests: Vec<StreamRequest>,
    hrana3: bool,
) -> Result<Vec<StreamResult>, Failure> {
    let mut results = Vec::with_capacity(requests.len());
    for req in requests {
        results.push(match handle(stream, req, hrana3) {
            Ok(response) => StreamResult::Ok { response },
            Err(Failure::Stmt(error)) => StreamResult::Error { error },
            Err(other) => return Err(other),
        });
    }
    Ok(results)
}

fn handle(
    stream: &mut SqlStream,
    req: StreamRequest,
    hrana3: bool,
) -> Result<StreamResponse, Failure> {
    match req {
        StreamRequest::None => Err(Failure::Protocol(protocol::NONE_STREAM_REQUEST.into())),
        StreamRequest::Close(_) => {
            stream.closed = true;
            Ok(StreamResponse::Close(CloseStreamResp {}))
        }
        StreamRequest::Execute(r) => {
            let conn = stream.open()?;
            let sql = stream.resolve_sql(r.stmt.sql.as_deref(), r.stmt.sql_id)?;
            let query = query::compile(conn, &sql, &r.stmt.args, &r.stmt.named_args)?;
            query::refuse_attach([&query.kind])?;
            let result = query::run(stream, &query)?;
            Ok(StreamResponse::Execute(ExecuteStreamResp { result }))
        }
        StreamRequest::Batch(r) => {
            stream.open()?;
            let program = batch::compile(stream, &r.batch, hrana3)?;
            let result = batch::execute(stream, &program)?;
            Ok(StreamResponse::Batch(BatchStreamResp { result }))
        }
        StreamRequest::Sequence(r) => {
            stream.open()?;
            let sql = stream.resolve_sql(r.sql.as_deref(), r.sql_id)?;
            execute_sequence(stream, &sql)?;
            Ok(StreamResponse::Sequence(SequenceStreamResp {}))
        }
        StreamRequest::Describe(r) => {
            let conn = stream.open()?;
            let sql = stream.resolve_sql(r.sql.as_deref(), r.sql_id)?;
            let result = describe(conn, &sql)?;
            Ok(StreamResponse::Describe(DescribeStreamResp { result }))
        }
        StreamRequest::StoreSql(r) => {
            if stream.sqls.contains_key(&r.sql_id) {
                return Err(Failure::Protocol(protocol::sql_exists(r.sql_id)));
            }
            if stream.sqls.len() >= MAX_STORED_SQL {
                return Err(stmt(
                    "SQL_STORE_TOO_MANY",
                    format!(
                        "The server already stores {} SQL texts, it cannot store more",
                        stream.sqls.len()
                    ),
                )
                .into());
            }
            if r.sql.len() > MAX_STORED_SQL_BYTES {
                return Err(stmt(
                    "SQL_STORE_TOO_LARGE",
                    format!(
                        "The statement is too large to be stored: {}/5.0 KB",
                        display_size(r.sql.len())
                    ),
                )
                .into());
            }
            stream.sqls.insert(r.sql_id, r.sql);
            Ok(StreamResponse::StoreSql(StoreSqlStreamResp {}))
        }
        StreamRequest::CloseSql(r) => {
            stream.sqls.remove(&r.sql_id);
            Ok(StreamResponse::CloseSql(CloseSqlStreamResp {}))
        }
        StreamRequest::GetAutocommit(_) if !hrana3 => Err(Failure::Protocol(
            protocol::not_supported("The `get_autocommit` request", "hrana3"),
        )),
        StreamRequest::GetAutocommit(_) => {
            Ok(StreamResponse::GetAutocommit(GetAutocommitStreamResp {
                is_autocommit: stream.open()?.is_autocommit(),
            }))
        }
    }
}

/// A byte count as `bytesize` displays it (`sqld`'s message uses it).
fn display_size(bytes: usize) -> String {
    #[allow(clippy::cast_precision_loss)] // a stored SQL text is far below 2^52 bytes
    let kb = bytes as f64 / 1000.0;
    format!("{kb:.1} KB")
}

/// Run a SQL script (`sequence`) as `sqld` does (`proto_sequence_to_program`):
/// every statement is parsed first (any `SQL_PARSE_ERROR` and nothing runs),
/// then they run in turn without arguments, stopping at the first error.
fn execute_sequence(stream: &SqlStream, sql: &str) -> Result<(), Failure> {
    let mut queries = Vec::new();
    for statement in split_statements(sql) {
        queries.push(Query {
            sql: statement.to_string(),
            args: Args::Positional(Vec::new()),
            kind: query::check_statement(&stream.conn, sql, statement)?,
        });
    }
    query::refuse_attach(queries.iter().map(|q| &q.kind))?;
    for q in &queries {
        query::run(stream, q)?;
    }
    Ok(())
}

/// Parameters and columns of a statement, without running it, as `sqld`'s
/// `describe` in `connection/connection_core.rs`: the engine prepares the
/// text (no statement-count check) and says whether it is read-only.
/// `is_explain` comes from the leading keyword (`sqlite3_stmt_isexplain` is
/// not in our rusqlite build).
fn describe(conn: &rusqlite::Connection, sql: &str) -> Result<DescribeResult, Failure> {
    let stmt = conn.prepare(sql).map_err(|e| prepare_error(e, sql))?;
    let params = (1..=stmt.parameter_count())
        .map(|i| DescribeParam {
            name: stmt.parameter_name(i).map(str::to_string),
        })
        .collect();
    let cols = stmt
        .columns()
        .iter()
        .map(|c| DescribeCol {
            name: c.name().to_string(),
            decltype: c.decl_type().map(str::to_string),
        })
        .collect();
    Ok(DescribeResult {
        params,
        cols,
        is_explain: sql_text::leading_words(sql, 1)
            .first()
            .is_some_and(|w| w == "EXPLAIN"),
        is_readonly: stmt.readonly(),
    })
}
