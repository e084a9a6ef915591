//! Conversions between our [`crate::sql`] types and the `libsql-hrana` protocol types.

use crate::sql::{Rows, SqlError, SqlValue, Statement};
use libsql_hrana::proto;

pub(super) fn to_proto_value(value: &SqlValue) -> proto::Value {
    match value {
        SqlValue::Null => proto::Value::Null,
        SqlValue::Integer(value) => proto::Value::Integer { value: *value },
        SqlValue::Real(value) => proto::Value::Float { value: *value },
        SqlValue::Text(text) => proto::Value::Text {
            value: text.as_str().into(),
        },
        SqlValue::Blob(bytes) => proto::Value::Blob {
            value: bytes.clone().into(),
        },
    }
}

pub(super) fn from_proto_value(value: &proto::Value) -> Result<SqlValue, SqlError> {
    Ok(match value {
        proto::Value::Null => SqlValue::Null,
        proto::Value::Integer { value } => SqlValue::Integer(*value),
        proto::Value::Float { value } => SqlValue::Real(*value),
        proto::Value::Text { value } => SqlValue::Text(value.to_string()),
        proto::Value::Blob { value } => SqlValue::Blob(value.to_vec()),
        proto::Value::None => return Err(SqlError::Decode("value without a type".into())),
    })
}

pub(super) fn to_proto_stmt(statement: &Statement) -> proto::Stmt {
    let mut stmt = proto::Stmt::new(statement.sql.clone(), true);
    for arg in &statement.args {
        stmt.bind(to_proto_value(arg));
    }
    for (name, value) in &statement.named_args {
        stmt.bind_named(name.clone(), to_proto_value(value));
    }
    stmt
}

pub(super) fn from_proto_result(result: &proto::StmtResult) -> Result<Rows, SqlError> {
    Ok(Rows {
        columns: result
            .cols
            .iter()
            .map(|c| c.name.clone().unwrap_or_default())
            .collect(),
        rows: result
            .rows
            .iter()
            .map(|row| row.values.iter().map(from_proto_value).collect())
            .collect::<Result<_, _>>()?,
        affected_row_count: result.affected_row_count,
        last_insert_rowid: result.last_insert_rowid,
    })
}
