//! Client for Hrana over HTTP (the protocol of Turso's `sqld`), written on the
//! [`crate::ports::HttpClient`] port with the official `libsql-hrana` protocol types.
//!
//! Every call is one stateless `POST /v2/pipeline` that ends with `close`, so no baton has to
//! survive between edge invocations. Atomic writes use a *conditional* batch (BEGIN, each step
//! conditioned on the previous one, COMMIT, ROLLBACK unless COMMIT succeeded): a plain
//! BEGIN…COMMIT batch would keep the statements that succeeded.
//!
//! What `sqld` answers, and how it arrives here: a statement error is
//! [`SqlError::Statement`](crate::sql::SqlError::Statement) with `sqld`'s code (`SQLITE_CONSTRAINT`,
//! `SQLITE_UNKNOWN`, `SQL_PARSE_ERROR`, `ARGS_INVALID`, …) and message (`SQLite error: …`); in an
//! atomic batch `sqld` checks every statement before running any, so a parse or argument-kind
//! error fails the whole batch without a statement index. A protocol error is HTTP 400 with
//! plain text, [`SqlError::Http`](crate::sql::SqlError::Http) `{ status: 400, body }`.
//! `last_insert_rowid` is only set after an INSERT (null after UPDATE or DELETE).

mod client;
mod convert;

pub use client::HranaClient;
