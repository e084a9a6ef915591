//! The chain indexer end to end: the release Wasm on workerd, driven by its cron trigger (and
//! on Spin by the HTTP trigger), indexing the real contracts on anvil into the libSQL front,
//! through chaos proxies in front of anvil and of the Hrana front. After every story the
//! projections must equal the consistency checker's rebuild from the raw logs, and the raw
//! logs must be exactly the chain's logs.

use e2e::catalog::{EventSpec, ORGANIZER, publish_event};
use e2e::chain::{DEV_ADDRESSES, DEV_KEYS, chain_cmd, head, rpc};
use e2e::door::{code_pair, verifier_key};
use e2e::proxy::{Mode, Proxy};
use e2e::{App, Runtime, Stack, root};
use reqwest::Method;
use serde_json::{Value, json};
use shared::checkin::pass::Pass;
use shared::ports::Sql;
use shared::sql::Statement;
use std::time::{Duration, Instant};

struct Chain {
    stack: Stack,
    rpc_proxy: Proxy,
    sql_proxy: Proxy,
    contracts: Value,
    app: App,
}

impl Chain {
    async fn start(runtime: Runtime, env: &[(&str, &str)]) -> Chain {
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

    fn addresses(&self) -> String {
        self.contracts.to_string()
    }

    async fn cursor(&self) -> Option<u64> {
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
    async fn tick(&self) -> Option<Value> {
        let response = self.app.trigger_cron().await;
        match self.app.runtime {
            Runtime::Wasmtime => Some(response.json().await.expect("report")),
            Runtime::Workerd => None,
        }
    }

    /// The indexed block and its hash.
    async fn cursor_with_hash(&self) -> Option<(u64, String)> {
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
    async fn catch_up(&self) -> u32 {
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

    async fn count(&self, sql: &str) -> i64 {
        let rows = self
            .stack
            .sql()
            .execute(Statement::new(sql))
            .await
            .expect("count");
        rows.row(0).expect("row").get::<i64>("n").expect("n")
    }

    /// Projections equal their rebuild; raw logs are exactly the chain's logs up to the cursor.
    async fn assert_consistent(&self) {
        let (_, token) = self.stack.tokens();
        let report = ops::indexer::check(
            &self.stack.libsql_url,
            Some(token),
            31337,
            &root().join("migrations"),
        )
        .await
        .expect("checker runs");
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
    async fn pending_order(&self, id: &str, order_ref: &str, total: &str) {
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

    async fn owner_of(&self, token: &str) -> Option<String> {
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

/// Snapshot, do `first` (indexed), revert, do `second` and mine past the old head.
async fn reorg(chain: &Chain, depth: u64, first: impl AsyncFnOnce(), second: impl AsyncFnOnce()) {
    let url = &chain.stack.rpc_url;
    let snapshot = rpc(url, "evm_snapshot", json!([])).await;
    first().await;
    if depth > 1 {
        rpc(url, "anvil_mine", json!([format!("{:#x}", depth - 1)])).await;
    }
    chain.catch_up().await;
    assert_eq!(rpc(url, "evm_revert", json!([snapshot])).await, json!(true));
    // anvil puts the reverted transactions back in its pool; the new fork must not re-mine them.
    rpc(url, "anvil_dropAllTransactions", json!([])).await;
    second().await;
    rpc(url, "anvil_mine", json!([format!("{depth:#x}")])).await;
    chain.catch_up().await;
}

/// A valid ticket of the scenario `truth` held by a dev account we have the key of:
/// `(token id, holder's key)`.
fn dev_held_ticket(truth: &Value) -> (String, String) {
    truth["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .filter(|t| t["status"] == "valid")
        .find_map(|t| {
            let owner = t["owner"].as_str()?;
            let key = DEV_KEYS.iter().find(|k| address_of(k) == owner)?;
            Some((t["tokenId"].as_str()?.to_owned(), (*key).to_owned()))
        })
        .expect("a valid ticket held by a dev account")
}

/// Reorgs of each depth in `rounds` (with the two dev accounts the transfer goes to on the
/// old and on the new fork) move a ticket to the new fork's owner, then a depth-2 reorg
/// removes a deposit: the order it paid is pending again. Projections equal their rebuild
/// after every round.
async fn survives_reorgs(runtime: Runtime, rounds: &[(u64, (usize, usize))]) {
    let chain = Chain::start(runtime, &[]).await;
    let truth = chain_cmd(
        &chain.stack.rpc_url,
        "scenario",
        &["--addresses", &chain.addresses()],
    )
    .await;
    chain.catch_up().await;
    let addresses = chain.addresses();
    let (token, holder_key) = dev_held_ticket(&truth);
    let holder = address_of(&holder_key);
    for &(depth, (x, y)) in rounds {
        let (to_x, to_y) = (address_of(DEV_KEYS[x]), address_of(DEV_KEYS[y]));
        let transfer = |to: String| {
            let (rpc_url, addresses, token, key) = (
                chain.stack.rpc_url.clone(),
                addresses.clone(),
                token.clone(),
                holder_key.clone(),
            );
            async move {
                chain_cmd(
                    &rpc_url,
                    "transfer",
                    &[
                        "--addresses",
                        &addresses,
                        "--token-id",
                        &token,
                        "--from-key",
                        &key,
                        "--to",
                        &to,
                    ],
                )
                .await;
            }
        };
        let seen_x = std::cell::Cell::new(None);
        reorg(
            &chain,
            depth,
            async || {
                transfer(to_x.clone()).await;
            },
            async || {
                seen_x.set(Some(chain.owner_of(&token).await));
                transfer(to_y.clone()).await;
            },
        )
        .await;
        assert_eq!(
            seen_x.take(),
            Some(Some(to_x.clone())),
            "depth {depth}: the old fork was indexed"
        );
        assert_eq!(
            chain.owner_of(&token).await,
            Some(to_y.clone()),
            "depth {depth}: the new fork wins"
        );
        chain.assert_consistent().await;
        // Put the ticket back with the holder for the next round (a normal transfer).
        let back_key = DEV_KEYS[y];
        chain_cmd(
            &chain.stack.rpc_url,
            "transfer",
            &[
                "--addresses",
                &addresses,
                "--token-id",
                &token,
                "--from-key",
                back_key,
                "--to",
                &holder,
            ],
        )
        .await;
        chain.catch_up().await;
    }

    // A reorg that removes a deposit: the order it paid is pending again.
    let order_ref = format!("0x{}", "ab".repeat(32));
    chain.pending_order("ord_reorg", &order_ref, "1000").await;
    let status = async || {
        let rows = chain
            .stack
            .sql()
            .execute(Statement::new(
                "SELECT status FROM orders WHERE id = 'ord_reorg'",
            ))
            .await
            .expect("q");
        rows.row(0)
            .expect("row")
            .get::<String>("status")
            .expect("status")
    };
    let paid_then = std::cell::Cell::new(String::new());
    reorg(
        &chain,
        2,
        async || {
            chain_cmd(
                &chain.stack.rpc_url,
                "deposit",
                &[
                    "--addresses",
                    &addresses,
                    "--order-ref",
                    &order_ref,
                    "--value-wei",
                    "1000",
                    "--from-key",
                    DEV_KEYS[4],
                ],
            )
            .await;
        },
        async || paid_then.set(status().await),
    )
    .await;
    assert_eq!(paid_then.take(), "paid");
    let deposits_left = chain
        .count(&format!(
            "SELECT count(*) AS n FROM deposits WHERE order_ref = '{order_ref}'"
        ))
        .await;
    let paid_via = chain
        .count("SELECT count(*) AS n FROM orders WHERE id = 'ord_reorg' AND paid_via = 'chain'")
        .await;
    assert_eq!(
        status().await,
        "pending_payment",
        "deposits left {deposits_left}, paid_via chain {paid_via}, cursor {:?}",
        chain.cursor_with_hash().await
    );
    assert_eq!(
        chain
            .count(&format!(
                "SELECT count(*) AS n FROM deposits WHERE order_ref = '{order_ref}'"
            ))
            .await,
        0
    );
    chain.assert_consistent().await;
    let metrics = chain
        .app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics");
    let reorgs = rounds.len() + 1;
    assert!(
        metrics.contains(&format!("indexer_reorgs_total {reorgs}\n")),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_survives_reorgs_of_depth_1_2_5_and_20() {
    survives_reorgs(
        Runtime::Workerd,
        &[(1, (3, 4)), (2, (5, 6)), (5, (7, 8)), (20, (3, 5))],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_survives_reorgs_of_depth_1_and_5() {
    survives_reorgs(Runtime::Wasmtime, &[(1, (3, 4)), (5, (7, 8))]).await;
}

fn address_of(key: &str) -> String {
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

#[tokio::test(flavor = "multi_thread")]
async fn a_reorg_deeper_than_the_window_stops_the_indexer_until_reindexed() {
    let chain = Chain::start(Runtime::Wasmtime, &[("INDEXER_REORG_WINDOW", "3")]).await;
    let addresses = chain.addresses();
    chain_cmd(
        &chain.stack.rpc_url,
        "scenario",
        &["--addresses", &addresses],
    )
    .await;
    chain.catch_up().await;
    let url = &chain.stack.rpc_url;
    let fork = head(url).await;
    let snapshot = rpc(url, "evm_snapshot", json!([])).await;
    rpc(url, "anvil_mine", json!(["0x8"])).await;
    chain.catch_up().await;
    assert_eq!(rpc(url, "evm_revert", json!([snapshot])).await, json!(true));
    rpc(url, "anvil_mine", json!(["0xa"])).await;

    // Replaced blocks: 8 > window 3. The tick refuses to write and says so.
    let stopped = chain.cursor().await;
    let report = chain.tick().await.expect("report");
    assert_eq!(report["outcome"], "deep_reorg", "{report}");
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("otctl reindex")),
        "{report}"
    );
    assert_eq!(
        chain.cursor().await,
        stopped,
        "nothing written on the wrong fork"
    );
    let metrics = chain
        .app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics");
    assert!(
        metrics.contains("indexer_deep_reorgs_total 1\n"),
        "{metrics}"
    );

    // The operator re-indexes from below the fork; the next ticks catch up on the new chain.
    let (_, token) = chain.stack.tokens();
    ops::indexer::reindex(&chain.stack.libsql_url, Some(token), 31337, fork - 1)
        .await
        .expect("reindex");
    assert_eq!(chain.cursor().await, Some(fork - 2));
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
    let addresses = chain.addresses();
    let deposit = async |order: &Value, wei: &str| {
        chain_cmd(
            &chain.stack.rpc_url,
            "deposit",
            &[
                "--addresses",
                &addresses,
                "--order-ref",
                order["orderRef"].as_str().expect("ref"),
                "--value-wei",
                wei,
                "--from-key",
                DEV_KEYS[4],
            ],
        )
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

/// A transfer that a reorg removes revokes the pass issued to its receiver (issue 12, item 3):
/// the rollback puts the ticket back with its previous owner, the revocation list that offline
/// scanners pull names the pass, and a scan of the pass answers `revoked`.
async fn a_reorg_revokes_the_pass_of_a_removed_transfer(runtime: Runtime) {
    let chain = Chain::start(runtime, &[("RATE_LIMIT_WRITE", "100000:100000")]).await;
    let truth = chain_cmd(
        &chain.stack.rpc_url,
        "scenario",
        &["--addresses", &chain.addresses()],
    )
    .await;
    chain.catch_up().await;
    let addresses = chain.addresses();
    let (token, holder_key) = dev_held_ticket(&truth);
    let holder = address_of(&holder_key);
    let receiver = [7, 8, 3]
        .into_iter()
        .map(|i| address_of(DEV_KEYS[i]))
        .find(|a| *a != holder)
        .expect("another dev account");
    let ticket = format!("chain:{token}");
    // The chain event as a catalog event of the organizer, so the door has a verifier key for it.
    let rows = chain
        .stack
        .sql()
        .execute(Statement::new("SELECT event_id FROM tickets WHERE id = ?").bind(ticket.as_str()))
        .await
        .expect("event of the ticket");
    let event_id: String = rows.row(0).expect("ticket").get("event_id").expect("event");
    let now = e2e::payments::now_ms();
    chain
        .stack
        .sql()
        .batch_atomic(vec![
            Statement::new(
                "INSERT OR IGNORE INTO users (wallet, role, created_at) VALUES (?, 'organizer', 0)",
            )
            .bind(ORGANIZER),
            Statement::new(
                "INSERT INTO events (id, organizer, title, status, starts_at, ends_at, created_at, updated_at)
                 VALUES (?, ?, 'Chain event', 'published', ?, ?, 0, 0)",
            )
            .bind(event_id.as_str())
            .bind(ORGANIZER)
            .bind(now + 3_600_000)
            .bind(now + 7_200_000),
        ])
        .await
        .expect("catalog event");
    let key = verifier_key(&chain.app, &event_id, "Reorg door").await;

    let issued = std::cell::RefCell::new(String::new());
    reorg(
        &chain,
        2,
        async || {
            chain_cmd(
                &chain.stack.rpc_url,
                "transfer",
                &[
                    "--addresses",
                    &addresses,
                    "--token-id",
                    &token,
                    "--from-key",
                    &holder_key,
                    "--to",
                    &receiver,
                ],
            )
            .await;
        },
        // Indexed on the old fork: the receiver holds the ticket and gets its pass.
        async || {
            assert_eq!(chain.owner_of(&token).await, Some(receiver.clone()));
            let (_, pass) = code_pair(&chain.app, &receiver, &ticket).await;
            *issued.borrow_mut() = pass;
        },
    )
    .await;
    assert_eq!(
        chain.owner_of(&token).await,
        Some(holder.clone()),
        "the transfer is gone"
    );
    let pass = issued.take();
    let (parsed, _, _) = Pass::parse(&pass).expect("pass");
    // The pass of the receiver, now revoked.
    let rows = chain
        .stack
        .sql()
        .execute(
            Statement::new(
                "SELECT pass_id, owner, revoked_at FROM ticket_passes WHERE ticket_id = ?",
            )
            .bind(ticket.as_str()),
        )
        .await
        .expect("passes");
    assert_eq!(rows.rows.len(), 1, "one pass issued");
    let row = rows.row(0).expect("pass");
    let pass_id: String = row.get("pass_id").expect("id");
    assert_eq!(pass_id, parsed.pass_id_hex());
    assert!(
        row.get::<String>("owner")
            .expect("owner")
            .eq_ignore_ascii_case(&receiver)
    );
    assert!(
        row.get::<Option<i64>>("revoked_at")
            .expect("revoked")
            .is_some(),
        "the pass is revoked"
    );

    let pulled = chain
        .app
        .send(
            Method::GET,
            &format!("/v1/checkin/events/{event_id}/revocations?since=0"),
            None,
            None,
            &[("x-verifier-key", key.as_str())],
        )
        .await;
    assert_eq!(pulled.status, 200, "{}", pulled.body);
    let items = pulled.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", pulled.body);
    assert_eq!(items[0]["passId"], pass_id.as_str());
    assert_eq!(items[0]["reason"], "owner_changed");

    let scanned = chain
        .app
        .send(
            Method::POST,
            "/v1/checkin/scan",
            None,
            Some(json!({"code": pass, "gate": "Main", "deviceId": "dev-1",
                        "scannedAt": e2e::payments::now_ms(), "nonce": "reorg-scan-1"})),
            &[("x-verifier-key", key.as_str())],
        )
        .await;
    assert_eq!(scanned.status, 200, "{}", scanned.body);
    assert_eq!(scanned.body["result"], "revoked", "{}", scanned.body);
    // The holder the reorg gave the ticket back to gets a new pass.
    let (_, fresh) = code_pair(&chain.app, &holder, &ticket).await;
    assert_ne!(fresh, pass);
    chain.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_a_reorg_revokes_the_pass_of_a_removed_transfer() {
    a_reorg_revokes_the_pass_of_a_removed_transfer(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_a_reorg_revokes_the_pass_of_a_removed_transfer() {
    a_reorg_revokes_the_pass_of_a_removed_transfer(Runtime::Wasmtime).await;
}

/// The door of the catalog event that mirrors chain event `event_id` (so scanners of the
/// organizer can admit its chain tickets); returns a verifier key.
async fn chain_event_door(chain: &Chain, event_id: &str) -> String {
    let now = e2e::payments::now_ms();
    chain
        .stack
        .sql()
        .batch_atomic(vec![
            Statement::new(
                "INSERT OR IGNORE INTO users (wallet, role, created_at) VALUES (?, 'organizer', 0)",
            )
            .bind(ORGANIZER),
            Statement::new(
                "INSERT INTO events (id, organizer, title, status, starts_at, ends_at, created_at, updated_at)
                 VALUES (?, ?, 'Chain event', 'published', ?, ?, 0, 0)",
            )
            .bind(event_id)
            .bind(ORGANIZER)
            .bind(now + 3_600_000)
            .bind(now + 7_200_000),
        ])
        .await
        .expect("catalog event");
    verifier_key(&chain.app, event_id, "Reorg door").await
}

/// A reorg that removes the mint of a ticket already checked in at the door (issue 12): the
/// indexer must not stop at the fork (the check-in references the ticket row). The check-in
/// and its scan audit stay (someone was admitted); the ticket stays only as a tombstone that
/// no wallet owns, the door refuses, and whose pass is revoked as `ticket_removed`.
async fn a_reorg_removes_the_mint_of_a_checked_in_ticket(runtime: Runtime) {
    let chain = Chain::start(runtime, &[("RATE_LIMIT_WRITE", "100000:100000")]).await;
    let addresses = chain.addresses();
    chain.catch_up().await;
    // Account 8 (organizer of the backfill) ends up holding the one ticket minted.
    let owner = DEV_ADDRESSES[8].to_owned();
    let minted = std::cell::RefCell::new(None::<(String, String, String)>);
    reorg(
        &chain,
        2,
        async || {
            chain_cmd(
                &chain.stack.rpc_url,
                "backfill",
                &["--addresses", &addresses, "--events", "3", "--blocks", "1"],
            )
            .await;
        },
        // Indexed on the old fork: the holder gets a pass and is admitted with it.
        async || {
            let rows = chain
                .stack
                .sql()
                .execute(Statement::new(
                    "SELECT id, token_id, event_id, owner FROM tickets WHERE token_id IS NOT NULL",
                ))
                .await
                .expect("tickets");
            assert_eq!(rows.rows.len(), 1, "one ticket minted");
            let row = rows.row(0).expect("ticket");
            let ticket: String = row.get("id").expect("id");
            let event_id: String = row.get("event_id").expect("event");
            assert_eq!(row.get::<String>("owner").expect("owner"), owner);
            let key = chain_event_door(&chain, &event_id).await;
            let (_, pass) = code_pair(&chain.app, &owner, &ticket).await;
            let scanned = chain
                .app
                .send(
                    Method::POST,
                    "/v1/checkin/scan",
                    None,
                    Some(json!({"code": pass, "gate": "Main", "deviceId": "dev-1",
                                "scannedAt": e2e::payments::now_ms(), "nonce": "admit-then-reorg"})),
                    &[("x-verifier-key", key.as_str())],
                )
                .await;
            assert_eq!(scanned.status, 200, "{}", scanned.body);
            assert_eq!(scanned.body["result"], "ok", "{}", scanned.body);
            *minted.borrow_mut() = Some((ticket, event_id, key));
        },
    )
    .await;
    let (ticket, event_id, key) = minted.take().expect("the ticket of the old fork");

    // The indexer went past the fork (`reorg` caught up), and the mint is gone.
    assert_eq!(
        chain.count("SELECT count(*) AS n FROM ticket_mints").await,
        0
    );
    // No wallet holds the ticket any more.
    let held = chain
        .app
        .get(&format!("/v1/wallets/{owner}/tickets"))
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(held["total"], 0, "{held}");
    let mine = chain
        .app
        .send(
            Method::GET,
            "/v1/me/tickets",
            Some(&chain.app.token_for(&owner, shared::domain::Role::User)),
            None,
            &[],
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.body["total"], 0, "{}", mine.body);
    // The tombstone says what happened and to whom.
    let rows = chain
        .stack
        .sql()
        .execute(
            Statement::new("SELECT status, removed_at, removed_owner FROM tickets WHERE id = ?")
                .bind(ticket.as_str()),
        )
        .await
        .expect("tombstone");
    let row = rows.row(0).expect("the ticket row stays as a tombstone");
    assert_eq!(row.get::<String>("status").expect("status"), "revoked");
    assert!(row.get::<Option<i64>>("removed_at").expect("at").is_some());
    assert_eq!(
        row.get::<Option<String>>("removed_owner").expect("who"),
        Some(owner.clone())
    );
    // Its pass is revoked, and scanners learn it.
    let pulled = chain
        .app
        .send(
            Method::GET,
            &format!("/v1/checkin/events/{event_id}/revocations?since=0"),
            None,
            None,
            &[("x-verifier-key", key.as_str())],
        )
        .await;
    assert_eq!(pulled.status, 200, "{}", pulled.body);
    let items = pulled.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", pulled.body);
    assert_eq!(items[0]["ticketId"], ticket.as_str(), "{}", pulled.body);
    assert_eq!(items[0]["reason"], "ticket_removed", "{}", pulled.body);
    // The admission is history: the check-in and its audited scan stay.
    assert_eq!(
        chain
            .count(&format!(
                "SELECT count(*) AS n FROM checkins WHERE ticket_id = '{ticket}'"
            ))
            .await,
        1
    );
    assert_eq!(
        chain
            .count(&format!(
                "SELECT count(*) AS n FROM scans WHERE ticket_id = '{ticket}' AND result = 'ok'"
            ))
            .await,
        1
    );
    // Every projection but the tombstone equals the rebuild from the raw logs.
    let (_, sql_token) = chain.stack.tokens();
    let report = ops::indexer::check(
        &chain.stack.libsql_url,
        Some(sql_token),
        31337,
        &root().join("migrations"),
    )
    .await
    .expect("checker runs");
    for table in &report.tables {
        if table.table == "tickets" {
            assert!(table.only_rebuilt.is_empty(), "{table:?}");
            assert!(
                table
                    .only_live
                    .iter()
                    .all(|row| row.contains(ticket.as_str())),
                "only the tombstone differs: {table:?}"
            );
        } else {
            assert!(
                table.only_live.is_empty() && table.only_rebuilt.is_empty(),
                "{table:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_a_reorg_removes_the_mint_of_a_checked_in_ticket() {
    a_reorg_removes_the_mint_of_a_checked_in_ticket(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_a_reorg_removes_the_mint_of_a_checked_in_ticket() {
    a_reorg_removes_the_mint_of_a_checked_in_ticket(Runtime::Wasmtime).await;
}
