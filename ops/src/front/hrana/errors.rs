//! How the front fails, in `sqld`'s three ways, and its error codes and texts.
//!
//! Checked against `libsql-server` at tag `libsql-server-v0.24.33`:
//! - a statement error is the request's own result
//!   (`{"type":"error","error":{message,code}}`), built from `StmtError`
//!   (`hrana/stmt.rs`): `SQL_PARSE_ERROR` ("SQL string could not be parsed:
//!   …"), `SQL_NO_STATEMENT`, `SQL_MANY_STATEMENTS`, `ARGS_INVALID`
//!   ("Arguments do not match SQL parameters: …"),
//!   `ARGS_BOTH_POSITIONAL_AND_NAMED`, engine errors as "SQLite error: …" with
//!   the primary result code's name from `sqlite_error_code` (which has no arm
//!   for `SQLITE_ERROR`, so plain errors are `SQLITE_UNKNOWN`), and prepare
//!   errors the engine locates in the text as `SQL_INPUT_ERROR` ("SQL input
//!   error: … (at offset N)", rusqlite's `SqlInputError` under its
//!   `modern_sqlite` feature, which `sqld` enables);
//! - a protocol error (`ProtocolError` in `hrana/mod.rs`) ends the whole
//!   pipeline with HTTP 400 and its text as `text/plain`
//!   (`protocol_error_response` in `hrana/http/mod.rs`); results of earlier
//!   requests are lost;
//! - an authorization refusal (`Error::Forbidden`, `error.rs`) ends it with
//!   HTTP 403 `{"error":"Authorization forbidden: …"}`.

use libsql_hrana::proto::Error;

/// Why a request failed, as `sqld` would answer it.
#[derive(Debug)]
pub(super) enum Failure {
    /// The request's own error result; the pipeline goes on.
    Stmt(Error),
    /// HTTP 400 `text/plain` with this text for the whole pipeline.
    Protocol(String),
    /// HTTP 403 `{"error": "Authorization forbidden: …"}` for the whole
    /// pipeline.
    Forbidden(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Stmt(e)
    }
}

/// A statement error with `code`.
pub(super) fn stmt(code: &str, message: impl Into<String>) -> Error {
    Error {
        message: message.into(),
        code: code.to_string(),
    }
}

/// `SQL_PARSE_ERROR`: `sqld` could not parse (or does not support) the text.
pub(super) fn parse_error(detail: &str) -> Error {
    stmt(
        "SQL_PARSE_ERROR",
        format!("SQL string could not be parsed: {detail}"),
    )
}

/// `ARGS_INVALID`: the arguments do not fit the statement's parameters.
pub(super) fn args_invalid(detail: &str) -> Error {
    stmt(
        "ARGS_INVALID",
        format!("Arguments do not match SQL parameters: {detail}"),
    )
}

/// `ProtocolError` texts of `sqld` (HTTP 400).
pub(super) mod protocol {
    pub(in super::super) const SQL_AND_SQL_ID: &str =
        "Either `sql` or `sql_id` are required, but not both";
    pub(in super::super) const NO_SQL: &str = "Either `sql` or `sql_id` are required";
    pub(in super::super) const BATCH_COND_BAD_STEP: &str =
        "Invalid reference to step in a batch condition";
    pub(in super::super) const NONE_BATCH_COND: &str = "BatchCond type not recognized";
    pub(in super::super) const NONE_VALUE: &str = "Value type not recognized";
    pub(in super::super) const NONE_STREAM_REQUEST: &str = "StreamRequest type not recognized";
    pub(in super::super) const BATON_INVALID: &str = "Received an invalid baton";
    pub(in super::super) const BATON_STREAM_CLOSED: &str = "Stream for this baton was closed";

    pub(in super::super) fn sql_not_found(id: i32) -> String {
        format!("SQL text {id} not found")
    }
    pub(in super::super) fn sql_exists(id: i32) -> String {
        format!("SQL text {id} already exists")
    }
    pub(in super::super) fn json(e: &serde_json::Error) -> String {
        format!("Cannot deserialize client message from JSON: {e}")
    }
    /// A feature of a later protocol version than the endpoint's.
    pub(in super::super) fn not_supported(what: &str, min: &str) -> String {
        format!("{what} is only supported in protocol version {min} and higher")
    }
}

/// The error of a statement the engine failed to prepare. Syntax errors are
/// `SQL_PARSE_ERROR` (`sqld`'s parser rejects them before the engine sees
/// them; the detail is the engine's message, not `sqld`'s parser's); errors
/// the engine locates at a token are `SQL_INPUT_ERROR`; the rest as
/// [`sql_error`].
pub(super) fn prepare_error(e: rusqlite::Error, sql: &str) -> Error {
    if let Some(message) = syntax_error(&e) {
        return parse_error(message);
    }
    if let rusqlite::Error::SqliteFailure(failure, Some(message)) = &e
        && failure.extended_code & 0xff == 1
        && let Some(offset) = input_error_offset(message, sql)
    {
        return stmt(
            "SQL_INPUT_ERROR",
            format!("SQL input error: {message} (at offset {offset})"),
        );
    }
    sql_error(e)
}

/// The engine's message when `e` is a syntax error (tokenizer or parser).
pub(super) fn syntax_error(e: &rusqlite::Error) -> Option<&str> {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m))
            if m.ends_with(": syntax error")
                || m == "incomplete input"
                || m.starts_with("unrecognized token:") =>
        {
            Some(m)
        }
        _ => None,
    }
}

/// Where the engine would say a located prepare error is (what
/// `sqlite3_error_offset` returns; this workspace forbids the `unsafe` call,
/// and our rusqlite build lacks `modern_sqlite`). The messages are those the
/// bundled `sqlite3.c` formats with a token (`%T`, `%#T`) or records with
/// `sqlite3RecordErrorOffsetOfExpr`; the offset is where the named token first
/// appears in the text (0 when it cannot be found), an approximation of the
/// engine's.
fn input_error_offset(message: &str, sql: &str) -> Option<usize> {
    const LOCATED: [&str; 13] = [
        "no such column: ",
        "ambiguous column name: ",
        "no such function: ",
        "wrong number of arguments to function ",
        "misuse of ",
        "not authorized to use function: ",
        "too many arguments on function ",
        "unsafe use of ",
        "oversized integer: ",
        "hex literal too big: ",
        "unknown function: ",
        "unknown database ",
        "row value misused",
    ];
    let located = LOCATED.iter().find_map(|p| message.strip_prefix(p));
    let already_exists = ["table ", "index ", "view ", "trigger "]
        .iter()
        .find_map(|p| message.strip_prefix(p)?.strip_suffix(" already exists"));
    let token = match (located, already_exists) {
        (_, Some(name)) => name,
        (Some(rest), None) => rest,
        (None, None) => {
            let other = message.starts_with("variable number must be between")
                || message == "too many SQL variables"
                || message.contains(" prohibited in ");
            return other.then_some(0);
        }
    };
    let token = token
        .split([' ', '(', '"'])
        .find(|t| !t.is_empty())
        .unwrap_or("");
    let token = token.rsplit('.').next().unwrap_or(token);
    if token.is_empty() {
        return Some(0);
    }
    let lower = sql.to_ascii_lowercase();
    Some(lower.find(&token.to_ascii_lowercase()).unwrap_or(0))
}

/// An engine error in `sqld`'s form: `SQLite error: <message>` with the
/// primary result code's name.
pub(super) fn sql_error(e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => stmt(
            primary_code_name(failure.extended_code),
            format!(
                "SQLite error: {}",
                message.unwrap_or_else(|| failure.to_string())
            ),
        ),
        other => stmt("SQLITE_UNKNOWN", format!("SQLite error: {other}")),
    }
}

/// `sqld`'s `sqlite_error_code`: rusqlite's `ErrorCode` for the primary code,
/// then its name; codes rusqlite folds into `Unknown` (`SQLITE_ERROR`,
/// `SQLITE_EMPTY`, `SQLITE_FORMAT`, `SQLITE_NOTICE`, `SQLITE_WARNING`) are
/// `SQLITE_UNKNOWN`.
fn primary_code_name(code: std::ffi::c_int) -> &'static str {
    match code & 0xff {
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
        17 => "SQLITE_SCHEMA",
        18 => "SQLITE_TOOBIG",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        21 => "SQLITE_MISUSE",
        22 => "SQLITE_NOLFS",
        23 => "SQLITE_AUTH",
        25 => "SQLITE_RANGE",
        26 => "SQLITE_NOTADB",
        _ => "SQLITE_UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32, message: &str) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(message.into()))
    }

    #[test]
    fn codes_follow_sqld() {
        let e = sql_error(failure(1, "no such table: t"));
        assert_eq!(e.code, "SQLITE_UNKNOWN");
        assert_eq!(e.message, "SQLite error: no such table: t");
        let e = sql_error(failure(2067, "UNIQUE constraint failed: t.a"));
        assert_eq!(e.code, "SQLITE_CONSTRAINT");
        assert_eq!(e.message, "SQLite error: UNIQUE constraint failed: t.a");
    }

    #[test]
    fn prepare_errors_are_parse_input_or_plain() {
        let e = prepare_error(failure(1, "near \"FROM\": syntax error"), "SELEC FROM t");
        assert_eq!(e.code, "SQL_PARSE_ERROR");
        let sql = "SELECT nope FROM t";
        let e = prepare_error(failure(1, "no such column: nope"), sql);
        assert_eq!(e.code, "SQL_INPUT_ERROR");
        assert_eq!(
            e.message,
            "SQL input error: no such column: nope (at offset 7)"
        );
        let e = prepare_error(failure(1, "no such table: t"), "SELECT * FROM t");
        assert_eq!(e.code, "SQLITE_UNKNOWN");
    }
}
