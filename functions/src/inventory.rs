//! One event's inventory in Redis (layout in `scripts/hold_lib.lua`) and the scripts that
//! change it. Redis is the gate; libSQL is the truth for what is sold.
//!
//! The inventory is created lazily: a script run on an event that was never touched answers
//! `UNLOADED`, the caller reads what paid orders bought from libSQL, loads it with
//! `hold_load.lua` and runs the script again. Every sale and refund bumps a version in Redis
//! *after* libSQL committed it, and a load or reconcile is refused (`STALE`) when the version
//! moved since it read libSQL, so a slow reader can never roll a sale back.

use crate::keys;
use serde_json::json;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Redis, Sql};
use shared::redis::{Command, Script, Value};
use shared::sql::Statement;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// A hold script: the key layout (`inventory_keys.lua`), the change log (`live_lib.lua`), the
/// shared functions of `hold_lib.lua` and `$libs`, then the script itself as the body that
/// `live_run` runs, so whatever it changes becomes one change-log entry.
macro_rules! hold_script {
    ($file:literal $(, $lib:literal)*) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("scripts/inventory_keys.lua"),
                include_str!("scripts/live_lib.lua"),
                include_str!("scripts/hold_lib.lua"),
                $(include_str!(concat!("scripts/", $lib)),)*
                "local function main()\n",
                include_str!(concat!("scripts/", $file)),
                "\nend\nreturn live_run(main)\n"
            ))
        })
    };
}
pub(crate) use hold_script;

/// Releases a hold (`hold_release.lua`).
pub static RELEASE: LazyLock<Script> = hold_script!("hold_release.lua");
/// Sweeps and reads the counters (`hold_availability.lua`).
pub static AVAILABILITY: LazyLock<Script> = hold_script!("hold_availability.lua");
/// Detaches it again (`hold_unclaim.lua`).
pub static UNCLAIM: LazyLock<Script> = hold_script!("hold_unclaim.lua");
/// Reads Redis's clock and where an order's hold stands before its payment is recorded
/// (`hold_pay.lua`).
pub static PAY: LazyLock<Script> = hold_script!("hold_pay.lua");
/// Turns a paid order's hold into sold items (`hold_sell.lua`).
pub static SELL: LazyLock<Script> = hold_script!("hold_sell.lua");
/// Puts a refunded order's items back or offers them to the waitlist (`hold_return.lua`).
pub static RETURN: LazyLock<Script> = hold_script!("hold_return.lua");
/// Joins the waitlist (`waitlist_join.lua`).
pub static WAITLIST_JOIN: LazyLock<Script> = hold_script!("waitlist_join.lua");
/// Loads from libSQL (`hold_load.lua`, with the state it shares with the reconcile).
static LOAD: LazyLock<Script> = hold_script!("hold_load.lua", "inventory_state.lua");

/// `LIVE_LOG_MAX_ENTRIES`'s default, for an inventory built without a configuration.
const DEFAULT_LIVE_MAX: u32 = 10_000;

/// Order statuses whose items are sold.
pub const SOLD_STATUSES: &str = "('paid', 'overpaid')";

/// What a reconcile found different between Redis and libSQL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub event_id: String,
    /// `[label, before, after]`.
    pub seats: Vec<serde_json::Value>,
    /// `[counter, before, after]`.
    pub stock: Vec<serde_json::Value>,
}

/// The keys of one event's inventory.
pub struct Inventory {
    event_id: EventId,
    /// meta, seats, stock, wallets, expiry, waitlist, waiting, offers: `KEYS[1..8]`.
    keys: [String; 8],
    record_prefix: String,
    /// The set of events that have an inventory (for the scheduled sweep and reconcile).
    events_key: String,
    /// How many change-log entries the event keeps (`LIVE_LOG_MAX_ENTRIES`), set at load.
    live_max: String,
}

/// The inventory of `event_id` as configured (key prefix, change-log retention).
pub fn of(config: &shared::config::Config, event_id: &EventId) -> Inventory {
    Inventory::new(&config.redis.key_prefix, event_id).with_live_max(config.live_log_max_entries)
}

impl Inventory {
    /// The inventory of `event_id` under the Redis key prefix `prefix`.
    pub fn new(prefix: &str, event_id: &EventId) -> Self {
        let part = |p: &str| keys::inventory(prefix, event_id.as_str(), p);
        Inventory {
            event_id: event_id.clone(),
            keys: [
                part("meta"),
                part("seats"),
                part("stock"),
                part("wallets"),
                part("expiry"),
                part("waitlist"),
                part("waiting"),
                part("offers"),
            ],
            record_prefix: keys::hold_record_prefix(prefix),
            events_key: keys::inventory_events(prefix),
            live_max: DEFAULT_LIVE_MAX.to_string(),
        }
    }

    /// Keeps `max` change-log entries (written to the inventory when it is loaded).
    pub fn with_live_max(mut self, max: u32) -> Self {
        self.live_max = max.to_string();
        self
    }

    /// The record key of hold `id`.
    pub fn record_key(&self, id: &str) -> String {
        format!("{}{id}", self.record_prefix)
    }

    /// The prefix of record keys (every script's `ARGV[1]`).
    pub fn record_prefix(&self) -> &str {
        &self.record_prefix
    }

    /// The key of part `name` (`offers`, `waitlist`, …).
    pub fn key(&self, name: &str) -> &str {
        let index = [
            "meta", "seats", "stock", "wallets", "expiry", "waitlist", "waiting", "offers",
        ]
        .iter()
        .position(|p| *p == name)
        .unwrap_or(0);
        &self.keys[index]
    }

    /// The inventory's keys (`KEYS[1..8]`) followed by `extra_keys`.
    pub fn keys_with<'k>(&'k self, extra_keys: &[&'k str]) -> Vec<&'k str> {
        self.all_keys(extra_keys)
    }

    /// The record prefix (`ARGV[1]`) followed by `args`.
    pub fn args_with<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut argv = vec![self.record_prefix.as_str()];
        argv.extend_from_slice(args);
        argv
    }

    /// Loads the inventory from libSQL unless someone did already.
    ///
    /// # Errors
    /// 503s; internal when sales kept racing the read.
    pub async fn load_sold(&self, redis: &impl Redis, sql: &impl Sql) -> Result<(), Error> {
        self.load(redis, sql, "load").await.map(|_| ())
    }

    fn all_keys<'k>(&'k self, extra_keys: &[&'k str]) -> Vec<&'k str> {
        let mut keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        keys.extend_from_slice(extra_keys);
        keys
    }

    /// Runs `script` with `ARGV[1]` = the record prefix followed by `args`, loading the
    /// inventory first when the script says it was never loaded. Returns the reply's parts;
    /// the first is the script's status word.
    ///
    /// # Errors
    /// 503 `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE`; internal for a malformed reply.
    pub async fn run(
        &self,
        redis: &impl Redis,
        sql: &impl Sql,
        script: &Script,
        extra_keys: &[&str],
        args: &[&str],
    ) -> Result<(String, Vec<Value>), Error> {
        let first = self.run_loaded(redis, script, extra_keys, args).await?;
        if first.0 != "UNLOADED" {
            return Ok(first);
        }
        self.load(redis, sql, "load").await?;
        let second = self.run_loaded(redis, script, extra_keys, args).await?;
        if second.0 == "UNLOADED" {
            return Err(Error::Internal(format!(
                "the inventory of {} is still unloaded after loading it",
                self.event_id
            )));
        }
        Ok(second)
    }

    /// Runs `script` without loading (an `UNLOADED` answer is returned as is).
    ///
    /// # Errors
    /// 503 `REDIS_UNAVAILABLE`; internal for a malformed reply.
    pub async fn run_loaded(
        &self,
        redis: &impl Redis,
        script: &Script,
        extra_keys: &[&str],
        args: &[&str],
    ) -> Result<(String, Vec<Value>), Error> {
        let keys = self.all_keys(extra_keys);
        let mut argv = vec![self.record_prefix.as_str()];
        argv.extend_from_slice(args);
        reply(redis.eval(script, &keys, &argv).await?)
    }

    /// Loads from what libSQL says is sold, retrying when a sale raced. (Reconciling is
    /// `crate::reconcile`.)
    async fn load(
        &self,
        redis: &impl Redis,
        sql: &impl Sql,
        mode: &str,
    ) -> Result<(String, Vec<Value>), Error> {
        for _ in 0..5 {
            let version = redis
                .exec(Command::new("HGET").arg(&self.keys[0]).arg("version"))
                .await?;
            let version = version
                .as_str()
                .map_or_else(|| "0".to_owned(), str::to_owned);
            let sold = self.sold_state(sql).await?;
            let keys = self.all_keys(&[]);
            let result = reply(
                redis
                    .eval(
                        &LOAD,
                        &keys,
                        &[&self.record_prefix, mode, &version, &sold, &self.live_max],
                    )
                    .await?,
            )?;
            if result.0 == "LOADED" {
                redis
                    .exec(
                        Command::new("SADD")
                            .arg(&self.events_key)
                            .arg(self.event_id.as_str()),
                    )
                    .await?;
            }
            if result.0 != "STALE" {
                return Ok(result);
            }
        }
        Err(Error::Internal(format!(
            "sales of {} kept changing during the inventory load",
            self.event_id
        )))
    }

    /// What paid orders bought (seats, units per type, units per wallet and type), and which
    /// orders are paid or were refunded: the JSON `inventory_state.lua` reads.
    pub(crate) async fn sold_state(&self, sql: &impl Sql) -> Result<String, Error> {
        let rows = sql
            .execute(
                Statement::new(format!(
                    "SELECT o.id, o.status, o.payer, i.ticket_type_id, i.seat_label, i.quantity \
                     FROM order_items i JOIN orders o ON o.id = i.order_id \
                     WHERE o.event_id = ? AND (o.status IN {SOLD_STATUSES} OR o.status = 'refunded')"
                ))
                .bind(self.event_id.as_str()),
            )
            .await?;
        let mut seats = Vec::new();
        let mut types: BTreeMap<String, i64> = BTreeMap::new();
        let mut wallets: BTreeMap<(String, String), i64> = BTreeMap::new();
        let (mut paid, mut returned) = (Vec::new(), Vec::new());
        for row in rows.iter() {
            let order: String = row.get("id")?;
            if row.get::<String>("status")? == "refunded" {
                returned.push(order);
                continue;
            }
            paid.push(order);
            let payer: String = row.get("payer")?;
            let tt: String = row.get("ticket_type_id")?;
            let quantity: i64 = row.get("quantity")?;
            if let Some(seat) = row.get::<Option<String>>("seat_label")? {
                seats.push(seat);
            }
            *types.entry(tt.clone()).or_default() += quantity;
            *wallets.entry((payer, tt)).or_default() += quantity;
        }
        paid.dedup();
        returned.dedup();
        Ok(json!({
            "seats": seats,
            "types": types.into_iter().collect::<Vec<_>>(),
            "wallets": wallets
                .into_iter()
                .map(|((wallet, tt), n)| json!([wallet, tt, n]))
                .collect::<Vec<_>>(),
            "paid": paid,
            "returned": returned,
        })
        .to_string())
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
pub fn texts(parts: &[Value]) -> Vec<String> {
    parts
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}
