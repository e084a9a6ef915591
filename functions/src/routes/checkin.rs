//! The scanner API: scan, upload offline scans, and what a scanner syncs to work offline (event
//! keys, pass revocations, the ticket list), plus the event's check-in stats.

use crate::call::Call;
use crate::checkin::buffer::{self, BufferedScan};
use crate::checkin::ticket::shorten_holder;
use crate::checkin::verifier_key::presented_key;
use crate::checkin::{ScanInput, live, upload};
use crate::extract::{
    Page, Verifier, authenticate_event_verifier, authenticate_verifier, json_body,
    json_body_with_limit,
};
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use serde::Deserialize;
use serde_json::json;
use shared::checkin::pass::public_key_text;
use shared::error::Error;
use shared::http::Method;
use shared::ports::{Clock, Sql};
use shared::sql::{Rows, Statement};

/// Most scans in one upload.
const MAX_UPLOAD: usize = 500;
/// Most revocations in one pull (the cursor fetches the rest).
const REVOCATION_PAGE: i64 = 1_000;
/// Five minutes, the stats bucket.
const BUCKET_MS: i64 = 5 * 60 * 1000;

/// Dispatches the check-in routes.
///
/// # Errors
/// See each handler.
pub async fn dispatch<S: Services>(
    services: &S,
    route: Route,
    call: &Call<'_>,
) -> Result<Response, Error> {
    match (route, call.method) {
        (Route::CheckinScan, Method::Post) => post_scan(services, call).await,
        (Route::CheckinUpload, Method::Post) => post_upload(services, call).await,
        (Route::CheckinMe, Method::Get) => me(services, call).await,
        (Route::CheckinKeys, Method::Get) => keys(services, call).await,
        (Route::CheckinRevocations, Method::Get) => revocations(services, call).await,
        (Route::CheckinTickets, Method::Get) => tickets(services, call).await,
        (Route::CheckinStats, Method::Get) => stats(services, call).await,
        _ => Err(Error::MethodNotAllowed {
            allowed: route.methods().to_vec(),
        }),
    }
}

/// The scanner of the event in the path.
async fn event_scanner<S: Services>(services: &S, call: &Call<'_>) -> Result<Verifier, Error> {
    authenticate_event_verifier(services, call.request, call.params.get("id")).await
}

/// `POST /v1/checkin/scan`: the key is read here and checked inside the scan's one Redis
/// script call (see [`live`] for the round trips of each case).
async fn post_scan<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let key = presented_key(call.request)?;
    let input: ScanInput = json_body(call.request)?;
    input.validate("")?;
    let outcome = live::scan(services, call, &key, &input).await?;
    // The body's text as stored for the nonce: a replay answers the same bytes.
    Ok(Response::with_body(
        200,
        "application/json",
        outcome.body.into_bytes(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadBody {
    scans: Vec<ScanInput>,
}

/// `POST /v1/checkin/upload`: up to [`MAX_UPLOAD`] scans a device made offline.
async fn post_upload<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let verifier = authenticate_verifier(services, call.request).await?;
    let body: UploadBody = json_body_with_limit(call.request, 1024 * 1024)?;
    if body.scans.is_empty() || body.scans.len() > MAX_UPLOAD {
        return Err(Error::invalid(
            "scans",
            format!("must hold 1 to {MAX_UPLOAD} scans"),
        ));
    }
    for (i, input) in body.scans.iter().enumerate() {
        input.validate(&format!("scans[{i}]."))?;
    }
    // Decided in memory and written in a few batches (see `checkin::upload` for the bill).
    let results = upload::run(services, &verifier, &body.scans).await?;
    Ok(Response::json(200, &json!({"results": results})))
}

async fn me<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let verifier = authenticate_verifier(services, call.request).await?;
    Ok(Response::json(200, &verifier.json()))
}

async fn keys<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let verifier = event_scanner(services, call).await?;
    let generation = crate::checkin::decide::PASS_KEY_GENERATION;
    let key = services
        .config()
        .checkin
        .pass_keys
        .verifying_key(&verifier.event_id, generation);
    Ok(Response::json(
        200,
        &json!({
            "eventId": verifier.event_id,
            "keys": [{
                "kid": generation.to_string(),
                "generation": generation,
                "alg": "Ed25519",
                "publicKey": public_key_text(&key),
            }],
        }),
    ))
}

async fn revocations<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let verifier = event_scanner(services, call).await?;
    let since = call.query.parse_opt::<i64>("since")?.unwrap_or(0);
    if since < 0 {
        return Err(Error::invalid(
            "since",
            "must be a cursor from an earlier pull (>= 0)",
        ));
    }
    let rows = services
        .sql()
        .execute(
            Statement::new(
                "SELECT seq, pass_id, ticket_id, reason, revoked_at FROM pass_revocations \
                 WHERE event_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(verifier.event_id.as_str())
            .bind(since)
            .bind(REVOCATION_PAGE),
        )
        .await?;
    let mut cursor = since;
    let mut items = Vec::new();
    for row in rows.iter() {
        cursor = row.get("seq")?;
        items.push(json!({
            "seq": cursor,
            "passId": row.get::<String>("pass_id")?,
            "ticketId": row.get::<String>("ticket_id")?,
            "reason": row.get::<String>("reason")?,
            "revokedAt": row.get::<i64>("revoked_at")?,
        }));
    }
    let more = items.len() as i64 == REVOCATION_PAGE;
    let mut response = Response::json(
        200,
        &json!({"eventId": verifier.event_id, "items": items, "cursor": cursor, "more": more}),
    );
    response.headers.set("x-next-cursor", cursor.to_string());
    Ok(response)
}

async fn tickets<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let verifier = event_scanner(services, call).await?;
    let page = Page::from_query(&call.query)?;
    let since = call.query.parse_opt::<i64>("modifiedSince")?.unwrap_or(0);
    // Read before the query: the next pull starts here and repeats nothing it could miss.
    let server_time = services.clock().now_ms();
    let results = services
        .sql()
        .batch_atomic(vec![
            Statement::new(
                "SELECT t.id, coalesce(t.serial, t.token_id) AS serial, t.seat_label, tt.name AS type_name, \
                        t.status, t.owner, t.updated_at, p.pass_id, c.scanned_at AS checked_in_at, c.gate \
                   FROM tickets t \
                   LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id \
                   LEFT JOIN ticket_passes p ON p.ticket_id = t.id AND p.revoked_at IS NULL \
                   LEFT JOIN checkins c ON c.ticket_id = t.id \
                  WHERE t.event_id = ? AND t.updated_at >= ? \
                  ORDER BY t.updated_at, t.id LIMIT ? OFFSET ?",
            )
            .bind(verifier.event_id.as_str())
            .bind(since)
            .bind(i64::from(page.page_size))
            .bind(page.offset()),
            Statement::new("SELECT count(*) AS n FROM tickets WHERE event_id = ? AND updated_at >= ?")
                .bind(verifier.event_id.as_str())
                .bind(since),
        ])
        .await?;
    let mut items = Vec::new();
    if let Some(rows) = results.first() {
        for row in rows.iter() {
            let holder = shorten_holder(&row.get::<String>("owner")?);
            items.push(json!({
                "ticketId": row.get::<String>("id")?,
                "serial": row.get::<Option<String>>("serial")?,
                "seat": row.get::<Option<String>>("seat_label")?,
                "type": row.get::<Option<String>>("type_name")?,
                "status": row.get::<String>("status")?,
                "holder": holder,
                "passId": row.get::<Option<String>>("pass_id")?,
                "checkedInAt": row.get::<Option<i64>>("checked_in_at")?,
                "gate": row.get::<Option<String>>("gate")?,
                "updatedAt": row.get::<i64>("updated_at")?,
            }));
        }
    }
    let total = results.get(1).map(Rows::count).transpose()?.unwrap_or(0);
    let mut response = Response::json(200, &page.paged(items, total));
    response
        .headers
        .set("x-server-time", server_time.to_string());
    Ok(response)
}

/// Stats are for the event's scanners and for its organizer (or an admin).
async fn stats_reader<S: Services>(services: &S, call: &Call<'_>) -> Result<String, Error> {
    if call.request.headers.get("x-verifier-key").is_some() {
        return Ok(event_scanner(services, call).await?.event_id);
    }
    let (_, event_id) = super::verifier::authorize_owner(services, call).await?;
    Ok(event_id)
}

/// The event's audit rows still in the Redis buffer, as `[{"k": keyId, "n": nonce, "r":
/// result}]` for the stats query (empty when Redis is down: libSQL's count alone then).
async fn buffered_scans<S: Services>(services: &S, event_id: &str) -> String {
    let rows = match buffer::for_event(services, event_id).await {
        Ok(rows) => rows,
        Err(e) => {
            services.log_error(&format!("check-in stats without the audit buffer: {e}"));
            Vec::new()
        }
    };
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r: &BufferedScan| json!({"k": r.key_id, "n": r.nonce, "r": r.result}))
        .collect();
    serde_json::Value::from(items).to_string()
}

/// `GET /v1/checkin/events/{id}/stats`. Admissions are always in libSQL; the scans by result
/// add the rows still waiting in the audit buffer (a row the drain already committed but not
/// yet trimmed counts once), so the stats never lag the door. Costs one Redis script call and
/// one Hrana request after the key check.
async fn stats<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let event_id = stats_reader(services, call).await?;
    let event = event_id.as_str();
    let buffered = buffered_scans(services, event).await;
    let results = services
        .sql()
        .batch_atomic(vec![
            Statement::new("SELECT count(*) AS n FROM checkins WHERE event_id = ?").bind(event),
            Statement::new(
                "SELECT count(*) AS n FROM tickets WHERE event_id = ? AND status IN ('valid', 'used')",
            )
            .bind(event),
            Statement::new(
                "SELECT coalesce(gate, '') AS k, count(*) AS n FROM checkins WHERE event_id = ? GROUP BY 1 ORDER BY 1",
            )
            .bind(event),
            Statement::new(
                "SELECT coalesce(tt.name, t.ticket_type_id, '') AS k, count(*) AS n FROM checkins c \
                   JOIN tickets t ON t.id = c.ticket_id LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id \
                  WHERE c.event_id = ? GROUP BY 1 ORDER BY 1",
            )
            .bind(event),
            Statement::new(
                "SELECT (scanned_at / ?) * ? AS k, count(*) AS n FROM checkins WHERE event_id = ? GROUP BY 1 ORDER BY 1",
            )
            .bind(BUCKET_MS)
            .bind(BUCKET_MS)
            .bind(event),
            Statement::new(
                "SELECT k, count(*) AS n FROM ( \
                   SELECT result AS k FROM scans WHERE event_id = ?1 \
                   UNION ALL \
                   SELECT json_extract(b.value, '$.r') FROM json_each(?2) b \
                    WHERE NOT EXISTS (SELECT 1 FROM scans s WHERE s.verifier_key_id = json_extract(b.value, '$.k') \
                                        AND s.nonce = json_extract(b.value, '$.n')) \
                 ) GROUP BY 1 ORDER BY 1",
            )
            .bind(event)
            .bind(buffered),
        ])
        .await?;
    let count = |i: usize| -> Result<i64, Error> {
        Ok(results.get(i).map(Rows::count).transpose()?.unwrap_or(0))
    };
    let groups = |i: usize, name: &str| -> Result<Vec<serde_json::Value>, Error> {
        let mut out = Vec::new();
        if let Some(rows) = results.get(i) {
            for row in rows.iter() {
                let key = match row.get::<i64>("k") {
                    Ok(n) => json!(n),
                    Err(_) => json!(row.get::<String>("k")?),
                };
                out.push(json!({name: key, "admitted": row.get::<i64>("n")?}));
            }
        }
        Ok(out)
    };
    let mut scans = serde_json::Map::new();
    if let Some(rows) = results.get(5) {
        for row in rows.iter() {
            scans.insert(row.get::<String>("k")?, json!(row.get::<i64>("n")?));
        }
    }
    let by_result = scans;
    Ok(Response::json(
        200,
        &json!({
            "eventId": event_id,
            "admitted": count(0)?,
            "tickets": count(1)?,
            "perGate": groups(2, "gate")?,
            "perType": groups(3, "type")?,
            "perBucket": groups(4, "start")?,
            "bucketMs": BUCKET_MS,
            "scans": by_result,
        }),
    ))
}
