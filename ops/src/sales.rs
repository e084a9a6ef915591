//! Native sale operations: `otctl reconcile` rebuilds Redis inventory from libSQL (after a
//! Redis loss or drift) with the same code the scheduled function runs, and prints what
//! differed.

use crate::http::ReqwestHttp;
use functions::inventory::Drift;
use functions::upkeep::{reconcile_all, reconcile_event};
use shared::domain::EventId;
use shared::hrana::HranaClient;
use shared::upstash::UpstashClient;
use std::time::Duration;

/// Where the stores are.
pub struct Stores<'a> {
    pub redis_url: &'a str,
    pub redis_token: &'a str,
    pub key_prefix: &'a str,
    pub libsql_url: &'a str,
    pub libsql_token: Option<&'a str>,
}

/// Reconciles one event, or every event with an inventory; returns the drift found.
///
/// # Errors
/// A message when an id does not parse or a store fails.
pub async fn reconcile(stores: &Stores<'_>, event: Option<&str>) -> Result<Vec<Drift>, String> {
    let http = ReqwestHttp::new(Duration::from_secs(60)).map_err(|e| e.to_string())?;
    let redis = UpstashClient::new(http.clone(), stores.redis_url, stores.redis_token);
    let sql = HranaClient::new(http, stores.libsql_url, stores.libsql_token);
    match event {
        Some(raw) => {
            let id = EventId::parse(raw).map_err(|e| format!("event id {e}"))?;
            let drift = reconcile_event(&redis, &sql, stores.key_prefix, &id)
                .await
                .map_err(|e| e.to_string())?;
            Ok(vec![drift])
        }
        None => reconcile_all(&redis, &sql, stores.key_prefix)
            .await
            .map(|(_, drift)| drift)
            .map_err(|e| e.to_string()),
    }
}
