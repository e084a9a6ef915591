//! A client making random availability changes for the change-log property test: holds (seat
//! lists and GA quantities), releases, expiries, sales (hold, order, signed card payment) and
//! refunds, each checked against the answers the API documents; and a watcher that follows the
//! change log from a snapshot while they do.
//!
//! Expiry, two ways. The event's holds last 30 s (the shortest the sale settings allow), so
//! holds the clients keep run out during the run by themselves. That alone would expire few
//! holds, so an "expire" operation also moves one hold's deadline in the inventory's expiry
//! zset into the past, which is what time passing does; the scripts' own sweep then releases
//! it (on the next script run of any client or snapshot), as it releases a hold that ran out.

use crate::catalog::{ORGANIZER, PublishedEvent, availability, seat};
use crate::live::{Follow, LiveState, follow};
use crate::payments::pay_by_card;
use crate::{App, Stack, unique};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use shared::redis::Command;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The hold lifetime of the test event (`holdTtlSecs`): a release after this may find the
/// hold expired.
pub const HOLD_TTL: Duration = Duration::from_secs(30);

/// splitmix64: small, seedable, and the same sequence everywhere (no dependency needed).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The generator for `seed` (print it: the same seed replays the same run).
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// What a client shares with the others.
pub struct Shared<'a> {
    pub app: &'a App,
    /// For the expiry zset (Redis, behind the app's back).
    pub stack: &'a Stack,
    /// An event with seats and a GA type.
    pub event: &'a PublishedEvent,
    /// How many seats it has (`seat(0)`…).
    pub seats: usize,
    /// The event's expiry zset (`{prefix}inv:{{event}}:expiry`).
    pub expiry_key: String,
    /// Operations done by all clients so far (watchers start after a share of them).
    pub done: AtomicUsize,
}

struct Held {
    id: String,
    token: String,
    at: Instant,
}

/// One client: its own wallets, holds and paid orders.
pub struct Client<'a> {
    shared: &'a Shared<'a>,
    n: usize,
    rng: Rng,
    next_wallet: usize,
    holds: Vec<Held>,
    paid: Vec<String>,
    /// Operation (and outcome) → how many times.
    pub tally: BTreeMap<String, usize>,
}

impl<'a> Client<'a> {
    /// Client `n` (its wallets are its own), drawing from `seed`.
    pub fn new(shared: &'a Shared<'a>, n: usize, seed: u64) -> Self {
        Client {
            shared,
            n,
            rng: Rng::new(seed),
            next_wallet: 0,
            holds: Vec::new(),
            paid: Vec::new(),
            tally: BTreeMap::new(),
        }
    }

    /// Makes `ops` random changes, one after another.
    pub async fn run(&mut self, ops: usize) {
        for _ in 0..ops {
            let roll = self.rng.below(100);
            match roll {
                // Few live holds: hold more; many: let some go.
                _ if self.holds.len() < 2 && roll < 60 => self.hold().await,
                0..=34 => self.hold().await,
                35..=59 if !self.holds.is_empty() => self.release().await,
                60..=74 if !self.holds.is_empty() => self.expire().await,
                75..=84 if !self.paid.is_empty() => self.refund().await,
                85..=94 => self.sale().await,
                _ if self.holds.len() > 6 => self.release().await,
                _ => self.hold().await,
            }
            self.shared.done.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn count(&mut self, what: &str) {
        *self.tally.entry(what.to_owned()).or_default() += 1;
    }

    /// A fresh wallet per hold, so no per-wallet limit ever refuses one.
    fn wallet_token(&mut self) -> String {
        self.next_wallet += 1;
        let wallet = format!("0x{:08x}{:032x}", 0x1100 + self.n, self.next_wallet);
        self.shared.app.token_for(&wallet, Role::User)
    }

    /// A hold body: 1 to 3 random seats, or 1 to 3 GA units.
    fn hold_body(&mut self) -> Value {
        let event = &self.shared.event;
        if self.rng.below(3) == 0 {
            let quantity = 1 + self.rng.below(3);
            json!({"eventId": event.id, "ticketTypeId": event.ga(), "quantity": quantity})
        } else {
            let seats: Vec<String> = (0..1 + self.rng.below(3))
                .map(|_| seat(self.rng.below(self.shared.seats)))
                .collect();
            let mut unique = seats.clone();
            unique.sort();
            unique.dedup();
            json!({"eventId": event.id, "seats": unique})
        }
    }

    /// Holds; returns the hold when one was made (a 409 for taken seats or sold-out GA is an
    /// answer like any other here).
    async fn try_hold(&mut self, what: &str) -> Option<Held> {
        let token = self.wallet_token();
        let body = self.hold_body();
        let reply = self
            .shared
            .app
            .send(Method::POST, "/v1/holds", Some(&token), Some(body), &[])
            .await;
        match (reply.status, reply.body["error_code"].as_str()) {
            (201, _) => {
                self.count(&format!("{what} 201"));
                let id = reply.body["holdId"].as_str().expect("holdId").to_owned();
                Some(Held {
                    id,
                    token,
                    at: Instant::now(),
                })
            }
            (409, Some(code @ ("SEATS_UNAVAILABLE" | "SOLD_OUT"))) => {
                self.count(&format!("{what} 409 {code}"));
                None
            }
            (status, _) => panic!("{what}: {status} {}", reply.body),
        }
    }

    async fn hold(&mut self) {
        if let Some(held) = self.try_hold("hold").await {
            self.holds.push(held);
        }
    }

    fn take_hold(&mut self) -> Held {
        let at = self.rng.below(self.holds.len());
        self.holds.swap_remove(at)
    }

    async fn release(&mut self) {
        let held = self.take_hold();
        let path = format!("/v1/holds/{}", held.id);
        let reply = self
            .shared
            .app
            .send(Method::DELETE, &path, Some(&held.token), None, &[])
            .await;
        // A hold that outlived its TTL was expired (swept, or released by this very call).
        if reply.status == 404 && held.at.elapsed() >= HOLD_TTL - Duration::from_secs(1) {
            reply.assert_error(404, "HOLD_NOT_FOUND", None);
            self.count("release 404 (ran out)");
            return;
        }
        assert_eq!(reply.status, 200, "release {}: {}", held.id, reply.body);
        self.count("release 200");
    }

    async fn expire(&mut self) {
        let held = self.take_hold();
        let command = Command::new("ZADD")
            .arg(&self.shared.expiry_key)
            .arg("XX")
            .arg(1)
            .arg(&held.id);
        shared::ports::Redis::exec(&self.shared.stack.redis(), command)
            .await
            .expect("redis");
        self.count("expire");
    }

    async fn sale(&mut self) {
        let Some(held) = self.try_hold("sale: hold").await else {
            return;
        };
        let app = self.shared.app;
        let key = unique("live-order");
        let order = app
            .send_idempotent(
                Method::POST,
                "/v1/orders",
                Some(&held.token),
                Some(json!({"holdId": held.id})),
                &[("idempotency-key", key.as_str())],
            )
            .await;
        assert_eq!(order.status, 201, "order: {}", order.body);
        let paid = pay_by_card(app, &order.body, &format!("evt_{}", unique("livepay"))).await;
        assert_eq!(paid.status, 200, "webhook: {}", paid.body);
        let id = order.body["orderId"].as_str().expect("orderId").to_owned();
        self.paid.push(id);
        self.count("sale paid");
    }

    async fn refund(&mut self) {
        let at = self.rng.below(self.paid.len());
        let order = self.paid.swap_remove(at);
        let organizer = self.shared.app.token_for(ORGANIZER, Role::Organizer);
        let path = format!("/v1/orders/{order}/refund");
        let reply = self
            .shared
            .app
            .send(Method::POST, &path, Some(&organizer), Some(json!({})), &[])
            .await;
        assert_eq!(reply.status, 200, "refund {order}: {}", reply.body);
        self.count("refund 200");
    }
}

/// A watcher: waits until `start_after` operations are done, takes a snapshot, then follows
/// `/updates` (pages of `limit`) until it has reached `target` (set once the clients are done).
pub async fn watch(
    shared: &Shared<'_>,
    start_after: usize,
    limit: usize,
    target: &AtomicU64,
) -> (LiveState, Vec<Value>) {
    while shared.done.load(Ordering::Relaxed) < start_after {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let event = &shared.event.id;
    let mut state = LiveState::from_snapshot(&availability(shared.app, event).await);
    let start = state.seq;
    let mut applied: Vec<Value> = Vec::new();
    loop {
        let want = target.load(Ordering::Acquire);
        match follow(shared.app, event, &mut state, limit).await {
            Follow::Applied(entries) => applied.extend(entries),
            Follow::TooOld => panic!("watcher from seq {start}: SEQ_TOO_OLD at {}", state.seq),
        }
        if want != 0 && state.seq >= want {
            let first = applied.first().and_then(|e| e["seq"].as_u64());
            assert!(
                first.is_none_or(|s| s == start + 1),
                "first entry after {start}: {first:?}"
            );
            return (state, applied);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
