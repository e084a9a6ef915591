//! Live availability from a client's side: a state built from a snapshot
//! (`GET /v1/events/{id}/availability`) and moved forward by change-log entries
//! (`GET …/availability/updates`), by the rule the README gives, so a test can compare what a
//! follower holds with a later snapshot; plus the small requests the live tests share (a hold
//! as a fresh wallet, the page's files).

use crate::catalog::PublishedEvent;
use crate::{App, Reply};
use reqwest::Method;
use serde_json::{Map, Value, json};
use shared::domain::Role;
use std::collections::BTreeMap;

/// The kinds of entry the log writes.
pub const KINDS: &[&str] = &[
    "hold",
    "release",
    "expire",
    "sold",
    "refund",
    "reconcile",
    "sale",
];

/// Counters of one ticket type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TypeCounts {
    supply: i64,
    held: i64,
    sold: i64,
}

/// What a client knows about an event's availability, and the seq it reflects.
#[derive(Debug, Clone)]
pub struct LiveState {
    /// The seq of the last entry applied (at first the snapshot's).
    pub seq: u64,
    seat_states: BTreeMap<String, String>,
    seat_total: i64,
    seats_held: i64,
    seats_sold: i64,
    types: BTreeMap<String, TypeCounts>,
    sale: Map<String, Value>,
}

fn int(value: &Value, what: &str) -> i64 {
    value
        .as_i64()
        .unwrap_or_else(|| panic!("{what} is not an integer: {value}"))
}

impl LiveState {
    /// The state a snapshot body describes.
    #[track_caller]
    pub fn from_snapshot(body: &Value) -> LiveState {
        let seq = body["seq"]
            .as_u64()
            .unwrap_or_else(|| panic!("snapshot without seq: {body}"));
        let seat_states = body["seatStates"]
            .as_object()
            .unwrap_or_else(|| panic!("snapshot without seatStates: {body}"))
            .iter()
            .map(|(label, state)| (label.clone(), state.as_str().unwrap_or("?").to_owned()))
            .collect();
        let types = body["ticketTypes"]
            .as_array()
            .unwrap_or_else(|| panic!("snapshot without ticketTypes: {body}"))
            .iter()
            .map(|t| {
                let id = t["ticketTypeId"].as_str().expect("ticketTypeId").to_owned();
                let counts = TypeCounts {
                    supply: int(&t["supply"], "supply"),
                    held: int(&t["held"], "held"),
                    sold: int(&t["sold"], "sold"),
                };
                (id, counts)
            })
            .collect();
        LiveState {
            seq,
            seat_states,
            seat_total: int(&body["seats"]["total"], "seats.total"),
            seats_held: int(&body["seats"]["held"], "seats.held"),
            seats_sold: int(&body["seats"]["sold"], "seats.sold"),
            types,
            sale: body["sale"].as_object().cloned().unwrap_or_default(),
        }
    }

    /// Applies the entry that follows this state.
    ///
    /// # Errors
    /// What is wrong with the entry: not the next seq, an unknown kind or state, a type this
    /// event does not have.
    pub fn apply(&mut self, entry: &Value) -> Result<(), String> {
        let seq = entry["seq"].as_u64().ok_or("no seq")?;
        if seq != self.seq + 1 {
            return Err(format!("seq {seq} does not follow {}", self.seq));
        }
        let kind = entry["kind"].as_str().unwrap_or_default();
        if !KINDS.contains(&kind) {
            return Err(format!("unknown kind {kind:?}"));
        }
        if entry["at"].as_i64().is_none() {
            return Err("no at".into());
        }
        if let Some(seats) = entry["seats"].as_object() {
            for (label, state) in seats {
                match state.as_str() {
                    Some("free") => self.seat_states.remove(label),
                    Some(s @ ("held" | "sold")) => self.seat_states.insert(label.clone(), s.into()),
                    _ => return Err(format!("seat {label} is {state}")),
                };
            }
        }
        if let Some(counts) = entry["seatCounts"].as_object() {
            self.seats_held = counts["held"].as_i64().ok_or("seatCounts.held")?;
            self.seats_sold = counts["sold"].as_i64().ok_or("seatCounts.sold")?;
        }
        if let Some(types) = entry["types"].as_object() {
            for (id, counts) in types {
                let known = self
                    .types
                    .get_mut(id)
                    .ok_or_else(|| format!("type {id} is not in the snapshot"))?;
                known.held = counts["held"].as_i64().ok_or("types.held")?;
                known.sold = counts["sold"].as_i64().ok_or("types.sold")?;
            }
        }
        if let Some(sale) = entry["sale"].as_object() {
            self.sale
                .extend(sale.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        self.seq = seq;
        Ok(())
    }

    /// The state in the snapshot's terms (free counts derived by the rule), for comparing.
    pub fn view(&self) -> Value {
        let types: Map<String, Value> = self
            .types
            .iter()
            .map(|(id, t)| {
                let free = (t.supply - t.held - t.sold).max(0);
                let counts =
                    json!({"supply": t.supply, "held": t.held, "sold": t.sold, "free": free});
                (id.clone(), counts)
            })
            .collect();
        let free = self.seat_total - self.seats_held - self.seats_sold;
        json!({
            "seq": self.seq,
            "seatStates": self.seat_states,
            "seats": {"total": self.seat_total, "free": free, "held": self.seats_held,
                      "sold": self.seats_sold},
            "types": types,
            "sale": self.sale,
        })
    }

    /// Whether the seat counters agree with the seat states (a snapshot's own consistency).
    pub fn counts_match_states(&self) -> bool {
        let count = |want: &str| self.seat_states.values().filter(|s| *s == want).count() as i64;
        count("held") == self.seats_held && count("sold") == self.seats_sold
    }
}

/// The app settings of the live tests: room for bursts of requests, and a known Redis key
/// `prefix` (the tests reach into the inventory's keys), plus `extra`.
pub fn overrides<'a>(prefix: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![
        ("RATE_LIMIT_WRITE", "100000:100000"),
        ("RATE_LIMIT_READ", "100000:100000"),
        ("REDIS_KEY_PREFIX", prefix),
    ];
    all.extend_from_slice(extra);
    all
}

/// The snapshot view of `body` (see [`LiveState::view`]).
pub fn snapshot_view(body: &Value) -> Value {
    LiveState::from_snapshot(body).view()
}

/// `GET /v1/events/{event_id}/availability/updates` with `query` (e.g. `since_seq=5&limit=10`).
pub async fn updates(app: &App, event_id: &str, query: &str) -> Reply {
    let path = format!("/v1/events/{event_id}/availability/updates?{query}");
    app.send(Method::GET, &path, None, None, &[]).await
}

/// What following the log did.
#[derive(Debug)]
pub enum Follow {
    /// Caught up to the head the log reported; the entries applied, in order.
    Applied(Vec<Value>),
    /// The log no longer holds what follows the state (409 `SEQ_TOO_OLD`).
    TooOld,
}

/// Reads `/updates` from `state.seq` in pages of `limit` until the log's head, applying
/// every entry; panics (with the entry and the state) on an entry that does not apply.
pub async fn follow(app: &App, event_id: &str, state: &mut LiveState, limit: usize) -> Follow {
    let mut applied = Vec::new();
    loop {
        let query = format!("since_seq={}&limit={limit}", state.seq);
        let reply = updates(app, event_id, &query).await;
        if reply.status == 409 && reply.body["error_code"] == "SEQ_TOO_OLD" {
            return Follow::TooOld;
        }
        assert_eq!(reply.status, 200, "updates?{query}: {}", reply.body);
        let body = &reply.body;
        assert_eq!(body["fromSeq"].as_u64(), Some(state.seq), "{body}");
        let entries = body["updates"].as_array().expect("updates");
        assert!(
            entries.len() <= limit,
            "{} entries > limit {limit}",
            entries.len()
        );
        for entry in entries {
            if let Err(why) = state.apply(entry) {
                panic!(
                    "entry does not apply ({why}): {entry}\nstate: {}",
                    state.view()
                );
            }
            applied.push(entry.clone());
        }
        let to = body["toSeq"].as_u64().expect("toSeq");
        let head = body["headSeq"].as_u64().expect("headSeq");
        assert_eq!(to, state.seq, "toSeq is the last entry's seq: {body}");
        if to >= head {
            return Follow::Applied(applied);
        }
        assert!(
            !entries.is_empty(),
            "no entries though toSeq < headSeq: {body}"
        );
    }
}

/// Holds `what` (seats, or a GA type and quantity) of `event` for test wallet `n`; returns `(hold id, token)`.
pub async fn hold(app: &App, event: &PublishedEvent, n: usize, what: Value) -> (String, String) {
    let token = app.token_for(&format!("0x{:040x}", 0x5000 + n), Role::User);
    let mut body = what;
    body["eventId"] = json!(event.id);
    let reply = app
        .send(Method::POST, "/v1/holds", Some(&token), Some(body), &[])
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    (
        reply.body["holdId"].as_str().expect("holdId").to_owned(),
        token,
    )
}

/// The page and its files through the runtime's host (and the contract proxy): types, the
/// strict policy; anything else is 404.
pub async fn page_files_are_served(app: &App, event_id: &str) {
    for (path, content_type) in [
        (format!("/events/{event_id}/live"), "text/html"),
        ("/live/app.js".to_owned(), "text/javascript"),
        ("/live/state.js".to_owned(), "text/javascript"),
        ("/live/app.css".to_owned(), "text/css"),
    ] {
        let reply = app.send(Method::GET, &path, None, None, &[]).await;
        assert_eq!(reply.status, 200, "{path}");
        let got = reply.header("content-type").unwrap_or_default();
        assert!(got.starts_with(content_type), "{path}: {got}");
        let policy = reply.header("content-security-policy").unwrap_or_default();
        assert!(
            policy.starts_with("default-src 'none'; script-src 'self';"),
            "{policy}"
        );
        assert!(
            policy.contains("connect-src 'self'") && !policy.contains("unsafe"),
            "{policy}"
        );
    }
    for path in ["/live/nope.js", "/events/nope/live"] {
        let reply = app.send(Method::GET, path, None, None, &[]).await;
        reply.assert_error(404, "ROUTE_NOT_FOUND", None);
    }
}
