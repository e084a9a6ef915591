//! An event's sale catalog in Redis: what a hold must know (event status, ticket types with
//! price, currency, supply, limits and sale window, the seat → type map, sale settings, the
//! window the whole sale is open in (see [`super::window`]) and pause state),
//! kept next to the inventory so a hold decides in one script call without reading libSQL.
//!
//! libSQL stays the truth. The snapshot is built lazily from one libSQL read when a script
//! answers `NOCATALOG`, and every change (event, ticket types, seats, sale settings, pause)
//! deletes it after libSQL committed and bumps the event's version, so a snapshot built from
//! a read taken before the change is refused (`STALE`) and the next hold sees the change. A
//! global pause bumps one epoch instead, which outdates every snapshot at once.

use super::state::{state_from_row, state_statement};
use super::window::OnSale;
use crate::keys;
use crate::services::Services;
use serde_json::{Map, Value, json};
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Redis, Sql};
use shared::redis::{Command, Script};
use shared::sale::SaleSettings;
use shared::sql::Statement;
use std::sync::LazyLock;

static LOAD: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/catalog_load.lua")));
static INVALIDATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("../scripts/inventory_keys.lua"),
        include_str!("../scripts/live_lib.lua"),
        include_str!("../scripts/catalog_invalidate.lua")
    ))
});

/// How long a snapshot lives without being invalidated: the bound on staleness should an
/// invalidation be lost (Redis unreachable just after a change).
const SNAPSHOT_TTL_MS: u64 = 10 * 60 * 1000;

/// The Redis keys of one event's catalog snapshot.
pub struct CatalogKeys {
    pub snapshot: String,
    pub seats: String,
    pub version: String,
    pub epoch: String,
}

impl CatalogKeys {
    /// The keys of `event_id` under the Redis key prefix `prefix`.
    pub fn new(prefix: &str, event_id: &str) -> Self {
        CatalogKeys {
            snapshot: keys::catalog(prefix, event_id, "snap"),
            seats: keys::catalog(prefix, event_id, "seats"),
            version: keys::catalog(prefix, event_id, "version"),
            epoch: keys::catalog_epoch(prefix),
        }
    }
}

/// Builds the snapshot of `event_id` from libSQL (one read), retrying when a change raced it.
///
/// # Errors
/// 503 `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE`; internal when changes kept racing.
pub async fn load<S: Services>(services: &S, event_id: &EventId) -> Result<(), Error> {
    let keys = CatalogKeys::new(&services.config().redis.key_prefix, event_id.as_str());
    for _ in 0..5 {
        let seen = services
            .redis()
            .exec(Command::new("MGET").arg(&keys.version).arg(&keys.epoch))
            .await?;
        let part = |i: usize| match &seen {
            shared::redis::Value::Array(parts) => parts
                .get(i)
                .and_then(|v| v.as_str())
                .unwrap_or("0")
                .to_owned(),
            _ => "0".to_owned(),
        };
        let (version, epoch) = (part(0), part(1));
        let snapshot = read(services, event_id).await?;
        let ttl = SNAPSHOT_TTL_MS.to_string();
        let reply = services
            .redis()
            .eval(
                &LOAD,
                &[&keys.snapshot, &keys.seats, &keys.version, &keys.epoch],
                &[
                    &version,
                    &epoch,
                    &snapshot.status,
                    &snapshot.types,
                    &snapshot.sale,
                    &snapshot.paused,
                    &snapshot.seats,
                    &ttl,
                ],
            )
            .await?;
        if reply.as_str() == Some("LOADED") {
            return Ok(());
        }
    }
    Err(Error::Internal(format!(
        "the catalog of {event_id} kept changing while it was loaded"
    )))
}

/// Makes the next sale request of `event_id` reload its catalog (after a committed change),
/// and announces the sale's window and pause after the change to the event's availability
/// change log (`super::live`). Two round trips: the sale is read from libSQL first, so the
/// entry carries the committed state.
///
/// # Errors
/// 503 `REDIS_UNAVAILABLE`: the change is saved in libSQL but sales may see the old catalog
/// until the snapshot expires; retrying the change refreshes it. 503 `LIBSQL_UNAVAILABLE`.
pub async fn invalidate<S: Services>(services: &S, event_id: &str) -> Result<(), Error> {
    let id = EventId::parse(event_id)
        .map_err(|e| Error::Internal(format!("invalidating event {event_id:?}: {e}")))?;
    let sale = super::live::SaleView::read(services, &id).await?;
    let keys = CatalogKeys::new(&services.config().redis.key_prefix, event_id);
    let inventory = crate::inventory::of(services.config(), &id);
    services
        .redis()
        .eval(
            &INVALIDATE,
            &inventory.keys_with(&[&keys.snapshot, &keys.seats, &keys.version]),
            &[&sale.to_json().to_string()],
        )
        .await?;
    Ok(())
}

/// Outdates every event's snapshot (a global pause or resume) and announces each loaded
/// event's pause state to its change log.
///
/// # Errors
/// 503 `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE`.
pub async fn invalidate_all<S: Services>(services: &S) -> Result<(), Error> {
    services
        .redis()
        .exec(Command::new("INCR").arg(keys::catalog_epoch(&services.config().redis.key_prefix)))
        .await?;
    super::live::announce_pauses(services).await
}

/// After a pause or resume of `scope` (`*` or an event id).
///
/// # Errors
/// 503 `REDIS_UNAVAILABLE`.
pub async fn invalidate_scope<S: Services>(services: &S, scope: &str) -> Result<(), Error> {
    if scope == "*" {
        invalidate_all(services).await
    } else {
        invalidate(services, scope).await
    }
}

/// The sale settings in the `sale` JSON a script returned (`None`: no sale configured).
///
/// # Errors
/// Internal when the JSON is not a snapshot's.
pub fn settings_of(sale_json: &str) -> Result<Option<SaleSettings>, Error> {
    let sale: Value = serde_json::from_str(sale_json)
        .map_err(|e| Error::Internal(format!("a catalog snapshot's sale does not parse: {e}")))?;
    match sale.get("settings") {
        None | Some(Value::Null) => Ok(None),
        Some(settings) => serde_json::from_value(settings.clone())
            .map(Some)
            .map_err(|e| Error::Internal(format!("a snapshot's sale settings: {e}"))),
    }
}

/// The snapshot's fields as the load script takes them.
struct Snapshot {
    status: String,
    types: String,
    sale: String,
    paused: String,
    seats: String,
}

/// Reads the event, its types, its seat map and its sale state in one libSQL round trip.
async fn read<S: Services>(services: &S, event_id: &EventId) -> Result<Snapshot, Error> {
    let id = event_id.as_str();
    // Independent reads in one round trip; a change racing them is caught by the version.
    let mut results = services
        .sql()
        .execute_many(vec![
            Statement::new(
                "SELECT status, ends_at, sale_starts_at, sale_ends_at FROM events WHERE id = ?",
            )
            .bind(id),
            Statement::new(
                "SELECT t.id, t.price, t.currency, t.supply, t.per_wallet_limit, \
                 t.sale_starts_at, t.sale_ends_at, \
                 EXISTS (SELECT 1 FROM seats s WHERE s.event_id = t.event_id \
                         AND s.ticket_type_id = t.id) AS seated \
                 FROM ticket_types t WHERE t.event_id = ?",
            )
            .bind(id),
            Statement::new("SELECT label, ticket_type_id FROM seats WHERE event_id = ?").bind(id),
            state_statement(event_id),
        ])
        .await?
        .into_iter();
    let mut next = || -> Result<shared::sql::Rows, Error> {
        Ok(results
            .next()
            .ok_or_else(|| Error::Internal("the catalog read returned too few results".into()))??)
    };
    let (event, types, seats, state) = (next()?, next()?, next()?, next()?);
    let state = state_from_row(
        &state
            .row(0)
            .ok_or_else(|| Error::Internal("the sale state query returned no row".into()))?,
    )?;
    // A missing event sells nothing: its status refuses first, the empty window agrees.
    let (status, event_window) = match event.row(0) {
        Some(row) => (
            row.get::<String>("status")?,
            OnSale::event(
                row.get("ends_at")?,
                row.get("sale_starts_at")?,
                row.get("sale_ends_at")?,
            ),
        ),
        None => ("absent".to_owned(), OnSale::event(0, None, None)),
    };
    let on_sale = match &state.settings {
        Some(s) => event_window.narrow(Some(s.starts_at_ms), Some(s.ends_at_ms)),
        None => event_window,
    };
    let mut type_map = Map::new();
    for row in types.iter() {
        let mut info = json!({
            "price": row.get::<String>("price")?,
            "currency": row.get::<String>("currency")?,
            "supply": row.get::<i64>("supply")?,
            "limit": row.get::<Option<i64>>("per_wallet_limit")?.unwrap_or(0),
            "seated": row.get::<i64>("seated")? != 0,
        });
        on_sale
            .narrow(row.get("sale_starts_at")?, row.get("sale_ends_at")?)
            .insert_into(&mut info);
        type_map.insert(row.get("id")?, info);
    }
    let seat_map = seats
        .iter()
        .map(|row| {
            Ok(json!([
                row.get::<String>("label")?,
                row.get::<String>("ticket_type_id")?
            ]))
        })
        .collect::<Result<Vec<Value>, Error>>()?;
    let mut sale = sale_json(state.settings.as_ref());
    on_sale.insert_into(&mut sale);
    Ok(Snapshot {
        status,
        types: Value::Object(type_map).to_string(),
        sale: sale.to_string(),
        paused: state.paused.unwrap_or_default(),
        seats: Value::Array(seat_map).to_string(),
    })
}

/// The sale part of the snapshot (see `scripts/catalog_lib.lua`).
fn sale_json(settings: Option<&SaleSettings>) -> Value {
    match settings {
        Some(s) => json!({
            "configured": true,
            "startsAt": s.starts_at_ms,
            "endsAt": s.ends_at_ms,
            "waitingRoom": s.waiting_room,
            "holdTtlMs": u64::from(s.hold_ttl_secs) * 1000,
            "walletLimit": s.per_wallet_limit,
            "paymentWindowMs": u64::from(s.payment_window_secs) * 1000,
            "settings": s,
        }),
        None => json!({
            "configured": false,
            "waitingRoom": false,
            "holdTtlMs": u64::from(SaleSettings::DEFAULT_HOLD_TTL_SECS) * 1000,
            "walletLimit": 0,
            "paymentWindowMs": u64::from(SaleSettings::DEFAULT_PAYMENT_WINDOW_SECS) * 1000,
        }),
    }
}
