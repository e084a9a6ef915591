//! When something is on sale, as one half-open interval `[opens, closes)` in ms: the event's
//! sale window (its `saleStartsAt`, else always; its `saleEndsAt`, else the event's end),
//! narrowed by the sale settings' window when there are settings, narrowed by a ticket type's
//! own window when it has one.
//!
//! The writes keep each window inside the one around it (422 `SALE_WINDOW_OUTSIDE_EVENT`);
//! intersecting here as well means rows written before that rule existed still cannot sell
//! outside any of them. The catalog snapshot carries the results, so the hold and order
//! scripts compare them with Redis `TIME` without another round trip.

use serde_json::{Value, json};

/// A half-open sale interval in ms since the epoch. `opens >= closes` sells nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnSale {
    pub opens: i64,
    pub closes: i64,
}

impl OnSale {
    /// The event's sale window: `sale_starts_at` (else from the epoch) until `sale_ends_at`,
    /// else until the event ends.
    pub fn event(ends_at: i64, sale_starts_at: Option<i64>, sale_ends_at: Option<i64>) -> Self {
        OnSale {
            opens: 0,
            closes: ends_at,
        }
        .narrow(sale_starts_at, sale_ends_at)
    }

    /// This window, within `[opens, closes)` where those bounds are set.
    pub fn narrow(self, opens: Option<i64>, closes: Option<i64>) -> Self {
        OnSale {
            opens: opens.map_or(self.opens, |o| o.max(self.opens)),
            closes: closes.map_or(self.closes, |c| c.min(self.closes)),
        }
    }

    /// The `opensAt`/`closesAt` fields of the snapshot (see `scripts/catalog_lib.lua`).
    pub fn insert_into(self, object: &mut Value) {
        if let Value::Object(map) = object {
            map.insert("opensAt".into(), json!(self.opens));
            map.insert("closesAt".into(), json!(self.closes));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_window_ends_with_the_event_at_the_latest() {
        assert_eq!(
            OnSale::event(100, None, None),
            OnSale {
                opens: 0,
                closes: 100
            }
        );
        assert_eq!(
            OnSale::event(100, Some(10), Some(50)),
            OnSale {
                opens: 10,
                closes: 50
            }
        );
    }

    #[test]
    fn each_narrowing_only_shrinks() {
        let event = OnSale::event(100, Some(10), None);
        let settings = event.narrow(Some(5), Some(80));
        assert_eq!(
            settings,
            OnSale {
                opens: 10,
                closes: 80
            }
        );
        let ticket_type = settings.narrow(Some(20), Some(200));
        assert_eq!(
            ticket_type,
            OnSale {
                opens: 20,
                closes: 80
            }
        );
        assert_eq!(ticket_type.narrow(None, None), ticket_type);
    }

    #[test]
    fn the_fields_are_added_to_a_json_object() {
        let mut sale = json!({"configured": false});
        OnSale::event(100, None, Some(90)).insert_into(&mut sale);
        assert_eq!(
            sale,
            json!({"configured": false, "opensAt": 0, "closesAt": 90})
        );
    }
}
