//! The chain indexer end to end: the release Wasm on workerd, driven by its cron trigger (and
//! on Spin by the HTTP trigger), indexing the real contracts on anvil into the libSQL front,
//! through chaos proxies in front of anvil and of the Hrana front. After every story the
//! projections must equal the consistency checker's rebuild from the raw logs, and the raw
//! logs must be exactly the chain's logs. The reorg stories are in `indexer_reorg.rs`.

use e2e::catalog::{EventSpec, publish_event};
use e2e::chain::{DEV_ADDRESSES, DEV_KEYS, chain_cmd, head, rpc};
use e2e::proxy::{Mode, Proxy};
use e2e::{App, Runtime, Stack, root};
use serde_json::{Value, json};
use shared::ports::Sql;
use shared::sql::Statement;
use std::time::{Duration, Instant};

/// A deployed chain, the chaos proxies in front of anvil and of the Hrana front, and the
/// release Wasm indexing through them.
pub(crate) struct Chain {
    pub(crate) stack: Stack,
    pub(crate) rpc_proxy: Proxy,
    pub(crate) sql_proxy: Proxy,
    pub(crate) contracts: Value,
    pub(crate) app: App,
}

impl Chain {
    pub(crate) async fn start(runtime: Runtime, env: &[(&str, &str)]) -> Chain {
        let stack = Stack::start().await;
        let contracts = chain_cmd(&stack.rpc_url, "deploy", &[]).await;
        let rpc_proxy = Proxy::start(&stack.rpc_url).await;
        let sql_proxy = Proxy::start(&stack.libsql_url).await;
        let addresses = format!(
            "{},{},{}",
            contracts["ticket"].as_str().expect("ticket"),
            contracts["market"].as_str().expect("market"),
            contracts["vault"].as_str().expect("vault")
        );
        let start = contracts["deployBlock"].to_string();
        let mut all = vec![
            ("RPC_URL", rpc_proxy.url.as_str()),
            ("LIBSQL_URL", sql_proxy.url.as_str()),
            ("INDEXER_CONTRACTS", addresses.as_str()),
            ("INDEXER_START_BLOCK", start.as_str()),
            ("INDEXER_MAX_LAG_BLOCKS", "5"),
        ];
        all.extend_from_slice(env);
        let app = App::spawn(runtime, &stack, &all).await;
        Chain {
            stack,
            rpc_proxy,
            sql_proxy,
            contracts,
            app,
        }
    }

    pub(crate) fn addresses(&self) -> String {
        self.contracts.to_string()
    }

    pub(crate) async fn cursor(&self) -> Option<u64> {
        let rows = self
            .stack
            .sql()
            .execute(Statement::new(
                "SELECT last_block FROM indexer_cursor WHERE chain_id = 31337",
            ))
            .await
            .expect("cursor query");
        rows.row(0)
            .map(|r| r.get::<i64>("last_block").expect("block") as u64)
    }

    /// One tick through the runtime's trigger; on Spin returns the report.
    pub(crate) async fn tick(&self) -> Option<Value> {
        let response = self.app.trigger_cron().await;
        match self.app.runtime {
            Runtime::Wasmtime => Some(response.json().await.expect("report")),
            Runtime::Workerd => None,
        }
    }

    /// The indexed block and its hash.
    pub(crate) async fn cursor_with_hash(&self) -> Option<(u64, String)> {
        let rows = self
            .stack
            .sql()
            .execute(Statement::new(
                "SELECT last_block, last_block_hash FROM indexer_cursor WHERE chain_id = 31337",
            ))
            .await
            .expect("cursor query");
        rows.row(0).map(|r| {
            let hash: Option<String> = r.get("last_block_hash").expect("hash");
            (
                r.get::<i64>("last_block").expect("block") as u64,
                hash.unwrap_or_default(),
            )
        })
    }

    /// Ticks (at least once) until the cursor is the chain's current head block, hash included
    /// (after a reorg to the same height only the hash differs); returns how many ticks it took.
    pub(crate) async fn catch_up(&self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut ticks = 0;
        loop {
            self.tick().await;
            ticks += 1;
            let target = head(&self.stack.rpc_url).await;
            let block = rpc(
                &self.stack.rpc_url,
                "eth_getBlockByNumber",
                json!([format!("{target:#x}"), false]),
            )
            .await;
            let head_hash = block["hash"].as_str().unwrap_or_default().to_owned();
            if self.cursor_with_hash().await == Some((target, head_hash)) {
                return ticks;
            }
            assert!(
                Instant::now() < deadline,
                "indexer did not reach {target}; cursor {:?}",
                self.cursor().await
            );
        }
    }

    pub(crate) async fn count(&self, sql: &str) -> i64 {
        let rows = self
            .stack
            .sql()
            .execute(Statement::new(sql))
            .await
            .expect("count");
        rows.row(0).expect("row").get::<i64>("n").expect("n")
    }

    /// The indexer checker's report (`ops::indexer::check`): projections vs their rebuild from
    /// the raw logs.
    pub(crate) async fn check(&self) -> ops::indexer::CheckReport {
        let (_, token) = self.stack.tokens();
        ops::indexer::check(
            &self.stack.libsql_url,
            Some(token),
            31337,
            &root().join("migrations"),
        )
        .await
        .expect("checker runs")
    }

    /// Projections equal their rebuild; raw logs are exactly the chain's logs up to the cursor.
    pub(crate) async fn assert_consistent(&self) {
        let report = self.check().await;
        assert!(
            report.consistent(),
            "projections differ from the rebuild: {:#?}",
            report.tables
        );
        let cursor = self.cursor().await.expect("cursor");
        let on_chain = rpc(
            &self.stack.rpc_url,
            "eth_getLogs",
            json!([{"address": [self.contracts["ticket"], self.contracts["market"], self.contracts["vault"]],
                    "fromBlock": format!("{:#x}", self.contracts["deployBlock"].as_u64().expect("block")),
                    "toBlock": format!("{cursor:#x}")}]),
        )
        .await;
        let on_chain = on_chain.as_array().map_or(0, Vec::len) as i64;
        assert_eq!(
            self.count("SELECT count(*) AS n FROM raw_logs").await,
            on_chain,
            "raw logs vs chain"
        );
        assert_eq!(report.raw_logs as i64, on_chain);
    }

    /// An order of `total` wei waiting for payment (with the catalog rows it references).
    pub(crate) async fn pending_order(&self, id: &str, order_ref: &str, total: &str) {
        self.stack
            .sql()
            .batch_atomic(vec![
                Statement::new("INSERT OR IGNORE INTO users (wallet, role, created_at) VALUES ('0xorganizer', 'organizer', 0)"),
                Statement::new(
                    "INSERT OR IGNORE INTO events (id, organizer, title, starts_at, ends_at, created_at, updated_at)
                     VALUES ('evt_x', '0xorganizer', 'x', 0, 1, 0, 0)",
                ),
                Statement::new(
                    "INSERT INTO orders (id, order_ref, event_id, payer, status, total, currency, payment_deadline, created_at, updated_at)
                     VALUES (?, ?, 'evt_x', '0x0', 'pending_payment', ?, 'ETH', 4102444800000, 0, 0)",
                )
                .bind(id)
                .bind(order_ref)
                .bind(total),
            ])
            .await
            .expect("order inserted");
    }

    /// `PaymentVault.deposit(order_ref)` of `wei` from dev account 4.
    pub(crate) async fn deposit(&self, order_ref: &str, wei: &str) {
        chain_cmd(
            &self.stack.rpc_url,
            "deposit",
            &[
                "--addresses",
                &self.addresses(),
                "--order-ref",
                order_ref,
                "--value-wei",
                wei,
                "--from-key",
                DEV_KEYS[4],
            ],
        )
        .await;
    }

    pub(crate) async fn owner_of(&self, token: &str) -> Option<String> {
        let rows = self
            .stack
            .sql()
            .execute(Statement::new("SELECT owner FROM tickets WHERE token_id = ?").bind(token))
            .await
            .expect("query");
        rows.row(0)
            .map(|r| r.get::<String>("owner").expect("owner"))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_cron_indexes_the_story_exactly() {
    let chain = Chain::start(Runtime::Workerd, &[]).await;
    let truth = chain_cmd(
        &chain.stack.rpc_url,
        "scenario",
        &["--addresses", &chain.addresses()],
    )
    .await;
    // An order waiting for the on-chain deposit of "order-1001" (and one refunded).
    let deposits = truth["deposits"].as_array().expect("deposits");
    let refs: Vec<&str> = deposits
        .iter()
        .filter_map(|d| d["orderRef"].as_str())
        .collect();
    for (i, deposit) in deposits.iter().enumerate() {
        let order_ref = deposit["orderRef"].as_str().expect("ref");
        let amount = deposit["amount"].as_str().expect("amount");
        chain
            .pending_order(&format!("ord_{i}"), order_ref, amount)
            .await;
    }
    chain.catch_up().await;

    for ticket in truth["tickets"].as_array().expect("tickets") {
        let token = ticket["tokenId"].as_str().expect("id");
        let response = chain.app.get(&format!("/v1/tickets/{token}")).await;
        assert_eq!(response.status(), 200, "ticket {token}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["owner"], ticket["owner"], "owner of {token}");
        assert_eq!(body["status"], ticket["status"], "status of {token}");
        assert_eq!(body["eventId"], ticket["eventId"]);
    }
    for listing in truth["listings"].as_array().expect("listings") {
        let id = listing["listingId"].as_str().expect("id");
        let body: Value = chain
            .app
            .get(&format!("/v1/market/listings/{id}"))
            .await
            .json()
            .await
            .expect("json");
        let status = match listing["status"].as_str() {
            Some("active") => "listed",
            other => other.expect("status"),
        };
        assert_eq!(body["status"], status, "listing {id}");
        assert_eq!(body["seller"], listing["seller"]);
        assert_eq!(body["price"], listing["price"]);
    }
    assert_eq!(
        chain.count("SELECT count(*) AS n FROM deposits").await,
        refs.len() as i64
    );
    assert_eq!(
        chain.count("SELECT count(*) AS n FROM refunds").await,
        truth["refunds"].as_array().map_or(0, Vec::len) as i64
    );
    let refunded: Vec<&str> = truth["refunds"]
        .as_array()
        .expect("refunds")
        .iter()
        .filter_map(|r| r["orderRef"].as_str())
        .collect();
    for order_ref in &refs {
        let rows = chain
            .stack
            .sql()
            .execute(
                Statement::new("SELECT status FROM orders WHERE order_ref = ?").bind(*order_ref),
            )
            .await
            .expect("order");
        let expected = if refunded.contains(order_ref) {
            "refunded"
        } else {
            "paid"
        };
        assert_eq!(
            rows.row(0).expect("row").get::<String>("status"),
            Ok(expected.to_owned()),
            "{order_ref}"
        );
    }
    chain.assert_consistent().await;

    let metrics = chain
        .app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics");
    let cursor = chain.cursor().await.expect("cursor");
    assert!(
        metrics.contains(&format!("indexer_last_block {cursor}\n")),
        "{metrics}"
    );
    assert!(metrics.contains("indexer_chain_lag 0\n"), "{metrics}");
    let ready: Value = chain.app.get("/ready").await.json().await.expect("ready");
    assert_eq!(ready["checks"]["indexer"]["status"], "up", "{ready}");
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_backfills_ten_thousand_logs_across_ticks() {
    let chain = Chain::start(Runtime::Workerd, &[("INDEXER_MAX_BLOCKS_PER_TICK", "600")]).await;
    let backfill = chain_cmd(
        &chain.stack.rpc_url,
        "backfill",
        &["--addresses", &chain.addresses(), "--events", "10000"],
    )
    .await;
    let logs = backfill["logs"].as_i64().expect("logs");
    let blocks =
        backfill["toBlock"].as_i64().expect("to") - backfill["fromBlock"].as_i64().expect("from");
    assert!(logs >= 10_000 && blocks >= 2_000, "{backfill}");
    let ticks = chain.catch_up().await;
    assert!(
        ticks >= 4,
        "2,000+ blocks at 600 per tick take several ticks, took {ticks}"
    );
    chain.assert_consistent().await;
    let in_range = chain
        .count(&format!(
            "SELECT count(*) AS n FROM raw_logs WHERE block_number BETWEEN {} AND {}",
            backfill["fromBlock"], backfill["toBlock"]
        ))
        .await;
    assert_eq!(in_range, logs);
}

/// The address of a dev key.
pub(crate) fn address_of(key: &str) -> String {
    let index = DEV_KEYS.iter().position(|k| *k == key).expect("a dev key");
    DEV_ADDRESSES[index].to_owned()
}

/// Provider faults through the chaos proxies: a provider refusing wide ranges, the RPC and
/// then libSQL going down mid-tick. Nothing is skipped, nothing half-written.
async fn recovers_from_provider_faults(runtime: Runtime) {
    let chain = Chain::start(runtime, &[("INDEXER_BATCH_BLOCKS", "50")]).await;
    chain_cmd(
        &chain.stack.rpc_url,
        "backfill",
        &[
            "--addresses",
            &chain.addresses(),
            "--events",
            "1000",
            "--blocks",
            "600",
        ],
    )
    .await;

    // A provider that refuses ranges over 20 blocks: the batch halves until it fits.
    chain.rpc_proxy.set(Mode::MaxLogRange(20));
    let first_target = head(&chain.stack.rpc_url).await;
    chain.tick().await;
    assert!(
        chain.rpc_proxy.refused_ranges() >= 2,
        "50 → 25 → 12 needs two refusals"
    );
    chain.rpc_proxy.set(Mode::Pass);
    chain.assert_consistent().await;

    // The RPC goes down in the middle of a tick: after the first batch's calls (cursor check,
    // head, header, logs, header = 5), the second batch fails half-way.
    chain_cmd(
        &chain.stack.rpc_url,
        "backfill",
        &[
            "--addresses",
            &chain.addresses(),
            "--events",
            "500",
            "--blocks",
            "400",
        ],
    )
    .await;
    let before = chain.cursor().await.expect("cursor");
    chain.rpc_proxy.set(Mode::DownAfter(7));
    chain.tick().await;
    let after = chain.cursor().await.expect("cursor");
    let target = head(&chain.stack.rpc_url).await;
    assert_eq!(
        after,
        before + 50,
        "exactly the first batch landed before the RPC went down"
    );
    chain.assert_consistent().await;

    // libSQL goes down mid-tick: one batch lands (cursor read + batch write), the next batch's
    // write fails and leaves nothing behind.
    chain.rpc_proxy.set(Mode::Pass);
    chain.sql_proxy.set(Mode::DownAfter(5));
    chain.tick().await;
    chain.sql_proxy.set(Mode::Pass);
    let cut = chain.cursor().await.expect("cursor");
    assert!(
        cut > after && cut < target,
        "cut mid-tick: {after} → {cut} (target {target})"
    );
    chain.assert_consistent().await;

    chain.rpc_proxy.set(Mode::Pass);
    chain.catch_up().await;
    chain.assert_consistent().await;
    assert!(first_target < target);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_recovers_from_provider_faults_without_skipping_or_half_writing() {
    recovers_from_provider_faults(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_recovers_from_provider_faults_without_skipping_or_half_writing() {
    recovers_from_provider_faults(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_ticks_at_once_one_indexes_one_skips() {
    let chain = Chain::start(Runtime::Wasmtime, &[]).await;
    chain_cmd(
        &chain.stack.rpc_url,
        "backfill",
        &[
            "--addresses",
            &chain.addresses(),
            "--events",
            "200",
            "--blocks",
            "100",
        ],
    )
    .await;
    chain.rpc_proxy.set(Mode::Delay(Duration::from_millis(200)));
    let (a, b) = tokio::join!(chain.tick(), chain.tick());
    let mut outcomes = vec![
        a.expect("report")["outcome"].clone(),
        b.expect("report")["outcome"].clone(),
    ];
    outcomes.sort_by_key(|o| o.to_string());
    assert_eq!(outcomes, [json!("ok"), json!("skipped")]);
    chain.rpc_proxy.set(Mode::Pass);
    chain.catch_up().await;
    chain.assert_consistent().await;
}

/// An event priced in wei (`ETH`), published through the API; returns (event id, GA type id).
async fn eth_event(app: &App) -> (String, String) {
    let spec = EventSpec {
        title: "Chain sale",
        ga_price: "1000",
        currency: "ETH",
        ..EventSpec::new(0, 10)
    };
    let event = publish_event(app, &spec).await;
    let ga = event.ga().to_owned();
    (event.id, ga)
}

/// A pending order of one GA unit for `wallet`.
async fn eth_order(app: &App, event: &(String, String), wallet: &str, key: &str) -> Value {
    let token = app.token_for(wallet, shared::domain::Role::User);
    let held = app
        .send(
            reqwest::Method::POST,
            "/v1/holds",
            Some(&token),
            Some(json!({"eventId": event.0, "ticketTypeId": event.1, "quantity": 1})),
            &[],
        )
        .await;
    assert_eq!(held.status, 201, "{}", held.body);
    let order = app
        .send(
            reqwest::Method::POST,
            "/v1/orders",
            Some(&token),
            Some(json!({"holdId": held.body["holdId"]})),
            &[("idempotency-key", key)],
        )
        .await;
    assert_eq!(order.status, 201, "{}", order.body);
    assert_eq!(order.body["payment"]["chain"]["amount"], "1000");
    order.body
}

/// On-chain payments through the real PaymentVault on anvil: the exact amount pays the order
/// (ticket issued), too little makes it `underpaid` with a refund record, and a deposit while
/// the sale is paused waits (`pending`) until the sale resumes.
async fn chain_deposits_pay_orders(runtime: Runtime) {
    let chain = Chain::start(runtime, &[("RATE_LIMIT_WRITE", "100000:100000")]).await;
    let app = &chain.app;
    let event = eth_event(app).await;
    let deposit = async |order: &Value, wei: &str| {
        chain
            .deposit(order["orderRef"].as_str().expect("ref"), wei)
            .await;
    };
    let status = async |wallet: &str, order: &Value| {
        let token = app.token_for(wallet, shared::domain::Role::User);
        let reply = app
            .send(
                reqwest::Method::GET,
                &format!("/v1/orders/{}", order["orderId"].as_str().expect("id")),
                Some(&token),
                None,
                &[],
            )
            .await;
        reply.body["status"].as_str().expect("status").to_owned()
    };
    let (ana, ben, cy) = (
        "0x00000000000000000000000000000000000a0001",
        "0x00000000000000000000000000000000000a0002",
        "0x00000000000000000000000000000000000a0003",
    );

    let exact = eth_order(app, &event, ana, "a").await;
    deposit(&exact, "1000").await;
    let short = eth_order(app, &event, ben, "b").await;
    deposit(&short, "500").await;
    chain.catch_up().await;
    assert_eq!(status(ana, &exact).await, "paid");
    assert_eq!(status(ben, &short).await, "underpaid");
    assert_eq!(
        chain
            .count(
                "SELECT count(*) AS n FROM tickets WHERE status = 'valid' AND order_id IS NOT NULL"
            )
            .await,
        1
    );
    assert_eq!(
        chain
            .count(&format!(
                "SELECT count(*) AS n FROM refund_records WHERE order_ref = '{}' AND reason = 'underpaid' \
                 AND method = 'chain' AND amount = '500' AND status = 'open'",
                short["orderRef"].as_str().expect("ref")
            ))
            .await,
        1
    );

    // Paused: the deposit is recorded but waits; resuming applies it.
    let admin = app.token_for(
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        shared::domain::Role::Admin,
    );
    let waiting = eth_order(app, &event, cy, "c").await;
    let paused = app
        .send(
            reqwest::Method::POST,
            "/v1/admin/sales/pause",
            Some(&admin),
            Some(json!({"eventId": event.0})),
            &[],
        )
        .await;
    assert_eq!(paused.status, 200, "{}", paused.body);
    deposit(&waiting, "1000").await;
    chain.catch_up().await;
    assert_eq!(status(cy, &waiting).await, "pending_payment");
    let state = app
        .send(
            reqwest::Method::GET,
            "/v1/admin/sales/status",
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(state.body["pendingDeposits"], 1, "{}", state.body);
    let resumed = app
        .send(
            reqwest::Method::POST,
            "/v1/admin/sales/resume",
            Some(&admin),
            Some(json!({"eventId": event.0})),
            &[],
        )
        .await;
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert_eq!(resumed.header("x-deposits-applied"), Some("1"));
    assert_eq!(status(cy, &waiting).await, "paid");
    chain.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_chain_deposits_pay_orders() {
    chain_deposits_pay_orders(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_chain_deposits_pay_orders() {
    chain_deposits_pay_orders(Runtime::Wasmtime).await;
}
