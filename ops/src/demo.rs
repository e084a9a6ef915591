//! Demo data for the local stack: one organizer, a published event with two ticket types, a
//! few seats and a verifier key for the scanner page. Idempotent (`INSERT OR IGNORE`), applied in one atomic batch.

use crate::http::ReqwestHttp;
use shared::hrana::HranaClient;
use shared::migrate::split_statements;
use shared::ports::Sql;
use shared::sql::{SqlError, Statement};
use std::time::Duration;

const DEMO_SQL: &str = include_str!("demo.sql");

/// Loads the demo rows; returns how many were new.
///
/// # Errors
/// When the database is unreachable or the schema is missing (run `otctl migrate` first).
pub async fn seed(url: &str, auth_token: Option<&str>) -> Result<u64, SqlError> {
    let http =
        ReqwestHttp::new(Duration::from_secs(30)).map_err(|e| SqlError::Decode(e.to_string()))?;
    let client = HranaClient::new(http, url, auth_token);
    let statements = split_statements(DEMO_SQL)
        .into_iter()
        .map(Statement::new)
        .collect();
    let results = client.batch_atomic(statements).await?;
    Ok(results.iter().map(|r| r.affected_row_count).sum())
}
