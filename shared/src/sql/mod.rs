//! The SQL port: statements, typed values, result rows and errors, independent of how libSQL is
//! reached. [`crate::hrana::HranaClient`] implements it over Hrana-over-HTTP.

mod error;

pub use error::{SqlError, StatementFailure};

/// A SQLite value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Integer(v)
    }
}
impl From<u32> for SqlValue {
    fn from(v: u32) -> Self {
        SqlValue::Integer(i64::from(v))
    }
}
impl From<f64> for SqlValue {
    fn from(v: f64) -> Self {
        SqlValue::Real(v)
    }
}
impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_owned())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}
impl From<Vec<u8>> for SqlValue {
    fn from(v: Vec<u8>) -> Self {
        SqlValue::Blob(v)
    }
}
impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Integer(i64::from(v))
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// One SQL statement with positional and/or named arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub args: Vec<SqlValue>,
    /// Named arguments, names including their prefix (`:id`, `@id`, `$id`).
    pub named_args: Vec<(String, SqlValue)>,
}

impl Statement {
    /// A statement without arguments.
    pub fn new(sql: impl Into<String>) -> Self {
        Statement {
            sql: sql.into(),
            args: Vec::new(),
            named_args: Vec::new(),
        }
    }

    /// Binds the next positional argument (`?`).
    pub fn bind(mut self, value: impl Into<SqlValue>) -> Self {
        self.args.push(value.into());
        self
    }

    /// A statement that fails (and so rolls back its atomic batch) unless `exists_sql` — a
    /// `SELECT` with `?` placeholders for `args` — returns a row. SQLite has no RAISE outside
    /// triggers, so the condition is inserted into the `batch_guard` view (migration 0007),
    /// whose trigger aborts with `guard_failed` when it is false; nothing is ever written.
    /// The failure reads as [`StatementFailure::Guard`].
    pub fn guard(exists_sql: &str, args: impl IntoIterator<Item = SqlValue>) -> Self {
        Self::guard_that(&format!("EXISTS ({exists_sql})"), args)
    }

    /// A [`guard`](Statement::guard) that fails unless the statement just before it in the
    /// batch changed a row (`changes()`): a conditional `UPDATE` that matched nothing rolls
    /// the whole batch back.
    pub fn guard_changed() -> Self {
        Self::guard_that("changes() > 0", [])
    }

    fn guard_that(condition: &str, args: impl IntoIterator<Item = SqlValue>) -> Self {
        args.into_iter().fold(
            Statement::new(format!("INSERT INTO batch_guard (ok) SELECT {condition}")),
            Statement::bind,
        )
    }

    /// Binds a named argument (`:name`).
    pub fn bind_named(mut self, name: &str, value: impl Into<SqlValue>) -> Self {
        self.named_args.push((name.to_owned(), value.into()));
        self
    }
}

/// The result of one statement.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlValue>>,
    pub affected_row_count: u64,
    pub last_insert_rowid: Option<i64>,
}

impl Rows {
    /// Row `index` as a name-addressable view.
    pub fn row(&self, index: usize) -> Option<Row<'_>> {
        self.rows.get(index).map(|values| Row {
            columns: &self.columns,
            values,
        })
    }

    /// Iterates over the rows.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }

    /// The `n` of a `SELECT count(*) AS n …` (0 when there is no row).
    ///
    /// # Errors
    /// [`SqlError::Decode`] when `n` is missing or not an integer.
    pub fn count(&self) -> Result<i64, SqlError> {
        self.row(0)
            .map(|row| row.get::<i64>("n"))
            .transpose()
            .map(Option::unwrap_or_default)
    }
}

/// One result row, addressed by column name.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [SqlValue],
}

impl Row<'_> {
    /// The value of column `name`, converted.
    ///
    /// # Errors
    /// [`SqlError::Decode`] when the column is missing or of another type.
    pub fn get<T: FromSql>(&self, name: &str) -> Result<T, SqlError> {
        let index = self
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| SqlError::Decode(format!("no column {name}")))?;
        T::from_sql(&self.values[index]).ok_or_else(|| {
            SqlError::Decode(format!("column {name} holds {:?}", self.values[index]))
        })
    }
}

/// Conversion from a [`SqlValue`].
pub trait FromSql: Sized {
    /// `None` when the value has another type.
    fn from_sql(value: &SqlValue) -> Option<Self>;
}

impl FromSql for i64 {
    fn from_sql(value: &SqlValue) -> Option<Self> {
        match value {
            SqlValue::Integer(i) => Some(*i),
            _ => None,
        }
    }
}
impl FromSql for f64 {
    fn from_sql(value: &SqlValue) -> Option<Self> {
        match value {
            SqlValue::Real(f) => Some(*f),
            SqlValue::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
}
impl FromSql for String {
    fn from_sql(value: &SqlValue) -> Option<Self> {
        match value {
            SqlValue::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl FromSql for Vec<u8> {
    fn from_sql(value: &SqlValue) -> Option<Self> {
        match value {
            SqlValue::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}
impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(value: &SqlValue) -> Option<Self> {
        match value {
            SqlValue::Null => Some(None),
            other => T::from_sql(other).map(Some),
        }
    }
}

/// The SQL port.
#[allow(async_fn_in_trait)]
pub trait Sql {
    /// Runs one statement in autocommit mode.
    ///
    /// # Errors
    /// [`SqlError::Statement`] when it fails; the other variants when libSQL is unreachable.
    async fn execute(&self, statement: Statement) -> Result<Rows, SqlError>;

    /// Runs statements as one transaction in one round trip: all are written or none is.
    ///
    /// # Errors
    /// [`SqlError::Statement`] with the index of the first failing statement (nothing written).
    async fn batch_atomic(&self, statements: Vec<Statement>) -> Result<Vec<Rows>, SqlError>;

    /// Runs independent statements, each in autocommit mode, in one round trip where the
    /// protocol allows (Hrana: one pipeline of `execute` requests, no transaction): for reads
    /// that need no common snapshot. Each statement's own failure is in its slot.
    ///
    /// # Errors
    /// When libSQL is unreachable (no statement's outcome is known then).
    async fn execute_many(
        &self,
        statements: Vec<Statement>,
    ) -> Result<Vec<Result<Rows, SqlError>>, SqlError> {
        let mut results = Vec::with_capacity(statements.len());
        for statement in statements {
            match self.execute(statement).await {
                Err(e) if e.is_unavailable() => return Err(e),
                other => results.push(other),
            }
        }
        Ok(results)
    }
}
