//! Execution of Hrana stream requests on one libSQL connection.
//!
//! A Hrana stream is one SQL connection plus the SQL texts stored on it
//! (`store_sql`). This module runs the requests of a pipeline in order on such
//! a stream and turns libSQL results and errors into the wire types of
//! `libsql_hrana::proto`, the same definitions our Rust Hrana client uses.
//!
//! Everything here is blocking (the engine may sleep in its busy handler), so
//! callers run it on a blocking thread, never on the async runtime's workers.
//!
//! Costs: every statement the engine runs is charged to the front's meter
//! with the rows it read and wrote, as the engine counts them
//! (`LIBSQL_STMTSTATUS_ROWS_READ/WRITTEN`, what `sqld` reports and Turso
//! bills). A statement counts once it was prepared and bound and the engine
//! started stepping it, whether it then succeeds or fails (a failing
//! statement may already have read rows); text that does not prepare, a batch
//! step whose condition skipped it, and `describe` (prepare only) cost
//! nothing. Transaction control (`BEGIN`, `COMMIT`, `ROLLBACK`) sent as an
//! `execute` or as a batch step runs as an ordinary statement here, so it
//! counts as one, as it does on `sqld`; a `sequence` counts each statement of
//! its script. Closing a stream that left a transaction open rolls it back
//! without a statement, so that costs nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use libsql_hrana::proto::{
    Batch, BatchCond, BatchResult, BatchStreamResp, CloseSqlStreamResp, CloseStreamResp, Col,
    DescribeCol, DescribeParam, DescribeResult, DescribeStreamResp, Error, ExecuteStreamResp,
    GetAutocommitStreamResp, NamedArg, Row, SequenceStreamResp, Stmt, StmtResult,
    StoreSqlStreamResp, StreamRequest, StreamResponse, StreamResult, Value,
};

use rusqlite::StatementStatus;
use rusqlite::types::ValueRef;

use super::HranaMeter;
use super::sql_text::{self, Shape};

/// Most SQL texts one stream may store with `store_sql`.
const MAX_STORED_SQL: usize = 1000;

/// One Hrana stream: its connection and its stored SQL texts.
pub(super) struct SqlStream {
    /// The stream's own connection (so a transaction spans requests).
    pub(super) conn: rusqlite::Connection,
    sqls: HashMap<i32, String>,
    /// Set once a `close` request ran; later requests fail.
    pub(super) closed: bool,
    /// Where the statements run on this stream are charged.
    meter: Arc<HranaMeter>,
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
            execute_sequence(stream, &sql)?;
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
fn prepare<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
) -> Result<rusqlite::Statement<'c>, Error> {
    match sql_text::shape(sql) {
        Shape::Empty => Err(err(
            "SQL_NO_STATEMENT",
            "SQL string does not contain any statement",
        )),
        Shape::Many => Err(err(
            "SQL_MANY_STATEMENTS",
            "SQL string contains more than one statement",
        )),
        Shape::One => conn.prepare(sql).map_err(sql_error),
    }
}

/// Run one statement and collect its result.
fn execute_stmt(stream: &SqlStream, stmt: &Stmt) -> Result<StmtResult, Error> {
    let started = Instant::now();
    let sql = resolve_sql(stream, stmt.sql.as_deref(), stmt.sql_id)?;
    let conn = &stream.conn;
    let mut prepared = prepare(conn, &sql)?;
    bind_params(&mut prepared, &stmt.args, &stmt.named_args)?;
    let want_rows = stmt.want_rows.unwrap_or(true);
    let cols: Vec<Col> = prepared
        .columns()
        .iter()
        .map(|c| Col {
            name: Some(c.name().to_string()),
            decltype: c.decl_type().map(str::to_string),
        })
        .collect();
    let stepped = step_all(&mut prepared, want_rows.then_some(cols.len()));
    let (rows_read, rows_written) = engine_rows(&prepared);
    stream.meter.statement(rows_read, rows_written);
    let out_rows = stepped?;
    // `changes()` keeps the count of the last INSERT/UPDATE/DELETE until the
    // next one completes, so only a statement of that kind may report it.
    let (affected_row_count, last_insert_rowid) = if is_dml(&prepared, &sql) {
        let changes = conn.changes();
        (changes, (changes > 0).then(|| conn.last_insert_rowid()))
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

/// Step a bound statement to its end, keeping the rows (with `columns`
/// values each) when asked; the rows are always stepped through, since a
/// statement's effect and its costs only complete at its end.
fn step_all(stmt: &mut rusqlite::Statement<'_>, columns: Option<usize>) -> Result<Vec<Row>, Error> {
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(sql_error)? {
        if let Some(n) = columns {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(from_sql(row.get_ref(i).map_err(sql_error)?));
            }
            out.push(Row { values });
        }
    }
    Ok(out)
}

/// Rows read and written by a statement so far, as the engine counts them.
/// A statement is prepared fresh for every run, so these are this run's.
fn engine_rows(stmt: &rusqlite::Statement<'_>) -> (u64, u64) {
    // The engine keeps saturating u32 counters and hands them out through
    // `sqlite3_stmt_status`'s C `int`: reinterpret, do not clamp, the sign bit.
    let count = |status| u64::from(stmt.get_status(status).cast_unsigned());
    (
        count(StatementStatus::RowsRead),
        count(StatementStatus::RowsWritten),
    )
}

/// True for an INSERT, UPDATE, DELETE or REPLACE (also behind a `WITH`): the
/// statements that set `changes()`. The engine says whether it writes; its
/// first keyword says whether it is DML rather than DDL or a PRAGMA.
fn is_dml(stmt: &rusqlite::Statement<'_>, sql: &str) -> bool {
    !stmt.readonly()
        && sql_text::leading_words(sql, 1).first().is_some_and(|w| {
            matches!(
                w.as_str(),
                "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "WITH"
            )
        })
}

/// Run a SQL script (`sequence`): every statement in turn, each stepped to its
/// end as `sqlite3_exec` does, stopping at the first error. Each one that runs
/// is charged like an `execute`.
fn execute_sequence(stream: &SqlStream, sql: &str) -> Result<(), Error> {
    let mut batch = rusqlite::Batch::new(&stream.conn, sql);
    while let Some(mut stmt) = batch.next().map_err(sql_error)? {
        let stepped = step_all(&mut stmt, None);
        let (rows_read, rows_written) = engine_rows(&stmt);
        stream.meter.statement(rows_read, rows_written);
        stepped?;
    }
    Ok(())
}

/// Bind positional args to parameters 1..n and named args by name. A name
/// without its prefix (`:`, `@`, `$`) matches any prefix, as Hrana allows.
/// Parameters left unbound are NULL.
fn bind_params(
    stmt: &mut rusqlite::Statement<'_>,
    args: &[Value],
    named_args: &[NamedArg],
) -> Result<(), Error> {
    let count = stmt.parameter_count();
    if args.len() > count {
        return Err(err(
            "ARGS_INVALID",
            format!(
                "The statement has {count} parameters, but {} positional arguments were given",
                args.len()
            ),
        ));
    }
    for (index, arg) in (1..).zip(args) {
        stmt.raw_bind_parameter(index, to_sql(arg)?)
            .map_err(sql_error)?;
    }
    for named in named_args {
        let index = find_param(stmt, count, &named.name).ok_or_else(|| {
            err(
                "ARGS_INVALID",
                format!("The statement has no parameter named {:?}", named.name),
            )
        })?;
        stmt.raw_bind_parameter(index, to_sql(&named.value)?)
            .map_err(sql_error)?;
    }
    Ok(())
}

/// 1-based index of the parameter called `name`.
fn find_param(stmt: &rusqlite::Statement<'_>, count: usize, name: &str) -> Option<usize> {
    let has_prefix = name.starts_with([':', '@', '$']);
    (1..=count).find(|&i| {
        stmt.parameter_name(i).is_some_and(|p| {
            p == name
                || (!has_prefix
                    && p.len() == name.len() + 1
                    && p.ends_with(name)
                    && p.starts_with([':', '@', '$']))
        })
    })
}

fn to_sql(v: &Value) -> Result<rusqlite::types::Value, Error> {
    use rusqlite::types::Value as Sql;
    Ok(match v {
        Value::None => return Err(err("ARGS_INVALID", "An argument has no value")),
        Value::Null => Sql::Null,
        Value::Integer { value } => Sql::Integer(*value),
        Value::Float { value } => Sql::Real(*value),
        Value::Text { value } => Sql::Text(value.to_string()),
        Value::Blob { value } => Sql::Blob(value.to_vec()),
    })
}

/// A column value in Hrana form. Text that is not UTF-8 (SQLite stores what
/// it is given) is passed on with replacement characters rather than failing
/// the whole result.
fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(value) => Value::Integer { value },
        ValueRef::Real(value) => Value::Float { value },
        ValueRef::Text(bytes) => Value::Text {
            value: Arc::from(String::from_utf8_lossy(bytes)),
        },
        ValueRef::Blob(bytes) => Value::Blob {
            value: Bytes::copy_from_slice(bytes),
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
    conn: &rusqlite::Connection,
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
/// and `is_readonly` come from the statement's leading keywords (`sql_text`).
fn describe(conn: &rusqlite::Connection, sql: &str) -> Result<DescribeResult, Error> {
    let stmt = prepare(conn, sql)?;
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
        is_readonly: sql_text::looks_readonly(sql),
    })
}

/// A libSQL error in Hrana form: `code` is the primary SQLite result code name
/// (`SQLITE_CONSTRAINT`, …) and the message reads like `sqld`'s
/// (`SQLite error: UNIQUE constraint failed: t.id`).
pub(super) fn sql_error(e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => Error {
            message: format!(
                "SQLite error: {}",
                message.unwrap_or_else(|| failure.to_string())
            ),
            code: primary_code_name(failure.extended_code).to_string(),
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
