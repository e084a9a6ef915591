//! Schema migrations over the [`Sql`] port: numbered SQL files applied in order, each in one
//! atomic batch together with its row in `schema_migrations`, so a migration is either fully
//! applied and recorded or not at all, and two migrators racing cannot both apply it.

use crate::sql::{Sql, SqlError, Statement};
use sha1::{Digest, Sha1};

/// One migration file, e.g. `0001_init.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: u32,
    pub name: String,
    pub sql: String,
}

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// A file name is not `<number>_<name>.sql`, or two files share a number.
    #[error("bad migration file {0}")]
    BadFile(String),
    /// An applied migration's file changed since it was applied.
    #[error(
        "migration {version} was changed after it was applied (checksum {applied} != {current})"
    )]
    Changed {
        version: u32,
        applied: String,
        current: String,
    },
    /// The database failed.
    #[error("migration {version:?} failed: {source}")]
    Sql {
        version: Option<u32>,
        #[source]
        source: SqlError,
    },
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub applied: Vec<u32>,
    pub already_applied: Vec<u32>,
}

impl Migration {
    /// Builds a migration from a file name like `0001_init.sql` and its text.
    ///
    /// # Errors
    /// [`MigrateError::BadFile`] when the name has no leading version number.
    pub fn from_file(file_name: &str, sql: String) -> Result<Migration, MigrateError> {
        let stem = file_name
            .strip_suffix(".sql")
            .ok_or_else(|| MigrateError::BadFile(file_name.to_owned()))?;
        let (number, name) = stem
            .split_once('_')
            .ok_or_else(|| MigrateError::BadFile(file_name.to_owned()))?;
        let version = number
            .parse()
            .map_err(|_| MigrateError::BadFile(file_name.to_owned()))?;
        Ok(Migration {
            version,
            name: name.to_owned(),
            sql,
        })
    }

    /// Hex SHA-1 of the text: detects edits to applied migrations.
    pub fn checksum(&self) -> String {
        hex::encode(Sha1::digest(self.sql.as_bytes()))
    }

    /// The statements of the file.
    pub fn statements(&self) -> Vec<String> {
        split_statements(&self.sql)
    }
}

/// Splits SQL text on `;` outside quotes and comments. A `CREATE TRIGGER` statement runs to
/// the `;` after its body's closing `END`.
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                current.push(c);
                for q in chars.by_ref() {
                    current.push(q);
                    if q == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            ';' if inside_trigger_body(&current) => current.push(c),
            ';' => {
                let statement = current.trim();
                if !statement.is_empty() {
                    statements.push(statement.to_owned());
                }
                current.clear();
            }
            _ => current.push(c),
        }
    }
    let statement = current.trim();
    if !statement.is_empty() {
        statements.push(statement.to_owned());
    }
    statements
}

/// Whether `statement` so far is a `CREATE TRIGGER` whose body has not reached `END`.
fn inside_trigger_body(statement: &str) -> bool {
    let upper = statement.trim().to_ascii_uppercase();
    let is_trigger =
        upper.starts_with("CREATE TRIGGER") || upper.starts_with("CREATE TEMP TRIGGER");
    let ended = upper
        .trim_end()
        .rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .next()
        == Some("END");
    is_trigger && !ended
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at INTEGER NOT NULL
)";

/// Applies every migration not yet recorded, in version order.
///
/// # Errors
/// See [`MigrateError`]; migrations applied before the failing one stay applied.
pub async fn apply<S: Sql>(
    sql: &S,
    migrations: &[Migration],
    now_ms: u64,
) -> Result<Report, MigrateError> {
    let mut migrations = migrations.to_vec();
    migrations.sort_by_key(|m| m.version);
    if let Some(pair) = migrations.windows(2).find(|w| w[0].version == w[1].version) {
        return Err(MigrateError::BadFile(format!(
            "two migrations numbered {}",
            pair[0].version
        )));
    }
    let db = |version| move |source| MigrateError::Sql { version, source };
    sql.execute(Statement::new(CREATE_TABLE))
        .await
        .map_err(db(None))?;
    let applied = sql
        .execute(Statement::new(
            "SELECT version, checksum FROM schema_migrations",
        ))
        .await
        .map_err(db(None))?;
    let mut recorded = std::collections::HashMap::new();
    for row in applied.iter() {
        let version: i64 = row.get("version").map_err(db(None))?;
        let checksum: String = row.get("checksum").map_err(db(None))?;
        recorded.insert(version, checksum);
    }
    let mut report = Report::default();
    for migration in &migrations {
        let checksum = migration.checksum();
        if let Some(applied) = recorded.get(&i64::from(migration.version)) {
            if *applied != checksum {
                return Err(MigrateError::Changed {
                    version: migration.version,
                    applied: applied.clone(),
                    current: checksum,
                });
            }
            report.already_applied.push(migration.version);
            continue;
        }
        let mut statements: Vec<Statement> = migration
            .statements()
            .into_iter()
            .map(Statement::new)
            .collect();
        statements.push(
            Statement::new("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)")
                .bind(migration.version)
                .bind(migration.name.as_str())
                .bind(checksum)
                .bind(now_ms as i64),
        );
        sql.batch_atomic(statements)
            .await
            .map_err(db(Some(migration.version)))?;
        report.applied.push(migration.version);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_names() {
        let m = Migration::from_file("0002_orders.sql", "x".into()).expect("valid");
        assert_eq!((m.version, m.name.as_str()), (2, "orders"));
        assert!(Migration::from_file("orders.sql", String::new()).is_err());
        assert!(Migration::from_file("0002_orders.txt", String::new()).is_err());
    }

    #[test]
    fn keeps_a_trigger_body_in_one_statement() {
        let sql = "CREATE TABLE a (x);\nCREATE TRIGGER t AFTER UPDATE ON a BEGIN\n  INSERT INTO a VALUES (1);\n  DELETE FROM a;\nEND;\nSELECT 1;";
        let statements = split_statements(sql);
        assert_eq!(statements.len(), 3, "{statements:?}");
        assert!(statements[1].ends_with("END"));
        assert!(statements[1].contains("DELETE FROM a;"));
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let sql = "CREATE TABLE a (x TEXT DEFAULT 'a;b'); -- comment; here\n/* block; */INSERT INTO a VALUES (\"q;\");\n\n";
        assert_eq!(
            split_statements(sql),
            [
                "CREATE TABLE a (x TEXT DEFAULT 'a;b')",
                "INSERT INTO a VALUES (\"q;\")"
            ]
        );
    }
}
