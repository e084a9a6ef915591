//! The sale as live availability shows it: `{paused, opensAt, closesAt}` (the window the whole
//! sale is open in, see [`super::window`], and whether a pause applies). The availability
//! snapshot carries it; every catalog, sale-settings or pause change announces the new value
//! as a change-log entry of kind `sale` in the same script that invalidates the catalog
//! (`scripts/live_lib.lua`'s `live_sale`), which also keeps it in the inventory's meta
//! (`liveSale`) so a snapshot and its seq agree.

use super::state::{state_from_row, state_statement};
use super::window::OnSale;
use crate::keys;
use crate::services::Services;
use serde_json::{Map, Value, json};
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Redis, Sql};
use shared::redis::{Command, Script};
use shared::sql::{Rows, Statement};
use std::sync::LazyLock;

/// Announces a pause or resume to one event's log (a global switch, per loaded event).
static ANNOUNCE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("../scripts/inventory_keys.lua"),
        include_str!("../scripts/live_lib.lua"),
        "live_sale(ARGV[1])\nreturn 1\n"
    ))
});

/// The sale part of the availability snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleView {
    pub paused: bool,
    pub on_sale: OnSale,
}

/// The event's window row and its sale state, for [`SaleView::from_rows`] (one read with
/// whatever else the caller reads).
pub fn sale_view_statements(id: &EventId) -> [Statement; 2] {
    [
        Statement::new(
            "SELECT status, ends_at, sale_starts_at, sale_ends_at FROM events WHERE id = ?",
        )
        .bind(id.as_str()),
        state_statement(id),
    ]
}

impl SaleView {
    /// From the results of [`sale_view_statements`] (a missing event sells nothing).
    ///
    /// # Errors
    /// Internal for rows of another shape.
    pub fn from_rows(event: &Rows, state: &Rows) -> Result<Self, Error> {
        let state = state_from_row(
            &state
                .row(0)
                .ok_or_else(|| Error::Internal("the sale state query returned no row".into()))?,
        )?;
        let window = match event.row(0) {
            Some(row) => OnSale::event(
                row.get("ends_at")?,
                row.get("sale_starts_at")?,
                row.get("sale_ends_at")?,
            ),
            None => OnSale::event(0, None, None),
        };
        let on_sale = match &state.settings {
            Some(s) => window.narrow(Some(s.starts_at_ms), Some(s.ends_at_ms)),
            None => window,
        };
        Ok(SaleView {
            paused: state.paused.is_some(),
            on_sale,
        })
    }

    /// Reads `id`'s view from libSQL (one round trip).
    ///
    /// # Errors
    /// 503 `LIBSQL_UNAVAILABLE`.
    pub async fn read<S: Services>(services: &S, id: &EventId) -> Result<Self, Error> {
        let [event, state] = sale_view_statements(id);
        let mut results = services.sql().execute_many(vec![event, state]).await?;
        let state = results
            .pop()
            .ok_or_else(|| Error::Internal("the sale read returned no state".into()))??;
        let event = results
            .pop()
            .ok_or_else(|| Error::Internal("the sale read returned no event".into()))??;
        SaleView::from_rows(&event, &state)
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "paused": self.paused,
            "opensAt": self.on_sale.opens,
            "closesAt": self.on_sale.closes,
        })
    }

    /// This view with the fields the log last announced (`liveSale`, JSON or '') on top.
    pub fn overlaid(&self, announced: &str) -> Value {
        let mut view = self.to_json();
        if let (Value::Object(view), Ok(Value::Object(announced))) =
            (&mut view, serde_json::from_str::<Value>(announced))
        {
            view.extend(announced);
        }
        view
    }
}

/// After a global pause or resume: announces each loaded event's pause state to its log, in
/// one pipeline (one libSQL read for the pauses, one Redis read for the events).
///
/// # Errors
/// 503 `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE`.
pub async fn announce_pauses<S: Services>(services: &S) -> Result<(), Error> {
    let prefix = &services.config().redis.key_prefix;
    let events = services
        .redis()
        .exec(Command::new("SMEMBERS").arg(keys::inventory_events(prefix)))
        .await?;
    let events: Vec<EventId> = match events {
        shared::redis::Value::Array(ids) => ids
            .iter()
            .filter_map(|v| EventId::parse(v.as_str()?).ok())
            .collect(),
        _ => Vec::new(),
    };
    if events.is_empty() {
        return Ok(());
    }
    let scopes = services
        .sql()
        .execute(Statement::new("SELECT scope FROM sale_pauses"))
        .await?;
    let scopes = scopes
        .iter()
        .map(|row| row.get::<String>("scope"))
        .collect::<Result<Vec<_>, _>>()?;
    let global = scopes.iter().any(|s| s == "*");
    let commands = events
        .iter()
        .map(|id| {
            let paused = global || scopes.iter().any(|s| s == id.as_str());
            let inventory = crate::inventory::of(services.config(), id);
            let keys = inventory.keys_with(&[]);
            let mut sale = Map::new();
            sale.insert("paused".into(), Value::Bool(paused));
            Command::new("EVAL")
                .arg(ANNOUNCE.source())
                .arg(keys.len())
                .args(keys)
                .arg(Value::Object(sale))
        })
        .collect();
    services.redis().pipeline(commands).await?;
    Ok(())
}
