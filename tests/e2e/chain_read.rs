//! The chain read API on both runtimes: tickets with their transfer history, the tickets a
//! wallet holds, and secondary-market listings with their trades, read from projection rows
//! written straight into libSQL (as the indexer would write them).

use e2e::{App, Reply, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::ports::Sql;
use shared::sql::{SqlValue, Statement};

/// Anvil's first accounts: an organizer and three fans.
const ORGANIZER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const ALICE: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const BOB: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const CAROL: &str = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const ZERO: &str = "0x0000000000000000000000000000000000000000";

/// The published catalog event linked to chain event 1.
const CATALOG_EVENT: &str = "evt_c0ffee00000000000001";
/// A draft linked to chain event 2: drafts are not public, so tickets do not name it.
const DRAFT_EVENT: &str = "evt_d4af7000000000000002";
/// 2^64: beyond SQLite's integers, so only an exact numeric order puts it last.
const BIG_TOKEN: &str = "18446744073709551616";

const ETH: &str = "1000000000000000000";
const NOW: i64 = 1_900_000_000_000;

/// A distinct, well-formed transaction hash per number.
fn tx(n: u64) -> String {
    format!("0x{n:064x}")
}

fn statement(sql: &str, args: Vec<SqlValue>) -> Statement {
    args.into_iter().fold(Statement::new(sql), Statement::bind)
}

/// Catalog events, chain events, tickets (and one off-chain ticket), transfers, listings in
/// every status and one trade, inserted in a scrambled order.
fn projection() -> Vec<Statement> {
    let mut out = vec![statement(
        "INSERT INTO users (wallet, role, created_at) VALUES (?, 'organizer', ?)",
        vec![ORGANIZER.into(), NOW.into()],
    )];
    for (id, status, chain_event) in [
        (CATALOG_EVENT, "published", "1"),
        (DRAFT_EVENT, "draft", "2"),
    ] {
        out.push(statement(
            "INSERT INTO events (id, organizer, title, starts_at, ends_at, status, \
             chain_event_id, created_at, updated_at) VALUES (?, ?, 'Jazz Night', ?, ?, ?, ?, ?, ?)",
            vec![
                id.into(),
                ORGANIZER.into(),
                NOW.into(),
                (NOW + 1).into(),
                status.into(),
                chain_event.into(),
                NOW.into(),
                NOW.into(),
            ],
        ));
    }
    for (log, chain_event) in [(0i64, "1"), (1, "2"), (2, "3")] {
        out.push(statement(
            "INSERT INTO chain_events (block_number, tx_hash, log_index, chain_event_id, \
             organizer, name) VALUES (5, ?, ?, ?, ?, ?)",
            vec![
                tx(5).into(),
                log.into(),
                chain_event.into(),
                ORGANIZER.into(),
                format!("Chain event {chain_event}").into(),
            ],
        ));
    }
    // (token, chain event, type, owner, status, mint block, mint log index)
    let tickets = [
        ("100", "1", "1", ALICE, "valid", 11i64, 1i64),
        ("9", "1", "2", ALICE, "used", 10, 1),
        (BIG_TOKEN, "3", "1", ALICE, "revoked", 13, 0),
        ("5", "1", "1", BOB, "valid", 10, 2),
        ("2", "1", "1", ALICE, "valid", 10, 0),
        ("10", "2", "1", ALICE, "valid", 11, 0),
    ];
    for (token, event, type_id, owner, status, block, log) in tickets {
        out.push(statement(
            "INSERT INTO tickets (id, token_id, event_id, ticket_type_id, owner, status, \
             mint_tx, mint_block, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                format!("chain:{token}").into(),
                token.into(),
                event.into(),
                type_id.into(),
                owner.into(),
                status.into(),
                tx(block as u64).into(),
                block.into(),
                NOW.into(),
                NOW.into(),
            ],
        ));
        // The mint, except for token 5 whose history is written below.
        if token != "5" {
            out.push(transfer(token, ZERO, owner, block, log));
        }
    }
    // Token 5: minted to Alice, sent to Carol, sold by Carol to Bob (history out of order).
    out.push(transfer("5", CAROL, BOB, 12, 3));
    out.push(transfer("5", ZERO, ALICE, 10, 2));
    out.push(transfer("5", ALICE, CAROL, 12, 1));
    // An off-chain ticket of the same wallet: not a chain ticket, never listed here.
    out.push(statement(
        "INSERT INTO tickets (id, event_id, owner, status, created_at, updated_at) \
         VALUES ('tkt_offchain', ?, ?, 'valid', ?, ?)",
        vec![CATALOG_EVENT.into(), ALICE.into(), NOW.into(), NOW.into()],
    ));
    // (id, token, chain event, seller, price, status, created, updated)
    let listings = [
        (
            "3",
            "9",
            "1",
            ALICE,
            "2000000000000000000",
            "cancelled",
            15i64,
            16i64,
        ),
        ("13", "5", "1", BOB, "600000000000000000", "listed", 25, 25),
        ("1", "2", "1", ALICE, ETH, "listed", 20, 20),
        (
            "12",
            "100",
            "1",
            ALICE,
            "123456789012345678901234567890",
            "listed",
            20,
            20,
        ),
        ("2", "5", "1", CAROL, "500000000000000000", "sold", 12, 12),
        (
            "4",
            "10",
            "2",
            ALICE,
            "750000000000000000",
            "listed",
            20,
            20,
        ),
    ];
    for (id, token, event, seller, price, status, created, updated) in listings {
        out.push(statement(
            "INSERT INTO market_listings (id, token_id, event_id, seller, price, currency, \
             status, created_block, updated_block) VALUES (?, ?, ?, ?, ?, 'ETH', ?, ?, ?)",
            vec![
                id.into(),
                token.into(),
                event.into(),
                seller.into(),
                price.into(),
                status.into(),
                created.into(),
                updated.into(),
            ],
        ));
    }
    out.push(statement(
        "INSERT INTO trades (listing_id, buyer, price, tx_hash, log_index, block_number) \
         VALUES ('2', ?, '500000000000000000', ?, 4, 12)",
        vec![BOB.into(), tx(12).into()],
    ));
    out
}

fn transfer(token: &str, from: &str, to: &str, block: i64, log: i64) -> Statement {
    statement(
        "INSERT INTO transfers (block_number, tx_hash, log_index, token_id, from_address, \
         to_address) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            block.into(),
            tx(block as u64).into(),
            log.into(),
            token.into(),
            from.into(),
            to.into(),
        ],
    )
}

async fn get(app: &App, path: &str) -> Reply {
    let reply = app.send(Method::GET, path, None, None, &[]).await;
    if reply.status == 200 {
        assert_eq!(reply.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(
            reply.header("x-cache"),
            None,
            "{path}: never from the read cache"
        );
    }
    reply
}

/// `field` of every item of a page.
fn column<'a>(reply: &'a Reply, field: &str) -> Vec<&'a str> {
    reply.body["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i[field].as_str()).collect())
        .unwrap_or_default()
}

/// A ticket as listed (no transfers).
fn ticket(token: &str, event: &str, catalog: Option<&str>, owner: &str, status: &str) -> Value {
    let (type_id, block) = match token {
        "9" => ("2", 10),
        "2" | "5" => ("1", 10),
        "100" | "10" => ("1", 11),
        _ => ("1", 13),
    };
    json!({
        "tokenId": token, "eventId": event, "catalogEventId": catalog, "typeId": type_id,
        "owner": owner, "status": status, "mintTx": tx(block), "mintBlock": block,
    })
}

async fn tickets(app: &App) {
    // One ticket with its whole history, oldest first, addresses EIP-55.
    let reply = get(app, "/v1/tickets/5").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut expected = ticket("5", "1", Some(CATALOG_EVENT), BOB, "valid");
    expected["transfers"] = json!([
        {"from": ZERO, "to": ALICE, "blockNumber": 10, "txHash": tx(10), "logIndex": 2},
        {"from": ALICE, "to": CAROL, "blockNumber": 12, "txHash": tx(12), "logIndex": 1},
        {"from": CAROL, "to": BOB, "blockNumber": 12, "txHash": tx(12), "logIndex": 3},
    ]);
    assert_eq!(reply.body, expected);

    // A draft catalog event is not revealed; an unlinked chain event has none.
    let reply = get(app, "/v1/tickets/10").await;
    assert_eq!(reply.body["catalogEventId"], Value::Null, "{}", reply.body);
    assert_eq!(reply.body["eventId"], "2");
    let reply = get(app, &format!("/v1/tickets/{BIG_TOKEN}")).await;
    let mut expected = ticket(BIG_TOKEN, "3", None, ALICE, "revoked");
    expected["transfers"] =
        json!([{"from": ZERO, "to": ALICE, "blockNumber": 13, "txHash": tx(13), "logIndex": 0}]);
    assert_eq!(reply.body, expected);

    // HEAD is GET without a body.
    let head = app
        .send(Method::HEAD, "/v1/tickets/5", None, None, &[])
        .await;
    assert_eq!((head.status, head.raw.len()), (200, 0));

    get(app, "/v1/tickets/7")
        .await
        .assert_error(404, "TICKET_NOT_FOUND", None);
    // 2^256 - 1 is a valid token id that does not exist.
    get(
        app,
        "/v1/tickets/115792089237316195423570985008687907853269984665640564039457584007913129639935",
    )
    .await
    .assert_error(404, "TICKET_NOT_FOUND", None);
    for bad in [
        "abc",
        "007",
        "-1",
        "0x5",
        "5.0",
        "%205",
        "tkt_offchain",
        "115792089237316195423570985008687907853269984665640564039457584007913129639936",
    ] {
        get(app, &format!("/v1/tickets/{bad}")).await.assert_error(
            400,
            "VALIDATION_FAILED",
            Some("tokenId"),
        );
    }
}

async fn wallets(app: &App) {
    let alice = format!("/v1/wallets/{}/tickets", ALICE.to_lowercase());
    let reply = get(app, &alice).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body,
        json!({
            "page": 1, "pageSize": 20, "total": 5,
            "items": [
                ticket("2", "1", Some(CATALOG_EVENT), ALICE, "valid"),
                ticket("9", "1", Some(CATALOG_EVENT), ALICE, "used"),
                ticket("10", "2", None, ALICE, "valid"),
                ticket("100", "1", Some(CATALOG_EVENT), ALICE, "valid"),
                ticket(BIG_TOKEN, "3", None, ALICE, "revoked"),
            ]
        })
    );
    // Any spelling of the address reads the same wallet.
    let upper = format!("/v1/wallets/0x{}/tickets", ALICE[2..].to_uppercase());
    assert_eq!(get(app, &upper).await.body, reply.body);
    assert_eq!(
        get(app, &format!("/v1/wallets/{ALICE}/tickets")).await.body,
        reply.body
    );

    let cases: [(&str, &[&str], i64); 8] = [
        ("status=valid", &["2", "10", "100"], 3),
        ("status=used", &["9"], 1),
        ("status=revoked", &[BIG_TOKEN], 1),
        ("eventId=1", &["2", "9", "100"], 3),
        ("eventId=1&status=valid", &["2", "100"], 2),
        ("eventId=4", &[], 0),
        ("pageSize=2&page=2", &["10", "100"], 5),
        ("pageSize=2&page=4", &[], 5),
    ];
    for (query, tokens, total) in cases {
        let reply = get(app, &format!("{alice}?{query}")).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        assert_eq!(column(&reply, "tokenId"), tokens, "{query}");
        assert_eq!(reply.body["total"], total, "{query}");
    }
    let page = get(app, &format!("{alice}?pageSize=2&page=3")).await;
    assert_eq!(
        (&page.body["page"], &page.body["pageSize"]),
        (&json!(3), &json!(2))
    );
    assert_eq!(column(&page, "tokenId"), [BIG_TOKEN]);

    // Bob holds token 5 now; Carol held it once and holds nothing.
    let bob = get(app, &format!("/v1/wallets/{BOB}/tickets")).await;
    assert_eq!(column(&bob, "tokenId"), ["5"]);
    assert_eq!(bob.body["total"], 1);
    let carol = get(app, &format!("/v1/wallets/{CAROL}/tickets")).await;
    assert_eq!(
        carol.body,
        json!({"page": 1, "pageSize": 20, "total": 0, "items": []})
    );

    let bad_checksum = format!("0x{}", &ALICE[2..].replace('C', "c"));
    for (path, field) in [
        ("/v1/wallets/0x1234/tickets".to_owned(), "address"),
        ("/v1/wallets/alice.eth/tickets".to_owned(), "address"),
        (format!("/v1/wallets/{bad_checksum}/tickets"), "address"),
        (format!("{alice}?status=lost"), "status"),
        (format!("{alice}?eventId=01"), "eventId"),
        (format!("{alice}?pageSize=101"), "pageSize"),
        (format!("{alice}?page=0"), "page"),
    ] {
        get(app, &path)
            .await
            .assert_error(400, "VALIDATION_FAILED", Some(field));
    }
}

async fn market(app: &App) {
    let all = get(app, "/v1/market/listings").await;
    assert_eq!(all.status, 200, "{}", all.body);
    // Newest block first; within block 20, listing ids numerically (1, 4, 12).
    assert_eq!(column(&all, "id"), ["13", "1", "4", "12", "3", "2"]);
    assert_eq!(
        (&all.body["total"], &all.body["page"], &all.body["pageSize"]),
        (&json!(6), &json!(1), &json!(20))
    );
    assert_eq!(
        all.body["items"][0],
        json!({
            "id": "13", "tokenId": "5", "eventId": "1", "seller": BOB,
            "price": "600000000000000000", "currency": "ETH", "status": "listed",
            "createdBlock": 25, "updatedBlock": 25,
        })
    );

    let seller_alice = format!("seller={}", ALICE.to_lowercase());
    let seller_carol = format!("seller={CAROL}");
    let alice_listed = format!("{seller_alice}&status=listed");
    let cases: [(&str, &[&str], i64); 14] = [
        ("status=listed", &["13", "1", "4", "12"], 4),
        ("status=cancelled", &["3"], 1),
        ("status=sold", &["2"], 1),
        (&seller_alice, &["1", "4", "12", "3"], 4),
        (&seller_carol, &["2"], 1),
        (&alice_listed, &["1", "4", "12"], 3),
        ("eventId=2", &["4"], 1),
        ("eventId=1&status=listed", &["13", "1", "12"], 3),
        ("eventId=3", &[], 0),
        ("pageSize=2&page=2", &["4", "12"], 6),
        ("pageSize=4&page=2", &["3", "2"], 6),
        ("sort=createdBlock", &["2", "3", "1", "4", "12", "13"], 6),
        // Numeric price order (as text, 2 ETH would sort before 0.5 ETH).
        ("sort=price", &["2", "13", "4", "1", "3", "12"], 6),
        ("sort=-price&status=listed", &["12", "1", "4", "13"], 4),
    ];
    for (query, ids, total) in cases {
        let reply = get(app, &format!("/v1/market/listings?{query}")).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        assert_eq!(column(&reply, "id"), ids, "{query}");
        assert_eq!(reply.body["total"], total, "{query}");
    }

    for (query, field) in [
        ("status=open", "status"),
        ("status=LISTED", "status"),
        ("seller=0x12", "seller"),
        ("eventId=x", "eventId"),
        ("sort=newest", "sort"),
        ("pageSize=500", "pageSize"),
    ] {
        get(app, &format!("/v1/market/listings?{query}"))
            .await
            .assert_error(400, "VALIDATION_FAILED", Some(field));
    }

    // A sold listing with its trade; an open one with none.
    let sold = get(app, "/v1/market/listings/2").await;
    assert_eq!(sold.status, 200, "{}", sold.body);
    assert_eq!(
        sold.body,
        json!({
            "id": "2", "tokenId": "5", "eventId": "1", "seller": CAROL,
            "price": "500000000000000000", "currency": "ETH", "status": "sold",
            "createdBlock": 12, "updatedBlock": 12,
            "trade": {"buyer": BOB, "price": "500000000000000000", "txHash": tx(12), "blockNumber": 12}
        })
    );
    let open = get(app, "/v1/market/listings/12").await;
    assert_eq!(open.body["trade"], Value::Null, "{}", open.body);
    assert_eq!(open.body["price"], "123456789012345678901234567890");
    assert_eq!(open.body["seller"], ALICE);
    let cancelled = get(app, "/v1/market/listings/3").await;
    assert_eq!(
        (&cancelled.body["status"], &cancelled.body["trade"]),
        (&json!("cancelled"), &Value::Null)
    );

    get(app, "/v1/market/listings/99")
        .await
        .assert_error(404, "LISTING_NOT_FOUND", None);
    for bad in ["abc", "01", "-2"] {
        get(app, &format!("/v1/market/listings/{bad}"))
            .await
            .assert_error(400, "VALIDATION_FAILED", Some("id"));
    }
}

async fn chain_reads(runtime: Runtime) {
    let stack = Stack::start().await;
    stack
        .sql()
        .batch_atomic(projection())
        .await
        .expect("projection rows insert");
    let app = App::spawn(runtime, &stack, &[]).await;
    tickets(&app).await;
    wallets(&app).await;
    market(&app).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_chain_reads() {
    chain_reads(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_chain_reads() {
    chain_reads(Runtime::Wasmtime).await;
}
