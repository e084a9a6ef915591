//! What a ticket costs, as budgets: the card path's whole life (`e2e::cost::card_life`) on
//! each runtime must spend exactly these round trips, commands and statements. The counts are
//! deterministic, so a change that adds a hop fails here; `make cost` prints the same walk.

use e2e::cost::{Step, card_life, life_total, table};
use e2e::costs::Costs;
use e2e::{App, Runtime, Stack};

/// A step's figures: Redis round trips, Redis commands, libSQL round trips, statements.
type Figures = (u64, u64, u64, u64);

fn budget(step: &Step) -> Figures {
    let c = step.costs;
    (
        c.redis_requests,
        c.redis_commands,
        c.sql_requests,
        c.sql_statements,
    )
}

/// The budgets per step in a sale's steady state (after-response work included), as
/// (Redis round trips, Redis commands, libSQL round trips, statements). On wasmtime serve every
/// request is a new instance, so its metrics sample is flushed after the response: one more
/// command, in the deferred pipeline when the route has one, else one more round trip.
const WORKERD: &[(&str, Figures)] = &[
    ("SIWE challenge", (1, 1, 0, 0)),
    // The user upsert and the session's durable row (issue 13: a Redis loss must not reopen
    // a logged-out session), two statements in the one libSQL round trip.
    ("SIWE verify", (1, 1, 1, 2)),
    ("queue join", (1, 1, 0, 0)),
    ("hold", (1, 1, 0, 0)),
    // The order's script, then its idempotent response stored after the response.
    ("order", (2, 2, 1, 4)),
    // One read (event seen?, order and items in one statement), one atomic write (BEGIN,
    // event row, order paid, guard, tickets, COMMIT).
    ("card payment (webhook)", (1, 1, 2, 7)),
    // Issue the pass if none is live, read the ticket and its pass: two statements, one trip.
    ("QR", (1, 1, 1, 2)),
    // The scan's script, the admission's atomic write, the lock confirmed after the response.
    ("scan at the door", (2, 2, 1, 7)),
    ("queue status (a poll)", (1, 1, 0, 0)),
    ("duplicate scan", (1, 1, 0, 0)),
    ("GET /health", (0, 0, 0, 0)),
];
const WASMTIME: &[(&str, Figures)] = &[
    ("SIWE challenge", (2, 2, 0, 0)),
    ("SIWE verify", (2, 2, 1, 2)),
    ("queue join", (2, 2, 0, 0)),
    ("hold", (2, 2, 0, 0)),
    ("order", (2, 3, 1, 4)),
    ("card payment (webhook)", (2, 2, 2, 7)),
    ("QR", (2, 2, 1, 2)),
    ("scan at the door", (2, 3, 1, 7)),
    ("queue status (a poll)", (2, 2, 0, 0)),
    ("duplicate scan", (2, 2, 0, 0)),
    ("GET /health", (0, 0, 0, 0)),
];

async fn budgets(runtime: Runtime) {
    let stack = Stack::start().await;
    // Metrics are flushed per instance; for a deterministic bill they are held back here
    // (their own cost is one EVALSHA per flush, see README).
    let app = App::spawn(runtime, &stack, &[("METRICS_FLUSH_SECS", "3600")]).await;
    let steps = card_life(&stack, &app).await.warm;
    let printed = table(&format!("{runtime:?}"), &steps);
    println!("{printed}");
    let expected_steps = match runtime {
        Runtime::Workerd => WORKERD,
        Runtime::Wasmtime => WASMTIME,
    };
    for (name, expected) in expected_steps {
        let step = steps
            .iter()
            .find(|s| s.name == *name)
            .unwrap_or_else(|| panic!("no step {name}"));
        assert_eq!(
            budget(step),
            *expected,
            "{name}: (redis rt, redis cmd, sql rt, statements)\n{printed}"
        );
    }
    // The whole-life budget: at most 8 invocations and 12 Redis commands (workerd;
    // on wasmtime serve the per-request metrics flush adds one command per invocation).
    let (invocations, total): (u64, Costs) = life_total(&steps);
    assert_eq!(invocations, 8, "{printed}");
    let metrics = match runtime {
        Runtime::Workerd => 0,
        Runtime::Wasmtime => invocations,
    };
    assert!(total.redis_commands - metrics <= 12, "{printed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_budgets() {
    budgets(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_budgets() {
    budgets(Runtime::Wasmtime).await;
}
