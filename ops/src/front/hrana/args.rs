//! Arguments of a statement, bound as `sqld` binds them (`Params` and
//! `Params::bind` in `libsql-server/src/query.rs`, tag
//! `libsql-server-v0.24.33`):
//!
//! - a statement has either positional or named arguments; both at once is
//!   `ARGS_BOTH_POSITIONAL_AND_NAMED` (`proto_stmt_to_query`);
//! - more arguments than parameters is `ARGS_INVALID` ("too many
//!   parameters, …");
//! - every parameter must get a value, else `ARGS_INVALID` ("value for
//!   parameter … not found"): no NULL for a missing one. `?` and `?NNN` take
//!   positional values, `:a`/`@a`/`$a` named ones, found by their full name or
//!   by the name without its prefix; positional values never fill a named
//!   parameter. Named arguments the statement does not use are ignored.
//!   Under `EXPLAIN` binding stops at the first parameter without a value.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use libsql_hrana::proto::{NamedArg, Value};
use rusqlite::types::ValueRef;

use super::errors::{self, Failure, args_invalid, protocol};

/// A statement's arguments, checked as `sqld` checks them before running.
#[derive(Debug, Clone)]
pub(super) enum Args {
    Positional(Vec<rusqlite::types::Value>),
    Named(HashMap<String, rusqlite::types::Value>),
}

impl Args {
    /// The arguments of a Hrana statement.
    ///
    /// # Errors
    /// `ARGS_BOTH_POSITIONAL_AND_NAMED` for both kinds at once; a protocol
    /// error for a value without a type.
    pub(super) fn from_proto(args: &[Value], named: &[NamedArg]) -> Result<Args, Failure> {
        if named.is_empty() {
            Ok(Args::Positional(
                args.iter().map(to_sql).collect::<Result<_, _>>()?,
            ))
        } else if args.is_empty() {
            Ok(Args::Named(
                named
                    .iter()
                    .map(|a| Ok((a.name.clone(), to_sql(&a.value)?)))
                    .collect::<Result<_, Failure>>()?,
            ))
        } else {
            Err(Failure::Stmt(errors::stmt(
                "ARGS_BOTH_POSITIONAL_AND_NAMED",
                "Specifying both positional and named arguments is not supported",
            )))
        }
    }

    fn len(&self) -> usize {
        match self {
            Args::Positional(v) => v.len(),
            Args::Named(m) => m.len(),
        }
    }

    /// The value at 1-based `pos`, if positional.
    fn get_pos(&self, pos: usize) -> Option<&rusqlite::types::Value> {
        match self {
            Args::Positional(v) => pos.checked_sub(1).and_then(|i| v.get(i)),
            Args::Named(_) => None,
        }
    }

    fn get_named(&self, name: &str) -> Option<&rusqlite::types::Value> {
        match self {
            Args::Named(m) => m.get(name),
            Args::Positional(_) => None,
        }
    }

    /// Bind every parameter of `stmt`; `explain` when it is an `EXPLAIN`
    /// (the engine's `sqlite3_stmt_isexplain` is not in our rusqlite build).
    ///
    /// # Errors
    /// `ARGS_INVALID` as described in the module doc.
    pub(super) fn bind(
        &self,
        stmt: &mut rusqlite::Statement<'_>,
        explain: bool,
    ) -> Result<(), libsql_hrana::proto::Error> {
        let count = stmt.parameter_count();
        if self.len() > count {
            return Err(args_invalid(&format!(
                "too many parameters, expected {count} found {}",
                self.len()
            )));
        }
        for index in 1..=count {
            let name = stmt.parameter_name(index).map(str::to_string);
            let value = match name.as_deref() {
                Some(n) => match n.strip_prefix('?') {
                    Some(pos) => {
                        let pos = pos.parse::<usize>().map_err(|_| {
                            // sqld's context text, braces and all (it is not a format string).
                            args_invalid(
                                "invalid parameter {name}: expected a numerical position after `?`",
                            )
                        })?;
                        self.get_pos(pos)
                    }
                    None => self
                        .get_named(n)
                        .or_else(|| n.get(1..).and_then(|bare| self.get_named(bare))),
                },
                None => self.get_pos(index),
            };
            match value {
                Some(v) => stmt
                    .raw_bind_parameter(index, v)
                    .map_err(|e| args_invalid(&e.to_string()))?,
                None if explain => return Ok(()),
                None => {
                    let which = name.unwrap_or_else(|| index.to_string());
                    return Err(args_invalid(&format!(
                        "value for parameter {which} not found"
                    )));
                }
            }
        }
        Ok(())
    }
}

fn to_sql(v: &Value) -> Result<rusqlite::types::Value, Failure> {
    use rusqlite::types::Value as Sql;
    Ok(match v {
        Value::None => return Err(Failure::Protocol(protocol::NONE_VALUE.into())),
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
pub(super) fn from_sql(v: ValueRef<'_>) -> Value {
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
