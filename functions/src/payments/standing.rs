//! Where an order's hold stands when its payment arrives, judged by Redis's clock.
//!
//! Holds lapse and payment deadlines are set by Redis `TIME` (`hold_lib.lua`'s `now_ms`,
//! `order_place.lua`), so whether a payment is in time is asked of the same clock, in one
//! script call that also pins a standing hold until libSQL has recorded the payment
//! (`hold_pay.lua`). The edge clock may be seconds off Redis's: judged by it, a payment could
//! be taken for an order whose seat Redis already gave to someone else. Costs one Redis round
//! trip (one `EVALSHA`) per payment.

use super::order::{OrderItem, OrderRecord, script_items};
use crate::inventory::{Inventory, PAY};
use crate::keys;
use crate::services::Services;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Clock, Redis};
use shared::redis::{Command, Value};

/// How long past now a standing hold is kept while libSQL records its payment: beyond any
/// libSQL call's deadline (`DEPENDENCY_TIMEOUT_MS`), so the hold cannot lapse mid-commit.
const PIN_MS: u64 = 60_000;

/// Where the hold stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// Redis already follows this order's sale (a payment recorded before).
    Sold,
    /// The hold stands and the deadline is ahead; it is pinned past the commit.
    Live,
    /// The hold is gone or the deadline passed. `taken`: the order's seats someone else holds
    /// or bought meanwhile.
    Lapsed { taken: Vec<String> },
    /// Redis could not be asked; libSQL's seat index still keeps every seat sold once.
    Unknown,
}

/// [`Hold`] and the time it was judged at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// Redis `TIME` in ms (the edge clock when Redis could not be asked).
    pub now: i64,
    pub hold: Hold,
}

impl Standing {
    /// Whether the order's payment deadline has passed.
    pub fn past_deadline(&self, order: &OrderRecord) -> bool {
        order.payment_deadline <= self.now
    }
}

/// Asks Redis where `order`'s hold stands. Never fails: with Redis down or answering nonsense
/// the payment is still recorded by the edge clock (`Hold::Unknown`), as a payment must not
/// wait for the gate of new sales; the error is logged.
pub async fn check<S: Services>(
    services: &S,
    order: &OrderRecord,
    items: &[OrderItem],
) -> Standing {
    match ask(services, order, items).await {
        Ok(standing) => standing,
        Err(e) => {
            services.log_error(&format!(
                "order {}: Redis did not say where its hold stands ({e}); judged by the edge clock",
                order.id
            ));
            Standing {
                now: services.clock().now_ms() as i64,
                hold: Hold::Unknown,
            }
        }
    }
}

/// Redis `TIME` in ms, for a deadline decision that needs no hold (an underpaid deposit).
/// The edge clock when Redis cannot be asked (logged), as in [`check`].
pub async fn redis_now<S: Services>(services: &S) -> i64 {
    let answer = services.redis().exec(Command::new("TIME")).await;
    match answer.as_ref().map(time_ms) {
        Ok(Some(now)) => now,
        other => {
            services.log_error(&format!(
                "Redis TIME answered {other:?}; a deadline judged by the edge clock"
            ));
            services.clock().now_ms() as i64
        }
    }
}

/// A `TIME` reply (`[seconds, microseconds]`) in ms.
fn time_ms(value: &Value) -> Option<i64> {
    let Value::Array(parts) = value else {
        return None;
    };
    let secs = parts.first()?.as_i64()?;
    let micros = parts.get(1)?.as_i64()?;
    secs.checked_mul(1000)?.checked_add(micros / 1000)
}

async fn ask<S: Services>(
    services: &S,
    order: &OrderRecord,
    items: &[OrderItem],
) -> Result<Standing, Error> {
    let event = EventId::parse(&order.event_id)
        .map_err(|e| Error::Internal(format!("order event id: {e}")))?;
    let prefix = &services.config().redis.key_prefix;
    let hold = order.hold_id.clone().unwrap_or_default();
    let record = if hold.is_empty() {
        String::new()
    } else {
        keys::hold_record(prefix, &hold)
    };
    let (deadline, pin, items) = (
        order.payment_deadline.to_string(),
        PIN_MS.to_string(),
        script_items(items),
    );
    let (status, parts) = Inventory::new(prefix, &event)
        .run(
            services.redis(),
            services.sql(),
            &PAY,
            &[&record],
            &[&hold, &order.id, &deadline, &items, &pin],
        )
        .await?;
    parse(&status, &parts)
}

/// The script's reply.
fn parse(status: &str, parts: &[Value]) -> Result<Standing, Error> {
    let now = parts
        .first()
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::Internal(format!("hold_pay.lua answered {status} {parts:?}")))?;
    let hold = match status {
        "SOLD" => Hold::Sold,
        "LIVE" => Hold::Live,
        "LAPSED" => Hold::Lapsed {
            taken: parts
                .iter()
                .skip(1)
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        },
        other => {
            return Err(Error::Internal(format!("hold_pay.lua answered {other}")));
        }
    };
    Ok(Standing { now, hold })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_each_answer() {
        let now = 1_800_000_000_123;
        assert_eq!(
            parse("LIVE", &[Value::Int(now)]).ok(),
            Some(Standing {
                now,
                hold: Hold::Live
            })
        );
        assert_eq!(
            parse("SOLD", &[Value::Int(now)]).map(|s| s.hold).ok(),
            Some(Hold::Sold)
        );
        assert_eq!(
            parse("LAPSED", &[Value::Int(now), text("A-1"), text("A-2")])
                .map(|s| s.hold)
                .ok(),
            Some(Hold::Lapsed {
                taken: vec!["A-1".into(), "A-2".into()]
            })
        );
        assert_eq!(
            parse("LAPSED", &[Value::Int(now)]).map(|s| s.hold).ok(),
            Some(Hold::Lapsed { taken: vec![] })
        );
    }

    #[test]
    fn reads_redis_time() {
        let reply = Value::Array(vec![text("1800000000"), text("123456")]);
        assert_eq!(time_ms(&reply), Some(1_800_000_000_123));
        assert_eq!(time_ms(&Value::Array(vec![text("1800000000")])), None);
        assert_eq!(time_ms(&text("1800000000")), None);
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        assert!(parse("UNLOADED", &[]).is_err());
        assert!(parse("LIVE", &[]).is_err());
        assert!(parse("LIVE", &[text("soon")]).is_err());
        assert!(parse("MAYBE", &[Value::Int(1)]).is_err());
    }
}
