//! Execution of Hrana stream requests on one libSQL connection.
//!
//! A Hrana stream is one SQL connection plus the SQL texts stored on it
//! (`store_sql`). This module runs the requests of a pipeline in order on such
//! a stream and turns libSQL results and errors into the wire types of
//! `libsql_hrana::proto`, the same definitions our Rust Hrana client uses.
//!
//! Everything here is blocking (local libSQL does its work synchronously
//! inside its async API, and may sleep in its busy handler), so callers run it
//! on a blocking thread, never on the async runtime's workers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::executor::block_on;
use libsql_hrana::proto::{
    Batch, BatchCond, BatchResult, BatchStreamResp, CloseSqlStreamResp, CloseStreamResp, Col,
    DescribeCol, DescribeParam, DescribeResult, DescribeStreamResp, Error, ExecuteStreamResp,
    GetAutocommitStreamResp, NamedArg, Row, SequenceStreamResp, Stmt, StmtResult,
    StoreSqlStreamResp, StreamRequest, StreamResponse, StreamResult, Value,
};

use super::sql_text::{self, Shape};

/// Most SQL texts one stream may store with `store_sql`.
const MAX_STORED_SQL: usize = 1000;

/// One Hrana stream: its connection and its stored SQL texts.
pub(super) struct SqlStream {
    /// The stream's own connection (so a transaction spans requests).
    pub(super) conn: libsql::Connection,
    sqls: HashMap<i32, String>,
    /// Set once a `close` request ran; later requests fail.
    pub(super) closed: bool,
}

impl SqlStream {
    /// A fresh stream over `conn`.
    pub(super) fn new(conn: libsql::Connection) -> Self {
        Self {
            conn,
            sqls: HashMap::new(),
            closed: false,
        }
    }
}

fn err(code: &str, message: impl Into<String>) -> Error {
    Error {
        message: message.into(),
        code: code.to_string(),
    }
}

/// Run a pipeline's requests in order; each gets its own result.
pub(super) fn run_requests(
    stream: &mut SqlStream,
    requests: Vec<StreamRequest>,
) -> Vec<StreamResult> {
    requests
        .into_iter()
        .map(|req| {
            let outcome = if stream.closed {
                Err(err("STREAM_CLOSED", "The stream has already been closed"))
            } else {
                handle(stream, req)
            };
            match outcome {
                Ok(response) => StreamResult::Ok { response },
                Err(error) => StreamResult::Error { error },
            }
        })
        .collect()
}

fn handle(stream: &mut SqlStream, req: StreamRequest) -> Result<StreamResponse, Error> {
    match req {
        StreamRequest::None => Err(err("PROTO_ERROR", "Unknown stream request")),
        StreamRequest::Close(_) => {
            stream.closed = true;
            Ok(StreamResponse::Close(CloseStreamResp {}))
        }
        StreamRequest::Execute(r) => {
            let result = execute_stmt(stream, &r.stmt)?;
            Ok(StreamResponse::Execute(ExecuteStreamResp { result }))
        }
        StreamRequest::Batch(r) => {
            let result = execute_batch(stream, &r.batch)?;
            Ok(StreamResponse::Batch(BatchStreamResp { result }))
        }
        StreamRequest::Sequence(r) => {
            let sql = resolve_sql(stream, r.sql.as_deref(), r.sql_id)?;
            block_on(stream.conn.execute_batch(&sql)).map_err(sql_error)?;
            Ok(StreamResponse::Sequence(SequenceStreamResp {}))
        }
        StreamRequest::Describe(r) => {
            let sql = resolve_sql(stream, r.sql.as_deref(), r.sql_id)?;
            let result = describe(&stream.conn, &sql)?;
            Ok(StreamResponse::Describe(DescribeStreamResp { result }))
        }
        StreamRequest::StoreSql(r) => {
            if stream.sqls.contains_key(&r.sql_id) {
                return Err(err(
                    "SQL_STORE_ID_IN_USE",
                    format!("SQL text with id {} is already stored", r.sql_id),
                ));
            }
            if stream.sqls.len() >= MAX_STORED_SQL {
                return Err(err(
                    "SQL_STORE_TOO_MANY",
                    format!("A stream may store at most {MAX_STORED_SQL} SQL texts"),
                ));
            }
            stream.sqls.insert(r.sql_id, r.sql);
            Ok(StreamResponse::StoreSql(StoreSqlStreamResp {}))
        }
        StreamRequest::CloseSql(r) => {
            stream.sqls.remove(&r.sql_id);
            Ok(StreamResponse::CloseSql(CloseSqlStreamResp {}))
        }
        StreamRequest::GetAutocommit(_) => {
            Ok(StreamResponse::GetAutocommit(GetAutocommitStreamResp {
                is_autocommit: stream.conn.is_autocommit(),
            }))
        }
    }
}

/// The SQL text named by a request: inline `sql` or a stored `sql_id`.
fn resolve_sql(
    stream: &SqlStream,
    sql: Option<&str>,
    sql_id: Option<i32>,
) -> Result<String, Error> {
    match (sql, sql_id) {
        (Some(sql), None) => Ok(sql.to_string()),
        (None, Some(id)) => stream.sqls.get(&id).cloned().ok_or_else(|| {
            err(
                "SQL_NOT_FOUND",
                format!("No SQL text is stored with id {id}"),
            )
        }),
        (Some(_), Some(_)) => Err(err(
            "PROTO_ERROR",
            "A statement must have either `sql` or `sql_id`, not both",
        )),
        (None, None) => Err(err(
            "PROTO_ERROR",
            "A statement must have either `sql` or `sql_id`",
        )),
    }
}

/// Prepare exactly one statement (as `sqld` does: no empty text, no second
/// statement silently ignored).
fn prepare(conn: &libsql::Connection, sql: &str) -> Result<libsql::Statement, Error> {
    match sql_text::shape(sql) {
        Shape::Empty => Err(err(
            "SQL_NO_STATEMENT",
            "SQL string does not contain any statement",
        )),
        Shape::Many => Err(err(
            "SQL_MANY_STATEMENTS",
            "SQL string contains more than one statement",
        )),
        Shape::One => block_on(conn.prepare(sql)).map_err(sql_error),
    }
}

/// Run one statement and collect its result.
fn execute_stmt(stream: &SqlStream, stmt: &Stmt) -> Result<StmtResult, Error> {
    let started = Instant::now();
    let sql = resolve_sql(stream, stmt.sql.as_deref(), stmt.sql_id)?;
    let conn = &stream.conn;
    let prepared = prepare(conn, &sql)?;
    let params = bind_params(&prepared, &stmt.args, &stmt.named_args)?;
    let want_rows = stmt.want_rows.unwrap_or(true);
    let cols: Vec<Col> = prepared
        .columns()
        .iter()
        .map(|c| Col {
            name: Some(c.name().to_string()),
            decltype: c.decl_type().map(str::to_string),
        })
        .collect();
    let changes_before = conn.total_changes();
    let mut rows = block_on(prepared.query(params)).map_err(sql_error)?;
    let mut out_rows = Vec::new();
    let mut rows_read = 0u64;
    while let Some(row) = block_on(rows.next()).map_err(sql_error)? {
        rows_read += 1;
        if want_rows {
            let mut values = Vec::with_capacity(cols.len());
            for i in 0..cols.len() {
                let index =
                    i32::try_from(i).map_err(|_| err("SQLITE_RANGE", "Too many columns"))?;
                values.push(from_libsql(row.get_value(index).map_err(sql_error)?));
            }
            out_rows.push(Row { values });
        }
    }
    drop(rows);
    // `changes()` keeps the count of the last INSERT/UPDATE/DELETE, so only
    // trust it when this statement did change rows.
    let rows_written = conn.total_changes().saturating_sub(changes_before);
    let (affected_row_count, last_insert_rowid) = if rows_written > 0 {
        (conn.changes(), Some(conn.last_insert_rowid()))
    } else {
        (0, None)
    };
    Ok(StmtResult {
        cols,
        rows: out_rows,
        affected_row_count,
        last_insert_rowid,
        replication_index: None,
        rows_read,
        rows_written,
        query_duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// Bind positional args to parameters 1..n and named args by name. A name
/// without its prefix (`:`, `@`, `$`) matches any prefix, as Hrana allows.
fn bind_params(
    stmt: &libsql::Statement,
    args: &[Value],
    named_args: &[NamedArg],
) -> Result<libsql::params::Params, Error> {
    let count = stmt.parameter_count();
    if args.is_empty() && named_args.is_empty() {
        return Ok(libsql::params::Params::None);
    }
    if args.len() > count {
        return Err(err(
            "ARGS_INVALID",
            format!(
                "The statement has {count} parameters, but {} positional arguments were given",
                args.len()
            ),
        ));
    }
    let mut values = vec![libsql::Value::Null; count];
    for (slot, arg) in values.iter_mut().zip(args) {
        *slot = to_libsql(arg)?;
    }
    for named in named_args {
        let index = find_param(stmt, count, &named.name).ok_or_else(|| {
            err(
                "ARGS_INVALID",
                format!("The statement has no parameter named {:?}", named.name),
            )
        })?;
        if let Some(slot) = values.get_mut(index - 1) {
            *slot = to_libsql(&named.value)?;
        }
    }
    Ok(libsql::params::Params::Positional(values))
}

/// 1-based index of the parameter called `name`.
fn find_param(stmt: &libsql::Statement, count: usize, name: &str) -> Option<usize> {
    let has_prefix = name.starts_with([':', '@', '$']);
    (1..=count).find(|&i| {
        let Ok(i32_index) = i32::try_from(i) else {
            return false;
        };
        stmt.parameter_name(i32_index).is_some_and(|p| {
            p == name
                || (!has_prefix
                    && p.len() == name.len() + 1
                    && p.ends_with(name)
                    && p.starts_with([':', '@', '$']))
        })
    })
}

fn to_libsql(v: &Value) -> Result<libsql::Value, Error> {
    Ok(match v {
        Value::None => return Err(err("ARGS_INVALID", "An argument has no value")),
        Value::Null => libsql::Value::Null,
        Value::Integer { value } => libsql::Value::Integer(*value),
        Value::Float { value } => libsql::Value::Real(*value),
        Value::Text { value } => libsql::Value::Text(value.to_string()),
        Value::Blob { value } => libsql::Value::Blob(value.to_vec()),
    })
}

fn from_libsql(v: libsql::Value) -> Value {
    match v {
        libsql::Value::Null => Value::Null,
        libsql::Value::Integer(value) => Value::Integer { value },
        libsql::Value::Real(value) => Value::Float { value },
        libsql::Value::Text(s) => Value::Text {
            value: Arc::from(s),
        },
        libsql::Value::Blob(b) => Value::Blob {
            value: Bytes::from(b),
        },
    }
}

/// Run a batch: each step runs if its condition holds; conditions may only
/// look at earlier steps.
fn execute_batch(stream: &SqlStream, batch: &Batch) -> Result<BatchResult, Error> {
    let n = batch.steps.len();
    let mut step_results: Vec<Option<StmtResult>> = vec![None; n];
    let mut step_errors: Vec<Option<Error>> = vec![None; n];
    for (i, step) in batch.steps.iter().enumerate() {
        let run = match &step.condition {
            None => true,
            Some(cond) => eval_cond(cond, i, &step_results, &step_errors, &stream.conn)?,
        };
        if !run {
            continue;
        }
        match execute_stmt(stream, &step.stmt) {
            Ok(r) => step_results[i] = Some(r),
            Err(e) => step_errors[i] = Some(e),
        }
    }
    Ok(BatchResult {
        step_results,
        step_errors,
        replication_index: None,
    })
}

fn eval_cond(
    cond: &BatchCond,
    current: usize,
    results: &[Option<StmtResult>],
    errors: &[Option<Error>],
    conn: &libsql::Connection,
) -> Result<bool, Error> {
    let earlier = |step: u32| -> Result<usize, Error> {
        usize::try_from(step)
            .ok()
            .filter(|&s| s < current)
            .ok_or_else(|| {
                err(
                    "BATCH_COND_INVALID",
                    format!("Step {current} has a condition on step {step}, which is not an earlier step"),
                )
            })
    };
    Ok(match cond {
        BatchCond::None => return Err(err("BATCH_COND_INVALID", "Unknown batch condition")),
        BatchCond::Ok { step } => results[earlier(*step)?].is_some(),
        BatchCond::Error { step } => errors[earlier(*step)?].is_some(),
        BatchCond::Not { cond } => !eval_cond(cond, current, results, errors, conn)?,
        BatchCond::And(list) => {
            let mut all = true;
            for c in &list.conds {
                all &= eval_cond(c, current, results, errors, conn)?;
            }
            all
        }
        BatchCond::Or(list) => {
            let mut any = false;
            for c in &list.conds {
                any |= eval_cond(c, current, results, errors, conn)?;
            }
            any
        }
        BatchCond::IsAutocommit {} => conn.is_autocommit(),
    })
}

/// Parameters and columns of a statement, without running it. `is_explain`
/// and `is_readonly` come from the statement's leading keywords (the public
/// libSQL API does not expose SQLite's own answers).
fn describe(conn: &libsql::Connection, sql: &str) -> Result<DescribeResult, Error> {
    let stmt = prepare(conn, sql)?;
    let params = (1..=stmt.parameter_count())
        .map(|i| DescribeParam {
            name: i32::try_from(i)
                .ok()
                .and_then(|i| stmt.parameter_name(i))
                .map(str::to_string),
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
        is_readonly: sql_text::looks_readonly(sql),
    })
}

/// A libSQL error in Hrana form: `code` is the primary SQLite result code name
/// (`SQLITE_CONSTRAINT`, …) and the message reads like `sqld`'s
/// (`SQLite error: UNIQUE constraint failed: t.id`).
pub(super) fn sql_error(e: libsql::Error) -> Error {
    match e {
        libsql::Error::SqliteFailure(code, message) => Error {
            message: format!("SQLite error: {message}"),
            code: primary_code_name(code).to_string(),
        },
        other => err("SQLITE_ERROR", format!("SQLite error: {other}")),
    }
}

fn primary_code_name(code: std::ffi::c_int) -> &'static str {
    match code & 0xff {
        1 => "SQLITE_ERROR",
        2 => "SQLITE_INTERNAL",
        3 => "SQLITE_PERM",
        4 => "SQLITE_ABORT",
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        7 => "SQLITE_NOMEM",
        8 => "SQLITE_READONLY",
        9 => "SQLITE_INTERRUPT",
        10 => "SQLITE_IOERR",
        11 => "SQLITE_CORRUPT",
        12 => "SQLITE_NOTFOUND",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        15 => "SQLITE_PROTOCOL",
        16 => "SQLITE_EMPTY",
        17 => "SQLITE_SCHEMA",
        18 => "SQLITE_TOOBIG",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        21 => "SQLITE_MISUSE",
        22 => "SQLITE_NOLFS",
        23 => "SQLITE_AUTH",
        24 => "SQLITE_FORMAT",
        25 => "SQLITE_RANGE",
        26 => "SQLITE_NOTADB",
        27 => "SQLITE_NOTICE",
        28 => "SQLITE_WARNING",
        _ => "SQLITE_UNKNOWN",
    }
}
