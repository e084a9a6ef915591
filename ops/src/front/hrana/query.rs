//! One statement, from its Hrana form to its result: checked first as `sqld`
//! checks a whole request before running any of it (`proto_stmt_to_query`:
//! parse, one statement, argument kinds), then run (`Vm::execute_query` in
//! `libsql-server/src/connection/program.rs`, tag `libsql-server-v0.24.33`).
//!
//! What a result reports follows `execute_query`: rows are always returned
//! (`want_rows` is ignored there); `affected_row_count` is `changes()` for an
//! INSERT/UPDATE/DELETE and 0 otherwise; `last_insert_rowid` is set for an
//! INSERT only (null after UPDATE or DELETE).
//!
//! Costs: a statement is charged to the meter with the rows the engine read
//! and wrote once it was prepared and bound and stepping started, whether it
//! then succeeds or fails; text that does not prepare or bind costs nothing.

use std::time::Instant;

use libsql_hrana::proto::{Col, Error, Row, StmtResult};
use rusqlite::StatementStatus;

use super::analysis::{Analyzed, analyze};
use super::args::{Args, from_sql};
use super::errors::{Failure, parse_error, prepare_error, stmt, syntax_error};
use super::exec::SqlStream;
use super::sql_text::{leading_words, split_statements};

/// A statement ready to run: its text, arguments and what `sqld` knows of it.
#[derive(Debug, Clone)]
pub(super) struct Query {
    pub(super) sql: String,
    pub(super) args: Args,
    pub(super) kind: Analyzed,
}

/// Check a statement text and its arguments as `sqld` does before running:
/// the first statement must parse and be supported (`SQL_PARSE_ERROR`), the
/// text must hold exactly one (`SQL_NO_STATEMENT`, `SQL_MANY_STATEMENTS`),
/// and the arguments must be of one kind.
///
/// # Errors
/// Those statement errors; a protocol error for an untyped value.
pub(super) fn compile(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[libsql_hrana::proto::Value],
    named: &[libsql_hrana::proto::NamedArg],
) -> Result<Query, Failure> {
    let statements = split_statements(sql);
    let Some(first) = statements.first() else {
        return Err(stmt(
            "SQL_NO_STATEMENT",
            "SQL string does not contain any statement",
        )
        .into());
    };
    // A lone statement is checked as the whole text, the text it later runs
    // as, so the run finds the checked statement in the connection's cache.
    let checked = if statements.len() == 1 { sql } else { first };
    let kind = check_statement(conn, sql, checked)?;
    if statements.len() > 1 {
        return Err(stmt(
            "SQL_MANY_STATEMENTS",
            "SQL string contains more than one statement",
        )
        .into());
    }
    Ok(Query {
        sql: sql.to_string(),
        args: Args::from_proto(args, named)?,
        kind,
    })
}

/// Parse-check one statement of `original`: a syntax error, or a statement
/// `sqld` has no kind for, is `SQL_PARSE_ERROR`. The engine checks the
/// syntax by preparing it; any other prepare error (say, a table an earlier
/// step creates) is left for when the statement runs, as on `sqld`. The
/// prepared statement stays in the connection's statement cache, so running
/// it does not prepare it again.
pub(super) fn check_statement(
    conn: &rusqlite::Connection,
    original: &str,
    statement: &str,
) -> Result<Analyzed, Error> {
    if let Err(e) = conn.prepare_cached(statement)
        && let Some(message) = syntax_error(&e)
    {
        return Err(parse_error(message));
    }
    analyze(statement).ok_or_else(|| parse_error(&format!("unsupported statement: {original}")))
}

/// `sqld` refuses a program with an `ATTACH` at authorization, before any of
/// it runs: no namespace here allows attaching.
pub(super) fn refuse_attach<'a>(
    kinds: impl IntoIterator<Item = &'a Analyzed>,
) -> Result<(), Failure> {
    match kinds.into_iter().find_map(|k| k.attach.as_deref()) {
        Some(ns) => Err(Failure::Forbidden(format!(
            "Namespace `{ns}` doesn't allow attach"
        ))),
        None => Ok(()),
    }
}

/// Run one checked statement and collect its result.
pub(super) fn run(stream: &SqlStream, query: &Query) -> Result<StmtResult, Error> {
    let started = Instant::now();
    let conn = &stream.conn;
    let mut prepared = conn
        .prepare_cached(&query.sql)
        .map_err(|e| prepare_error(e, &query.sql))?;
    // A cached statement keeps its counters across runs: count this run only.
    prepared.reset_status(StatementStatus::RowsRead);
    prepared.reset_status(StatementStatus::RowsWritten);
    let cols: Vec<Col> = prepared
        .columns()
        .iter()
        .map(|c| Col {
            name: Some(c.name().to_string()),
            decltype: c.decl_type().map(str::to_string),
        })
        .collect();
    let explain = leading_words(&query.sql, 1)
        .first()
        .is_some_and(|w| w == "EXPLAIN");
    query.args.bind(&mut prepared, explain)?;
    let stepped = step_all(&mut prepared, cols.len());
    let (rows_read, rows_written) = engine_rows(&prepared);
    stream.meter.statement(rows_read, rows_written);
    let rows = stepped?;
    // `changes()` keeps the count of the last INSERT/UPDATE/DELETE until the
    // next one completes, so only a statement of that kind may report it.
    let affected_row_count = if query.kind.is_iud { conn.changes() } else { 0 };
    Ok(StmtResult {
        cols,
        rows,
        affected_row_count,
        last_insert_rowid: query.kind.is_insert.then(|| conn.last_insert_rowid()),
        replication_index: None,
        rows_read,
        rows_written,
        query_duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// Step a bound statement to its end, keeping its rows (`columns` values
/// each); a statement's effect and its costs only complete at its end.
fn step_all(stmt: &mut rusqlite::Statement<'_>, columns: usize) -> Result<Vec<Row>, Error> {
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(super::errors::sql_error)? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(from_sql(row.get_ref(i).map_err(super::errors::sql_error)?));
        }
        out.push(Row { values });
    }
    Ok(out)
}

/// Rows read and written by a statement since its counters were reset (at
/// the start of this run), as the engine counts them.
fn engine_rows(stmt: &rusqlite::Statement<'_>) -> (u64, u64) {
    // The engine keeps saturating u32 counters and hands them out through
    // `sqlite3_stmt_status`'s C `int`: reinterpret, do not clamp, the sign bit.
    let count = |status| u64::from(stmt.get_status(status).cast_unsigned());
    (
        count(StatementStatus::RowsRead),
        count(StatementStatus::RowsWritten),
    )
}
