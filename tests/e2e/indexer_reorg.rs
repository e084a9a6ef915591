//! The chain indexer through reorgs, end to end on both runtimes (harness in `indexer.rs`):
//! transfers and deposits replaced by a new fork at several depths, a reorg deeper than the
//! window, and what a reorg does to passes and check-ins at the door (issue 12).

use crate::indexer::{Chain, address_of};
use e2e::Runtime;
use e2e::catalog::ORGANIZER;
use e2e::chain::{DEV_ADDRESSES, DEV_KEYS, chain_cmd, head, rpc};
use e2e::door::{code_pair, verifier_key};
use reqwest::Method;
use serde_json::{Value, json};
use shared::checkin::pass::Pass;
use shared::ports::Sql;
use shared::sql::Statement;

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

/// A transfer of ticket `token` by the holder of `from_key` to `to`.
async fn transfer(chain: &Chain, token: &str, from_key: &str, to: &str) {
    chain_cmd(
        &chain.stack.rpc_url,
        "transfer",
        &[
            "--addresses",
            &chain.addresses(),
            "--token-id",
            token,
            "--from-key",
            from_key,
            "--to",
            to,
        ],
    )
    .await;
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
    let (token, holder_key) = dev_held_ticket(&truth);
    let holder = address_of(&holder_key);
    for &(depth, (x, y)) in rounds {
        let (to_x, to_y) = (address_of(DEV_KEYS[x]), address_of(DEV_KEYS[y]));
        let seen_x = std::cell::Cell::new(None);
        reorg(
            &chain,
            depth,
            async || {
                transfer(&chain, &token, &holder_key, &to_x).await;
            },
            async || {
                seen_x.set(Some(chain.owner_of(&token).await));
                transfer(&chain, &token, &holder_key, &to_y).await;
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
        transfer(&chain, &token, DEV_KEYS[y], &holder).await;
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
        async || chain.deposit(&order_ref, "1000").await,
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
    let key = chain_event_door(&chain, &event_id).await;

    let issued = std::cell::RefCell::new(String::new());
    reorg(
        &chain,
        2,
        async || transfer(&chain, &token, &holder_key, &receiver).await,
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

    let pulled = revocations(&chain, &event_id, &key).await;
    let items = pulled["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{pulled}");
    assert_eq!(items[0]["passId"], pass_id.as_str());
    assert_eq!(items[0]["reason"], "owner_changed");

    let scanned = scan(&chain, &key, &pass, "reorg-scan-1").await;
    assert_eq!(scanned["result"], "revoked", "{scanned}");
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

/// The revocation list offline scanners pull (`since=0`) with verifier key `key`: 200, its body.
async fn revocations(chain: &Chain, event_id: &str, key: &str) -> Value {
    let pulled = chain
        .app
        .send(
            Method::GET,
            &format!("/v1/checkin/events/{event_id}/revocations?since=0"),
            None,
            None,
            &[("x-verifier-key", key)],
        )
        .await;
    assert_eq!(pulled.status, 200, "{}", pulled.body);
    pulled.body
}

/// A live scan of `code` at gate Main by device dev-1 with `nonce`: 200, the answer.
async fn scan(chain: &Chain, key: &str, code: &str, nonce: &str) -> Value {
    let scanned = chain
        .app
        .send(
            Method::POST,
            "/v1/checkin/scan",
            None,
            Some(json!({"code": code, "gate": "Main", "deviceId": "dev-1",
                        "scannedAt": e2e::payments::now_ms(), "nonce": nonce})),
            &[("x-verifier-key", key)],
        )
        .await;
    assert_eq!(scanned.status, 200, "{}", scanned.body);
    scanned.body
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
            let scanned = scan(&chain, &key, &pass, "admit-then-reorg").await;
            assert_eq!(scanned["result"], "ok", "{scanned}");
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
    let pulled = revocations(&chain, &event_id, &key).await;
    let items = pulled["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{pulled}");
    assert_eq!(items[0]["ticketId"], ticket.as_str(), "{pulled}");
    assert_eq!(items[0]["reason"], "ticket_removed", "{pulled}");
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
    let report = chain.check().await;
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
