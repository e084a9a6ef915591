//! `GET /ready`: readiness. Pings Redis, libSQL and the chain RPC concurrently, each under a
//! deadline, and says which one is down. The verdict is reused for `READY_CACHE_MS`.

use super::ready_cache::{self, Verdict};
use crate::http::Response;
use crate::services::Services;
use futures::future::{Either, select};
use serde::Serialize;
use serde_json::json;
use shared::ports::{ChainRpc, Clock, Redis, Sql};
use shared::sql::Statement;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;

/// The state of one dependency.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Check {
    status: &'static str,
    latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<serde_json::Value>,
}

async fn timed<C: Clock, F: Future<Output = Result<Option<serde_json::Value>, String>>>(
    clock: &C,
    timeout_ms: u64,
    check: F,
) -> Check {
    let started = clock.now_ms();
    let outcome = match select(pin!(check), pin!(clock.sleep(timeout_ms))).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(_) => Err(format!("no answer within {timeout_ms} ms")),
    };
    let latency_ms = clock.now_ms().saturating_sub(started);
    match outcome {
        Ok(detail) => Check {
            status: "up",
            latency_ms,
            error: None,
            detail,
        },
        Err(error) => Check {
            status: "down",
            latency_ms,
            error: Some(error),
            detail: None,
        },
    }
}

/// The indexer is ready when its cursor (libSQL's `indexer_cursor`, read by the libSQL check
/// itself: no extra statement) is within `INDEXER_MAX_LAG_BLOCKS` of the head. The cursor is
/// durable, so a Redis loss does not make the deployment unready.
fn indexer_lag<S: Services>(services: &S, head: Option<u64>, libsql: &Check) -> Check {
    let max_lag = services.config().indexer.max_lag_blocks;
    let last = libsql
        .detail
        .as_ref()
        .and_then(|d| d["indexedBlock"].as_u64());
    let (status, error) = match (head, last) {
        (Some(head), Some(last)) if head.saturating_sub(last) <= max_lag => ("up", None),
        (Some(head), Some(last)) => (
            "down",
            Some(format!("{} blocks behind (limit {max_lag})", head - last)),
        ),
        (_, None) if libsql.status == "down" => {
            ("down", Some("cursor unknown: libSQL is down".to_owned()))
        }
        (_, None) => ("down", Some("no block indexed yet".to_owned())),
        (None, _) => ("down", Some("chain head unknown".to_owned())),
    };
    Check {
        status,
        latency_ms: 0,
        error,
        detail: Some(json!({"lastBlock": last, "head": head, "maxLagBlocks": max_lag})),
    }
}

/// 200 when every dependency answers, else 503 naming the ones that do not. The verdict is
/// reused for `READY_CACHE_MS` (see [`super::ready_cache`]); `checkedAt` says when it was made
/// and `Age` how many seconds ago.
pub async fn get<S: Services>(services: &S, request_id: &str) -> Response {
    let verdict = match ready_cache::fresh(services).await {
        Some(verdict) => verdict,
        None => {
            let verdict = check(services).await;
            ready_cache::keep(services, &verdict);
            verdict
        }
    };
    let mut body = verdict.body;
    if verdict.status != 200 {
        body["request_id"] = json!(request_id);
    }
    body["checkedAt"] = json!(verdict.checked_at_ms);
    let age_secs = services
        .clock()
        .now_ms()
        .saturating_sub(verdict.checked_at_ms)
        / 1000;
    let mut response = Response::json(verdict.status, &body);
    response.headers.set("age", age_secs.to_string());
    response
}

/// Asks every dependency now.
async fn check<S: Services>(services: &S) -> Verdict {
    let clock = services.clock();
    let checked_at_ms = clock.now_ms();
    let timeout = services.config().dependency_timeout_ms;
    let redis = timed(clock, timeout, async {
        services
            .redis()
            .ping()
            .await
            .map(|()| None)
            .map_err(|e| e.to_string())
    });
    // The ping is the indexer's cursor: one cheap statement answers both.
    let chain_id = services.config().chain_id.get();
    let libsql = timed(clock, timeout, async move {
        let rows = services
            .sql()
            .execute(
                Statement::new(
                    "SELECT (SELECT last_block FROM indexer_cursor WHERE chain_id = ?) AS last_block",
                )
                .bind(chain_id as i64),
            )
            .await
            .map_err(|e| e.to_string())?;
        let last = rows
            .row(0)
            .and_then(|row| row.get::<Option<i64>>("last_block").ok().flatten());
        Ok(last.map(|block| json!({"indexedBlock": block})))
    });
    let rpc = timed(clock, timeout, async {
        let chain = services.chain();
        let (id, head) = futures::join!(chain.chain_id(), chain.block_number());
        let (id, head) = (
            id.map_err(|e| e.to_string())?,
            head.map_err(|e| e.to_string())?,
        );
        let configured = services.config().chain_id;
        if id != configured {
            return Err(format!(
                "node is on chain {id}, configured CHAIN_ID is {configured}"
            ));
        }
        Ok(Some(json!({"chainId": id, "blockNumber": head})))
    });
    let (redis, libsql, rpc) = futures::join!(redis, libsql, rpc);
    let head = rpc.detail.as_ref().and_then(|d| d["blockNumber"].as_u64());
    let mut checks: BTreeMap<&str, Check> =
        [("redis", redis), ("libsql", libsql), ("rpc", rpc)].into();
    if !services.config().indexer.contracts.is_empty() {
        let mut lag = indexer_lag(services, head, &checks["libsql"]);
        // What the indexer last reported in Redis, for the operator only: the verdict stands
        // on the cursor, which a Redis loss does not touch.
        if let (Ok(fields), Some(detail)) = (
            crate::metrics::read_indexer(services).await,
            lag.detail.as_mut(),
        ) {
            detail["reported"] = json!(fields.into_iter().collect::<BTreeMap<_, _>>());
        }
        checks.insert("indexer", lag);
    }
    let down: Vec<&str> = checks
        .iter()
        .filter(|(_, c)| c.status == "down")
        .map(|(n, _)| *n)
        .collect();
    let (status, body) = if down.is_empty() {
        (200, json!({"status": "ready", "checks": checks}))
    } else {
        (
            503,
            json!({
                "status": "unavailable",
                "error_code": "DEPENDENCY_DOWN",
                "message": format!("not ready: {} down", down.join(", ")),
                "down": down,
                "checks": checks,
            }),
        )
    };
    Verdict {
        status,
        body,
        checked_at_ms,
    }
}
