//! `POST /internal/cron/indexer`: the HTTP trigger of the indexer tick, for runtimes without a
//! cron trigger of their own (Spin) and for manual runs. Bearer-authenticated with
//! `CRON_SECRET`; disabled when that is unset.

use crate::http::{Request, Response};
use crate::services::Services;
use indexer_cron::{Outcome, Trigger};
use shared::error::Error;

/// Runs one tick and returns its report.
///
/// # Errors
/// 403 when disabled, 401 on a wrong secret, 503 when libSQL is down.
pub async fn post_indexer<S: Services>(services: &S, request: &Request) -> Result<Response, Error> {
    let Some(secret) = &services.config().cron_secret else {
        return Err(Error::Client {
            status: 403,
            code: "CRON_DISABLED",
            message: "the HTTP cron trigger is disabled (CRON_SECRET is not set)".into(),
        });
    };
    if !request.bearer_matches(secret) {
        return Err(Error::unauthorized(
            "CRON_UNAUTHORIZED",
            "missing or wrong cron bearer token",
        ));
    }
    let report = crate::indexer::run_tick(services, Trigger::Http).await?;
    // A tick that could not index says so with 503, so schedulers and monitors notice.
    let status = match report.outcome {
        Outcome::Failed | Outcome::DeepReorg => 503,
        _ => 200,
    };
    let sales = crate::upkeep::run(services).await;
    let mut body = serde_json::to_value(&report).map_err(|e| Error::Internal(e.to_string()))?;
    body["sales"] = serde_json::to_value(&sales).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Response::json(status, &body))
}
