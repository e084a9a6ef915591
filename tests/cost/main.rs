//! `make cost`: one ticket's whole life through the release Wasm on workerd and on wasmtime
//! serve, printing per step what it cost: invocations, Redis round trips and commands (as
//! Upstash bills them), libSQL round trips, statements and rows (as Turso bills them), and
//! the time inside the component. The same walk is asserted as budgets by the e2e test
//! `cost::budgets`.

use e2e::cost::{card_life, table, table_with_total};
use e2e::cost_deposit::deposit_life;
use e2e::{App, Runtime, Stack};

#[tokio::main]
async fn main() {
    for (name, runtime) in [
        ("workerd", Runtime::Workerd),
        ("wasmtime serve", Runtime::Wasmtime),
    ] {
        let stack = Stack::start().await;
        // Metrics are flushed per instance every 10 s (see README); held back here so the
        // figures are each request's own. On wasmtime serve every request is a new instance
        // and flushes its sample after the response: one more round trip and command per step.
        let app = App::spawn(runtime, &stack, &[("METRICS_FLUSH_SECS", "3600")]).await;
        let lives = card_life(&stack, &app).await;
        print!(
            "{}",
            table(
                &format!("{name}: a sale's steady state (second buyer)"),
                &lives.warm
            )
        );
        print!(
            "{}",
            table(
                &format!("{name}: the first buyer on a cold Redis"),
                &lives.cold
            )
        );
        let deposit = deposit_life(&stack, runtime).await;
        print!(
            "{}",
            table_with_total(
                &format!("{name}: paying on chain (PaymentVault deposit, second order)"),
                "= deposit path",
                &deposit
            )
        );
    }
    println!(
        "\nredis rt / sql rt: HTTP round trips to Upstash / Turso (after-response work included);\n\
         redis cmd: commands as Upstash bills them (EVALSHA = 1); stmts, rows: as the libSQL\n\
         engine counts them (BEGIN/COMMIT of an atomic batch included)."
    );
}
