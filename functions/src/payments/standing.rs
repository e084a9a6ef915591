//! Where an order's hold stands when its payment arrives, judged by Redis's clock.
//!
//! Holds lapse and payment deadlines are set by Redis `TIME` (`hold_lib.lua`'s `now_ms`,
//! `order_place.lua`), so whether a payment is in time is asked of the same clock, in one
//! script call that also pins a standing hold until libSQL has recorded the payment
//! (`hold_pay.lua`). Judged by the edge clock, which may be off Redis's, a payment could be
//! taken for an order whose seat Redis already gave to someone else.
//!
//! Redis is asked only when the deadline is less than [`ASK_WITHIN_MS`] ahead by the edge
//! clock. Further ahead, no skew between two synced clocks can make the payment late or let
//! the hold lapse during the commit, and the card payment keeps its one Redis round trip (the
//! sale after the commit; `tests/e2e/cost.rs` holds it to that). Asking costs one `EVALSHA`.
//! Either way libSQL's seat index (`tickets_live_seat`) keeps every seat sold once: a seat
//! Redis lost track of still shows up as taken at the commit.

use super::order::{OrderItem, OrderRecord, script_items};
use crate::inventory::PAY;
use crate::keys;
use crate::services::Services;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Clock, Redis};
use shared::redis::{Command, Value};

/// How near its deadline (by the edge clock) an order's payment is judged by Redis's clock:
/// well beyond any clock skew between synced hosts plus [`PIN_MS`].
pub const ASK_WITHIN_MS: i64 = 120_000;

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
    /// The hold is gone or the deadline passed. `taken`: the order's seats sold to someone
    /// else meanwhile, or, past the deadline, held by someone else too (before it, the order's
    /// claim beats a hold Redis gave out after losing the order's).
    Lapsed { taken: Vec<String> },
    /// Not asked: the deadline is more than [`ASK_WITHIN_MS`] ahead by the edge clock.
    FarFromDeadline,
    /// Redis could not be asked; libSQL's seat index still keeps every seat sold once.
    Unknown,
}

/// [`Hold`] and the time it was judged at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// Redis `TIME` in ms (the edge clock when Redis was not or could not be asked).
    pub now: i64,
    pub hold: Hold,
}

impl Standing {
    /// Whether the order's payment deadline has passed.
    pub fn past_deadline(&self, order: &OrderRecord) -> bool {
        order.payment_deadline <= self.now
    }
}

/// Where `order`'s hold stands: asked of Redis near the deadline. Never fails: with Redis
/// down or answering nonsense the payment is still recorded by the edge clock
/// (`Hold::Unknown`), as a payment must not wait for the gate of new sales; the error is
/// logged.
pub async fn check<S: Services>(
    services: &S,
    order: &OrderRecord,
    items: &[OrderItem],
) -> Standing {
    let edge = services.clock().now_ms() as i64;
    if far_from_deadline(order, edge) {
        return Standing {
            now: edge,
            hold: Hold::FarFromDeadline,
        };
    }
    match ask(services, order, items).await {
        Ok(standing) => standing,
        Err(e) => {
            services.log_error(&format!(
                "order {}: Redis did not say where its hold stands ({e}); judged by the edge clock",
                order.id
            ));
            Standing {
                now: edge,
                hold: Hold::Unknown,
            }
        }
    }
}

/// Whether `order`'s deadline has passed, for a decision that needs no hold (an underpaid
/// deposit): by Redis `TIME` near the deadline, as [`check`] judges (the edge clock when Redis
/// cannot be asked, logged).
pub async fn is_late<S: Services>(services: &S, order: &OrderRecord) -> bool {
    let edge = services.clock().now_ms() as i64;
    if far_from_deadline(order, edge) {
        return false;
    }
    let now = ask_time(services, || format!("order {}'s deadline", order.id))
        .await
        .unwrap_or(edge);
    order.payment_deadline <= now
}

/// Redis's clock (`TIME`), the one deadlines and hold expiry are judged by; the edge clock,
/// logged, when Redis cannot be asked.
pub async fn redis_now<S: Services>(services: &S) -> i64 {
    ask_time(services, || "deadlines".to_owned())
        .await
        .unwrap_or_else(|| services.clock().now_ms() as i64)
}

/// Redis `TIME` in ms; `None`, logged as "`judged()` judged by the edge clock", when Redis
/// cannot be asked or answers nonsense.
async fn ask_time<S: Services>(services: &S, judged: impl FnOnce() -> String) -> Option<i64> {
    let answer = services.redis().exec(Command::new("TIME")).await;
    match answer.as_ref().map(time_ms) {
        Ok(Some(now)) => Some(now),
        other => {
            services.log_error(&format!(
                "Redis TIME answered {other:?}; {} judged by the edge clock",
                judged()
            ));
            None
        }
    }
}

/// Whether the deadline is so far ahead by the edge clock that Redis's cannot disagree.
fn far_from_deadline(order: &OrderRecord, edge_now: i64) -> bool {
    order.payment_deadline.saturating_sub(edge_now) > ASK_WITHIN_MS
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
    let (status, parts) = crate::inventory::of(services.config(), &event)
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

    fn order(deadline: i64) -> OrderRecord {
        OrderRecord {
            id: "ord_1".into(),
            order_ref: "order-1".into(),
            event_id: "evt_1".into(),
            payer: "0x0000000000000000000000000000000000000001".into(),
            status: "pending_payment".into(),
            total: "1000".into(),
            currency: "ETH".into(),
            hold_id: Some("hld_1".into()),
            payment_deadline: deadline,
            paid_at: None,
            paid_via: None,
            payment_intent: None,
            paid_amount: None,
            paid_token: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn asks_redis_only_near_the_deadline() {
        let now = 1_800_000_000_000;
        assert!(far_from_deadline(&order(now + ASK_WITHIN_MS + 1), now));
        assert!(!far_from_deadline(&order(now + ASK_WITHIN_MS), now));
        assert!(!far_from_deadline(&order(now - 1), now));
        assert!(!far_from_deadline(&order(i64::MIN), now));
        assert!(far_from_deadline(&order(i64::MAX), i64::MIN + 1));
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
