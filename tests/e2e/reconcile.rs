//! Issue 11: the scheduled reconcile does a bounded amount of work per run and still visits
//! every event over successive runs; one event's reconcile sweeps a bounded number of expired
//! holds per call and repairs drift field by field. Runs the same code the functions run
//! (`functions::upkeep`), natively, against the real Redis and libSQL of the local stack.

use e2e::{Stack, unique};
use functions::upkeep::{UpkeepReport, reconcile_event, reconcile_next};
use serde_json::json;
use shared::domain::EventId;
use shared::ports::Redis;
use shared::redis::{Command, Value};
use std::collections::BTreeSet;

fn event(n: u32) -> EventId {
    EventId::parse(&format!("evt_{n:020x}")).expect("event id")
}

fn inventory_key(prefix: &str, event: &EventId, part: &str) -> String {
    format!("{prefix}inv:{{{}}}:{part}", event.as_str())
}

async fn run(stack: &Stack, prefix: &str, size: usize) -> UpkeepReport {
    let mut report = UpkeepReport::default();
    reconcile_next(&stack.redis(), &stack.sql(), prefix, size, &mut report)
        .await
        .expect("reconcile run");
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn successive_runs_reconcile_every_event_a_few_at_a_time() {
    let stack = Stack::start().await;
    let prefix = format!("{}:", unique("reconcile"));
    let (redis, sql) = (stack.redis(), stack.sql());
    let events: Vec<EventId> = (1..=7).map(event).collect();
    for id in &events {
        // Builds the (empty) inventory and registers the event, as a first hold would.
        reconcile_event(&redis, &sql, &prefix, id)
            .await
            .expect("load");
    }

    let mut picked = Vec::new();
    for _ in 0..3 {
        let report = run(&stack, &prefix, 3).await;
        assert!(report.reconciled_events.len() <= 3, "{report:?}");
        assert_eq!(report.events_known, 7, "{report:?}");
        assert!(
            report.errors.is_empty() && report.drift.is_empty(),
            "{report:?}"
        );
        picked.extend(report.reconciled_events);
    }
    // ceil(7 / 3) = 3 runs visit every event, none twice before all were visited once.
    let first_round: BTreeSet<&str> = picked.iter().take(7).map(String::as_str).collect();
    let all: BTreeSet<&str> = events.iter().map(EventId::as_str).collect();
    assert_eq!(first_round, all, "{picked:?}");

    // An event registered later goes first.
    let late = event(99);
    reconcile_event(&redis, &sql, &prefix, &late)
        .await
        .expect("load");
    let report = run(&stack, &prefix, 1).await;
    assert_eq!(report.reconciled_events, [late.as_str()]);
    assert_eq!(report.events_known, 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconcile_sweeps_a_bounded_number_of_holds_and_repairs_drift() {
    let stack = Stack::start().await;
    let prefix = format!("{}:", unique("reconcile"));
    let (redis, sql) = (stack.redis(), stack.sql());
    let id = event(1);
    reconcile_event(&redis, &sql, &prefix, &id)
        .await
        .expect("load");

    // 250 holds that expired an hour ago, and drift: a seat Redis calls sold that libSQL never
    // sold, and a sold counter libSQL does not know.
    let expiry = inventory_key(&prefix, &id, "expiry");
    let mut commands = Vec::new();
    for n in 0..250 {
        let hold = format!("hld_{n:04}");
        commands.push(
            Command::new("HSET")
                .arg(format!("{prefix}hold:{hold}"))
                .arg("wallet")
                .arg("0xabc")
                .arg("event")
                .arg(id.as_str())
                .arg("items")
                .arg(json!([["tt_x", "", 1]]).to_string()),
        );
        commands.push(Command::new("ZADD").arg(&expiry).arg(1_000).arg(&hold));
    }
    commands.push(
        Command::new("HSET")
            .arg(inventory_key(&prefix, &id, "seats"))
            .arg("A-1")
            .arg("sold"),
    );
    commands.push(
        Command::new("HSET")
            .arg(inventory_key(&prefix, &id, "stock"))
            .arg("tt_y:sold")
            .arg(3),
    );
    redis.pipeline(commands).await.expect("seed");

    let first = run(&stack, &prefix, 10).await;
    assert_eq!(first.holds_swept, 200, "bounded sweep: {first:?}");
    let drift = first.drift.first().expect("drift found");
    assert_eq!(drift.seats, [json!(["A-1", "sold", "free"])]);
    assert!(
        drift.stock.contains(&json!(["tt_y:sold", 3, 0])),
        "{:?}",
        drift.stock
    );
    // The 50 holds not swept yet still count as held, so the counters stay exact.
    let held = redis
        .exec(
            Command::new("HGET")
                .arg(inventory_key(&prefix, &id, "stock"))
                .arg("tt_x:held"),
        )
        .await
        .expect("hget");
    assert_eq!(held.as_i64(), Some(50));

    let second = run(&stack, &prefix, 10).await;
    assert_eq!(second.holds_swept, 50, "{second:?}");
    assert!(second.drift.is_empty(), "repaired: {second:?}");
    let left = redis
        .exec(Command::new("ZCARD").arg(&expiry))
        .await
        .expect("zcard");
    assert_eq!(left, Value::Int(0));
}
