//! One ticket's whole life, walked through the API on one runtime, with what each step cost on
//! the data services (the fronts' counters) and inside the component (`Server-Timing`). Used by
//! `make cost` (prints it) and by the e2e budget test (asserts it).
//!
//! The card path: SIWE challenge and verify, joining the waiting room (admitted at once, so
//! the join answers with the admission token), a seat hold, the order, the Stripe-signed
//! webhook, the QR code, the scan at the door. Outside the life, each priced on its own: a
//! queue status poll, a duplicate scan, and `/health`.

use crate::catalog::{EventSpec, publish_event, seat};
use crate::costs::Costs;
use crate::door::verifier_key;
use crate::payments::{now_ms, pay_by_card};
use crate::wallet::sign;
use crate::{App, Reply, Stack};
use reqwest::Method;
use serde_json::json;

/// What one step cost.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: &'static str,
    /// Whether the step is part of the card path's life (the totals) or priced alone.
    pub in_life: bool,
    pub invocations: u64,
    pub costs: Costs,
    /// Time inside the component, from `Server-Timing: app;dur=…`.
    pub wasm_ms: u64,
}

/// The sum of the life's steps.
pub fn life_total(steps: &[Step]) -> (u64, Costs) {
    steps
        .iter()
        .filter(|s| s.in_life)
        .fold((0, Costs::default()), |(n, total), s| {
            (n + s.invocations, total + s.costs)
        })
}

/// The two walks [`card_life`] makes.
pub struct Lives {
    /// The first life on a fresh stack: scripts not yet cached in Redis (EVALSHA, NOSCRIPT,
    /// EVAL), the event's catalog, deny list and inventory not yet in Redis.
    pub cold: Vec<Step>,
    /// A second buyer's life on the same event: the steady state of a sale.
    pub warm: Vec<Step>,
}

/// Walks the card path twice on `app` (two buyers, one event), returning each step's cost.
pub async fn card_life(stack: &Stack, app: &App) -> Lives {
    // Set-up, not counted: an event on sale behind a waiting room that admits at once.
    let started = now_ms() - 1_000;
    let mut spec = EventSpec::new(4, 0);
    let sale = json!({
        "startsAt": started, "endsAt": started + 3_600_000,
        "admissionPerMinute": 6000, "maxActive": 100_000, "sessionSecs": 600,
        "waitingRoom": true, "queueMode": "fifo",
    });
    spec.sale = Some(sale);
    let event = publish_event(app, &spec).await;
    let verifier = verifier_key(app, &event.id, "Gate A").await;
    let cold = life(stack, app, &event.id, &verifier, 0).await;
    let warm = life(stack, app, &event.id, &verifier, 1).await;
    Lives { cold, warm }
}

/// Buyer `n`'s life: wallet key `n`, seat `n`.
async fn life(stack: &Stack, app: &App, event_id: &str, verifier: &str, n: usize) -> Vec<Step> {
    let mut walk = Walk {
        stack,
        app,
        steps: Vec::new(),
    };
    let wallet_key = format!("0x{:064x}", 0x1111 + n);
    let event_id = event_id.to_owned();
    let verifier = verifier.to_owned();
    let signer = sign(&wallet_key, "").await;
    let address = signer["address"].as_str().expect("address").to_owned();
    let challenge = walk
        .step("SIWE challenge", true, |app| async move {
            app.send(
                Method::POST,
                "/v1/auth/siwe/challenge",
                None,
                Some(json!({"address": address, "chainId": 31337})),
                &[],
            )
            .await
        })
        .await;
    let message = challenge.body["message"]
        .as_str()
        .expect("message")
        .to_owned();
    let signature = sign(&wallet_key, &message).await["signature"]
        .as_str()
        .expect("signature")
        .to_owned();
    let login = walk
        .step("SIWE verify", true, |app| async move {
            app.send(
                Method::POST,
                "/v1/auth/siwe/verify",
                None,
                Some(json!({"message": message, "signature": signature})),
                &[],
            )
            .await
        })
        .await;
    let token = login.body["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();

    let queue = format!("/v1/sales/{event_id}/queue");
    let (t, q) = (token.clone(), queue.clone());
    let joined = walk
        .step("queue join", true, |app| async move {
            app.send(Method::POST, &q, Some(&t), None, &[]).await
        })
        .await;
    let admission = joined.body["admissionToken"]
        .as_str()
        .unwrap_or_else(|| panic!("admitted at the join: {}", joined.body))
        .to_owned();
    let ticket = joined.body["queueTicket"]
        .as_str()
        .expect("ticket")
        .to_owned();
    let status_path = format!("{queue}/status");
    walk.step("queue status (a poll)", false, |app| async move {
        app.send(
            Method::GET,
            &status_path,
            None,
            None,
            &[("x-queue-ticket", &ticket)],
        )
        .await
    })
    .await;

    let (t, a, e) = (token.clone(), admission.clone(), event_id.clone());
    let held = walk
        .step("hold", true, |app| async move {
            app.send(
                Method::POST,
                "/v1/holds",
                Some(&t),
                Some(json!({"eventId": e, "seats": [seat(n)]})),
                &[("x-admission-token", &a)],
            )
            .await
        })
        .await;
    let hold_id = held.body["holdId"].as_str().expect("hold").to_owned();
    let (t, a) = (token.clone(), admission.clone());
    let order = walk
        .step("order", true, |app| async move {
            app.send(
                Method::POST,
                "/v1/orders",
                Some(&t),
                Some(json!({"holdId": hold_id})),
                &[
                    ("x-admission-token", &a),
                    ("idempotency-key", &format!("cost-walk-{n}")),
                ],
            )
            .await
        })
        .await;
    let order_body = order.body.clone();
    let delivery = format!("evt_cost_{event_id}_{n}");
    walk.step("card payment (webhook)", true, |app| async move {
        pay_by_card(app, &order_body, &delivery).await
    })
    .await;

    // The ticket id, read outside the walk (the app shows it from the order's page).
    let mine = app
        .send(Method::GET, "/v1/me/tickets", Some(&token), None, &[])
        .await;
    let ticket_id = mine.body["items"][0]["ticketId"]
        .as_str()
        .unwrap_or_else(|| panic!("a ticket: {}", mine.body))
        .to_owned();
    let (t, qr_path) = (token.clone(), format!("/v1/tickets/{ticket_id}/qr"));
    let codes = walk
        .step("QR", true, |app| async move {
            app.send(Method::GET, &qr_path, Some(&t), None, &[]).await
        })
        .await;
    let code = codes.body["online"]["code"]
        .as_str()
        .or_else(|| codes.body["onlineCode"].as_str())
        .unwrap_or_else(|| panic!("an online code: {}", codes.body))
        .to_owned();
    for (name, in_life, nonce) in [
        ("scan at the door", true, format!("cost-walk-scan-{n}-1")),
        ("duplicate scan", false, format!("cost-walk-scan-{n}-2")),
    ] {
        let (v, c) = (verifier.clone(), code.clone());
        let scanned = walk
            .step(name, in_life, |app| async move {
                app.send(
                    Method::POST,
                    "/v1/checkin/scan",
                    None,
                    Some(json!({"code": c, "gate": "A", "deviceId": "walk",
                                "scannedAt": now_ms(), "nonce": nonce})),
                    &[("x-verifier-key", &v)],
                )
                .await
            })
            .await;
        let expected = if in_life { "ok" } else { "already_redeemed" };
        assert_eq!(scanned.body["result"], expected, "{name}: {}", scanned.body);
    }
    walk.step("GET /health", false, |app| async move {
        app.send(Method::GET, "/health", None, None, &[]).await
    })
    .await;
    walk.steps
}

struct Walk<'a> {
    stack: &'a Stack,
    app: &'a App,
    steps: Vec<Step>,
}

impl Walk<'_> {
    /// Runs one request and records what it cost, after-response work included: the counters
    /// are read once the fronts have been quiet for a moment.
    async fn step<'s, F, Fut>(&'s mut self, name: &'static str, in_life: bool, run: F) -> Reply
    where
        F: FnOnce(&'s App) -> Fut,
        Fut: std::future::Future<Output = Reply> + 's,
    {
        let before = settled(self.stack).await;
        let reply = run(self.app).await;
        assert!(
            reply.status < 300,
            "{name}: {} {}",
            reply.status,
            reply.body
        );
        let after = settled(self.stack).await;
        self.steps.push(Step {
            name,
            in_life,
            invocations: 1,
            costs: after.delta(before),
            wasm_ms: server_ms(&reply),
        });
        reply
    }
}

/// The Wasm's own time for `reply` (its `server-timing: app;dur=` header), 0 without one.
pub(crate) fn server_ms(reply: &Reply) -> u64 {
    reply
        .header("server-timing")
        .and_then(|v| v.strip_prefix("app;dur="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The counters once nothing has changed for 400 ms (work after the response has landed).
pub async fn settled(stack: &Stack) -> Costs {
    let mut last = stack.stats().await;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let now = stack.stats().await;
        if now == last {
            return now;
        }
        last = now;
    }
}

/// The table `make cost` prints (the card path's life, then the steps priced alone).
pub fn table(runtime: &str, steps: &[Step]) -> String {
    table_with_total(runtime, "= card path, whole life", steps)
}

/// The table with the total of the in-life steps labelled `total_label`.
pub fn table_with_total(runtime: &str, total_label: &str, steps: &[Step]) -> String {
    let mut out = format!(
        "\n{runtime}\n{:<28} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}\n",
        "step",
        "calls",
        "redis rt",
        "redis cmd",
        "sql rt",
        "stmts",
        "rows rd",
        "rows wr",
        "wasm ms"
    );
    let line = |name: &str, n: u64, c: &Costs, ms: String| {
        format!(
            "{name:<28} {n:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {ms:>8}\n",
            c.redis_requests,
            c.redis_commands,
            c.sql_requests,
            c.sql_statements,
            c.rows_read,
            c.rows_written
        )
    };
    for step in steps.iter().filter(|s| s.in_life) {
        out += &line(
            step.name,
            step.invocations,
            &step.costs,
            step.wasm_ms.to_string(),
        );
    }
    let (n, total) = life_total(steps);
    out += &line(total_label, n, &total, String::new());
    for step in steps.iter().filter(|s| !s.in_life) {
        out += &line(
            step.name,
            step.invocations,
            &step.costs,
            step.wasm_ms.to_string(),
        );
    }
    out
}
