//! Errors from the SQL port, and the one place a failed statement is classified.
//!
//! A real libSQL server (sqld) reports a failed statement with a Hrana error `code` and a
//! message. The code is read first: sqld's own codes (`SQL_PARSE_ERROR`, `ARGS_INVALID`, …)
//! and SQLite's result codes. For constraints sqld gives only the family code
//! `SQLITE_CONSTRAINT` (some servers give the extended `SQLITE_CONSTRAINT_UNIQUE`, …), so the
//! kind of constraint then comes from SQLite's stable message prefix (`UNIQUE constraint
//! failed: t.col`), after sqld's `SQLite error: ` wrapper and our own `COMMIT failed: `.
//! Callers match [`StatementFailure`], never message text.

use crate::http::TransportError;

/// Errors from the SQL port.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SqlError {
    /// libSQL could not be reached. Transient: retry with backoff.
    #[error("libsql unreachable: {0}")]
    Transport(#[from] TransportError),
    /// The server rejected our token. Configuration problem, not transient.
    #[error("libsql rejected the credentials (HTTP {status})")]
    Unauthorized { status: u16 },
    /// Unexpected HTTP status (5xx: transient).
    #[error("libsql answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// A statement failed; `index` is its position in a batch. Nothing of an atomic batch was
    /// written.
    #[error("statement {index:?} failed: {message} ({code})")]
    Statement {
        index: Option<usize>,
        message: String,
        code: String,
    },
    /// The response could not be decoded.
    #[error("malformed libsql response: {0}")]
    Decode(String),
}

/// Why a statement failed, as far as the callers need to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementFailure {
    /// A UNIQUE or PRIMARY KEY constraint; `columns` as SQLite names them (`t.a, t.b`).
    Unique { columns: String },
    /// A FOREIGN KEY constraint.
    ForeignKey,
    /// A CHECK constraint; `name` is the constraint's name, or its expression when unnamed.
    Check { name: String },
    /// A NOT NULL constraint.
    NotNull,
    /// A [`Statement::guard`](crate::sql::Statement::guard)'s condition did not hold.
    Guard,
    /// A trigger's `RAISE` with a message of its own.
    Raised { message: String },
    /// The SQL did not parse (sqld parses every statement of a batch before running any).
    Parse,
    /// The arguments did not fit the statement (missing, or positional and named mixed).
    Arguments,
    /// Anything else (no such table, type errors, busy, …).
    Other,
}

/// The message `RAISE` gives in the `batch_guard` trigger (migration 0007).
const GUARD_MESSAGE: &str = "guard_failed";

impl StatementFailure {
    /// Classifies a failed statement from its Hrana error `code` and `message`.
    pub fn classify(code: &str, message: &str) -> Self {
        match code {
            "SQL_PARSE_ERROR" => return StatementFailure::Parse,
            "ARGS_INVALID" | "ARGS_BOTH_POSITIONAL_AND_NAMED" => {
                return StatementFailure::Arguments;
            }
            _ => {}
        }
        let Some(extended) = code.strip_prefix("SQLITE_CONSTRAINT") else {
            return StatementFailure::Other;
        };
        let text = sqlite_text(message);
        match extended {
            "_UNIQUE" | "_PRIMARYKEY" => StatementFailure::Unique {
                columns: after(text, "UNIQUE constraint failed: ").to_owned(),
            },
            "_FOREIGNKEY" => StatementFailure::ForeignKey,
            "_NOTNULL" => StatementFailure::NotNull,
            "_CHECK" => StatementFailure::Check {
                name: after(text, "CHECK constraint failed: ").to_owned(),
            },
            _ => Self::from_constraint_text(text),
        }
    }

    /// The family code only: SQLite's message says which constraint.
    fn from_constraint_text(text: &str) -> Self {
        if let Some(columns) = text.strip_prefix("UNIQUE constraint failed: ") {
            StatementFailure::Unique {
                columns: columns.to_owned(),
            }
        } else if text.starts_with("FOREIGN KEY constraint failed") {
            StatementFailure::ForeignKey
        } else if let Some(name) = text.strip_prefix("CHECK constraint failed: ") {
            StatementFailure::Check {
                name: name.to_owned(),
            }
        } else if text.starts_with("NOT NULL constraint failed") {
            StatementFailure::NotNull
        } else if text == GUARD_MESSAGE {
            StatementFailure::Guard
        } else {
            StatementFailure::Raised {
                message: text.to_owned(),
            }
        }
    }
}

/// SQLite's own message inside the wrappers around it: ours (`COMMIT failed: `, added by the
/// Hrana client to say which step failed) and sqld's (`SQLite error: `).
fn sqlite_text(message: &str) -> &str {
    let message = ["BEGIN failed: ", "COMMIT failed: "]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .unwrap_or(message);
    message.strip_prefix("SQLite error: ").unwrap_or(message)
}

fn after<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.strip_prefix(prefix).unwrap_or(text)
}

impl SqlError {
    /// Whether libSQL itself is unavailable (as opposed to a failing statement).
    pub fn is_unavailable(&self) -> bool {
        match self {
            SqlError::Transport(_) | SqlError::Unauthorized { .. } => true,
            SqlError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Why the statement failed, when one did.
    pub fn failure(&self) -> Option<StatementFailure> {
        match self {
            SqlError::Statement { code, message, .. } => {
                Some(StatementFailure::classify(code, message))
            }
            _ => None,
        }
    }

    /// Whether a [`Statement::guard`](crate::sql::Statement::guard) failed (its condition no
    /// longer held).
    pub fn is_guard_failure(&self) -> bool {
        self.failure() == Some(StatementFailure::Guard)
    }

    /// The position in its batch of the statement that failed, if a statement did.
    pub fn failed_index(&self) -> Option<usize> {
        match self {
            SqlError::Statement { index, .. } => *index,
            _ => None,
        }
    }

    /// Whether a statement failed on a UNIQUE / PRIMARY KEY constraint.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self.failure(), Some(StatementFailure::Unique { .. }))
    }

    /// Whether a statement failed on a UNIQUE / PRIMARY KEY constraint over `column` (as
    /// SQLite names it, `table.column`).
    pub fn is_unique_violation_of(&self, column: &str) -> bool {
        matches!(self.failure(), Some(StatementFailure::Unique { columns })
            if columns.split(", ").any(|c| c == column))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(code: &str, message: &str) -> SqlError {
        SqlError::Statement {
            index: Some(0),
            message: message.into(),
            code: code.into(),
        }
    }

    #[test]
    fn sqld_family_code_is_told_apart_by_sqlite_message() {
        let unique = failed(
            "SQLITE_CONSTRAINT",
            "SQLite error: UNIQUE constraint failed: events.chain_event_id",
        );
        assert!(unique.is_unique_violation());
        assert!(unique.is_unique_violation_of("events.chain_event_id"));
        assert!(!unique.is_unique_violation_of("events.id"));
        assert!(!unique.is_guard_failure());
        let fk = failed(
            "SQLITE_CONSTRAINT",
            "SQLite error: FOREIGN KEY constraint failed",
        );
        assert_eq!(fk.failure(), Some(StatementFailure::ForeignKey));
        let check = failed(
            "SQLITE_CONSTRAINT",
            "SQLite error: CHECK constraint failed: seats_positive",
        );
        assert_eq!(
            check.failure(),
            Some(StatementFailure::Check {
                name: "seats_positive".into()
            })
        );
    }

    #[test]
    fn guard_is_its_own_kind_wherever_it_fails() {
        for message in [
            "guard_failed",
            "SQLite error: guard_failed",
            "COMMIT failed: SQLite error: guard_failed",
        ] {
            assert!(
                failed("SQLITE_CONSTRAINT", message).is_guard_failure(),
                "{message}"
            );
        }
        assert!(failed("SQLITE_CONSTRAINT_TRIGGER", "guard_failed").is_guard_failure());
        // A RAISE of another trigger is not a guard.
        assert_eq!(
            failed("SQLITE_CONSTRAINT", "SQLite error: ticket is used").failure(),
            Some(StatementFailure::Raised {
                message: "ticket is used".into()
            })
        );
        // The old trick's message no longer means a guard.
        assert!(!failed("SQLITE_UNKNOWN", "SQLite error: malformed JSON").is_guard_failure());
    }

    #[test]
    fn extended_codes_decide_without_the_message() {
        let unique = failed(
            "SQLITE_CONSTRAINT_PRIMARYKEY",
            "UNIQUE constraint failed: t.id",
        );
        assert!(unique.is_unique_violation_of("t.id"));
        assert_eq!(
            failed("SQLITE_CONSTRAINT_FOREIGNKEY", "whatever").failure(),
            Some(StatementFailure::ForeignKey)
        );
    }

    #[test]
    fn message_text_alone_never_makes_a_constraint() {
        // A plain error whose message mentions a constraint is not one.
        let other = failed("SQLITE_UNKNOWN", "UNIQUE constraint failed: t.id");
        assert!(!other.is_unique_violation());
        assert_eq!(other.failure(), Some(StatementFailure::Other));
        assert_eq!(
            failed("SQL_PARSE_ERROR", "near \"SELEC\"").failure(),
            Some(StatementFailure::Parse)
        );
        assert_eq!(
            failed("ARGS_BOTH_POSITIONAL_AND_NAMED", "x").failure(),
            Some(StatementFailure::Arguments)
        );
        assert_eq!(SqlError::Decode("x".into()).failure(), None);
    }

    #[test]
    fn unavailable_is_transport_auth_and_5xx() {
        assert!(SqlError::Unauthorized { status: 401 }.is_unavailable());
        let http = |status| SqlError::Http {
            status,
            body: String::new(),
        };
        assert!(http(503).is_unavailable());
        assert!(!http(400).is_unavailable());
    }
}
