//! One event's inventory in Redis (layout in `scripts/hold_lib.lua`) and the scripts that
//! change it.
//!
//! The inventory is created lazily: a script run on an event that was never touched answers
//! `UNLOADED`, the caller reads what paid orders bought from libSQL, loads it with
//! `hold_load.lua` (which writes only if nobody loaded first, so two instances loading at once
//! agree) and runs the script again.

use crate::keys;
use crate::services::Services;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Redis, Sql};
use shared::redis::{Script, Value};
use shared::sql::Statement;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// A hold script: the shared functions of `hold_lib.lua` followed by the script itself.
macro_rules! hold_script {
    ($file:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("../../scripts/hold_lib.lua"),
                include_str!(concat!("../../scripts/", $file))
            ))
        })
    };
}

/// Takes a hold (`hold.lua`).
pub(super) static HOLD: LazyLock<Script> = hold_script!("hold.lua");
/// Releases a hold (`hold_release.lua`).
pub(super) static RELEASE: LazyLock<Script> = hold_script!("hold_release.lua");
/// Sweeps and reads the counters (`hold_availability.lua`).
pub(super) static AVAILABILITY: LazyLock<Script> = hold_script!("hold_availability.lua");
/// Loads the sold state once (`hold_load.lua`).
static LOAD: LazyLock<Script> = hold_script!("hold_load.lua");

/// The keys of one event's inventory.
pub(super) struct Inventory<'a> {
    event_id: &'a EventId,
    /// meta, seats, stock, wallets, expiry: the script's `KEYS[1..5]`.
    keys: [String; 5],
    record_prefix: String,
}

impl<'a> Inventory<'a> {
    pub fn new<S: Services>(services: &S, event_id: &'a EventId) -> Self {
        let part = |p: &str| keys::hold_inventory(services, event_id.as_str(), p);
        Inventory {
            event_id,
            keys: [
                part("meta"),
                part("seats"),
                part("stock"),
                part("wallets"),
                part("expiry"),
            ],
            record_prefix: keys::hold_record_prefix(services),
        }
    }

    /// The record key of hold `id`.
    pub fn record_key(&self, id: &str) -> String {
        format!("{}{id}", self.record_prefix)
    }

    /// The record key of hold `id`, before its event is known.
    pub fn record_key_of<S: Services>(services: &S, id: &str) -> String {
        format!("{}{id}", keys::hold_record_prefix(services))
    }

    /// The prefix of record keys (every script's `ARGV[1]`).
    pub fn record_prefix(&self) -> &str {
        &self.record_prefix
    }

    /// Runs `script` with the inventory keys plus `extra_keys`, loading the inventory first
    /// when the script says it was never loaded. Returns the reply's parts; the first is the
    /// script's status word.
    ///
    /// # Errors
    /// 503 `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE`; internal for a malformed reply.
    pub async fn run<S: Services>(
        &self,
        services: &S,
        script: &Script,
        extra_keys: &[&str],
        args: &[&str],
    ) -> Result<(String, Vec<Value>), Error> {
        let mut keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        keys.extend_from_slice(extra_keys);
        let first = reply(services.redis().eval(script, &keys, args).await?)?;
        if first.0 != "UNLOADED" {
            return Ok(first);
        }
        self.load(services).await?;
        let second = reply(services.redis().eval(script, &keys, args).await?)?;
        if second.0 == "UNLOADED" {
            return Err(Error::Internal(format!(
                "the inventory of {} is still unloaded after loading it",
                self.event_id
            )));
        }
        Ok(second)
    }

    /// Loads what paid orders bought (seats, units per type, units per wallet and type).
    async fn load<S: Services>(&self, services: &S) -> Result<(), Error> {
        let rows = services
            .sql()
            .execute(
                Statement::new(
                    "SELECT o.payer, i.ticket_type_id, i.seat_label, i.quantity \
                     FROM order_items i JOIN orders o ON o.id = i.order_id \
                     WHERE o.event_id = ? AND o.status = 'paid'",
                )
                .bind(self.event_id.as_str()),
            )
            .await?;
        let mut seats = Vec::new();
        let mut types: BTreeMap<String, i64> = BTreeMap::new();
        let mut wallets: BTreeMap<(String, String), i64> = BTreeMap::new();
        for row in rows.iter() {
            let payer: String = row.get("payer")?;
            let tt: String = row.get("ticket_type_id")?;
            let quantity: i64 = row.get("quantity")?;
            if let Some(seat) = row.get::<Option<String>>("seat_label")? {
                seats.push(seat);
            }
            *types.entry(tt.clone()).or_default() += quantity;
            *wallets.entry((payer, tt)).or_default() += quantity;
        }
        let sold = serde_json::json!({
            "seats": seats,
            "types": types.into_iter().collect::<Vec<_>>(),
            "wallets": wallets
                .into_iter()
                .map(|((wallet, tt), n)| serde_json::json!([wallet, tt, n]))
                .collect::<Vec<_>>(),
        })
        .to_string();
        let keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        services
            .redis()
            .eval(&LOAD, &keys, &[&self.record_prefix, &sold])
            .await?;
        Ok(())
    }
}

/// Splits a script reply into its status word and the rest.
fn reply(value: Value) -> Result<(String, Vec<Value>), Error> {
    let Value::Array(mut parts) = value else {
        return Err(Error::Internal(format!("a hold script answered {value:?}")));
    };
    if parts.is_empty() {
        return Err(Error::Internal("a hold script answered nothing".to_owned()));
    }
    let status = parts.remove(0);
    let status = status
        .as_str()
        .ok_or_else(|| Error::Internal(format!("a hold script answered {status:?}")))?
        .to_owned();
    Ok((status, parts))
}

/// The reply parts as text (seat labels, counter names).
pub(super) fn texts(parts: &[Value]) -> Vec<String> {
    parts
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}
