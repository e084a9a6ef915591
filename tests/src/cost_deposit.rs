//! The on-chain deposit payment's cost, apart from the card path: a GA hold and its order
//! priced in ETH, `PaymentVault.deposit(orderRef)` on anvil, then the indexer tick that sees
//! the deposit and pays the order. The tick is an invocation of its own (the Workers cron, or
//! `POST /internal/cron/indexer` on Spin); it also runs the sale's upkeep.

use crate::catalog::{EventSpec, publish_event};
use crate::chain::{DEV_KEYS, chain_cmd};
use crate::cost::{Step, server_ms, settled};
use crate::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;

const BUYER: &str = "0x00000000000000000000000000000000000c0001";

/// Deploys the contracts, spawns an App of `runtime` that indexes them, and walks one deposit
/// payment; the figures are those of a sale's steady state (a first order warms up).
pub async fn deposit_life(stack: &Stack, runtime: Runtime) -> Vec<Step> {
    let contracts = chain_cmd(&stack.rpc_url, "deploy", &[]).await;
    let addresses = format!(
        "{},{},{}",
        contracts["ticket"].as_str().expect("ticket"),
        contracts["market"].as_str().expect("market"),
        contracts["vault"].as_str().expect("vault")
    );
    let start = contracts["deployBlock"].to_string();
    let app = App::spawn(
        runtime,
        stack,
        &[
            ("INDEXER_CONTRACTS", addresses.as_str()),
            ("INDEXER_START_BLOCK", start.as_str()),
            ("METRICS_FLUSH_SECS", "3600"),
        ],
    )
    .await;
    let spec = EventSpec {
        title: "Chain sale",
        ga_price: "1000",
        currency: "ETH",
        ..EventSpec::new(0, 10)
    };
    let event = publish_event(&app, &spec).await;
    let ga = event.ga().to_owned();
    let contracts_json = contracts.to_string();
    let mut steps = Vec::new();
    for n in 0..2 {
        let token = app.token_for(BUYER, Role::User);
        let mut step = |name: &'static str, reply_costs: (crate::costs::Costs, u64)| {
            steps.push(Step {
                name,
                in_life: true,
                invocations: 1,
                costs: reply_costs.0,
                wasm_ms: reply_costs.1,
            });
        };
        let before = settled(stack).await;
        let held = app
            .send(
                Method::POST,
                "/v1/holds",
                Some(&token),
                Some(json!({"eventId": event.id, "ticketTypeId": ga, "quantity": 1})),
                &[],
            )
            .await;
        assert_eq!(held.status, 201, "{}", held.body);
        let after = settled(stack).await;
        let hold_costs = (after.delta(before), server_ms(&held));
        let before = settled(stack).await;
        let order = app
            .send(
                Method::POST,
                "/v1/orders",
                Some(&token),
                Some(json!({"holdId": held.body["holdId"]})),
                &[("idempotency-key", &format!("deposit-{n}"))],
            )
            .await;
        assert_eq!(order.status, 201, "{}", order.body);
        let after = settled(stack).await;
        let order_costs = (after.delta(before), server_ms(&order));
        chain_cmd(
            &stack.rpc_url,
            "deposit",
            &[
                "--addresses",
                &contracts_json,
                "--order-ref",
                order.body["orderRef"].as_str().expect("ref"),
                "--value-wei",
                "1000",
                "--from-key",
                DEV_KEYS[4],
            ],
        )
        .await;
        let before = settled(stack).await;
        let tick = app.trigger_cron_http().await;
        let timing = tick
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("app;dur="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let report: Value = tick.json().await.expect("tick report");
        let after = settled(stack).await;
        let status = app
            .send(
                Method::GET,
                &format!("/v1/orders/{}", order.body["orderId"].as_str().expect("id")),
                Some(&token),
                None,
                &[],
            )
            .await;
        assert_eq!(status.body["status"], "paid", "tick: {report}");
        if n == 1 {
            step("hold (GA, ETH)", hold_costs);
            step("order", order_costs);
            step("indexer tick (deposit paid)", (after.delta(before), timing));
        }
    }
    steps
}
