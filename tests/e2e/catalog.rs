//! The event catalog on both runtimes: organizer writes (events, ticket types, seat maps,
//! publish/cancel) with ownership, validation and audit; public reads with filters, paging,
//! sorting, ETags and cache invalidation.

use e2e::{App, Reply, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use shared::ports::Sql;
use shared::sql::Statement;

/// Anvil's first four accounts: two organizers, an admin, a plain user.
const ORGANIZER_A: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const ORGANIZER_B: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ADMIN: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const USER: &str = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
/// An ERC-20 address for token prices, sent lower-case and expected back EIP-55.
const TOKEN: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/// 2030-03-17T17:46:40Z: far enough ahead to be a plausible event date.
const T0: i64 = 1_900_000_000_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

async fn get(app: &App, path: &str) -> Reply {
    app.send(Method::GET, path, None, None, &[]).await
}

async fn write(app: &App, method: Method, path: &str, token: &str, body: Value) -> Reply {
    app.send(method, path, Some(token), Some(body), &[]).await
}

async fn post(app: &App, path: &str, token: &str) -> Reply {
    app.send(Method::POST, path, Some(token), None, &[]).await
}

/// Creates an event with one ticket type and publishes it; returns its id.
async fn published_event(app: &App, token: &str, title: &str, venue: &str, starts: i64) -> String {
    let event = write(
        app,
        Method::POST,
        "/v1/events",
        token,
        json!({"title": title, "venue": venue, "startsAt": starts, "endsAt": starts + 2 * HOUR}),
    )
    .await;
    assert_eq!(event.status, 201, "{}", event.body);
    let id = event.body["id"].as_str().expect("id").to_owned();
    let tt = write(
        app,
        Method::POST,
        &format!("/v1/events/{id}/ticket-types"),
        token,
        json!({"name": "GA", "price": "1000", "currency": "USD", "supply": 10}),
    )
    .await;
    assert_eq!(tt.status, 201, "{}", tt.body);
    let published = post(app, &format!("/v1/events/{id}/publish"), token).await;
    assert_eq!(published.status, 200, "{}", published.body);
    id
}

/// `(actor, action, target)` of every audit row, oldest first.
/// The TTL (s) of the read-cache hash of event `id` (the stack has one app, one prefix).
async fn cache_ttl_of(stack: &Stack, id: &str) -> i64 {
    use shared::ports::Redis;
    use shared::redis::{Command, Value as RedisValue};
    let redis = stack.redis();
    let pattern = format!("*cache:event:{id}");
    let keys = redis
        .exec(Command::new("KEYS").arg(pattern))
        .await
        .expect("redis");
    let RedisValue::Array(keys) = keys else {
        panic!("KEYS answered {keys:?}");
    };
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = keys[0].as_str().expect("key").to_owned();
    redis
        .exec(Command::new("TTL").arg(key))
        .await
        .expect("redis")
        .as_i64()
        .expect("integer")
}

async fn audit_rows(stack: &Stack) -> Vec<(String, String, String)> {
    let rows = stack
        .sql()
        .execute(Statement::new(
            "SELECT actor, action, target FROM audit_log ORDER BY id",
        ))
        .await
        .expect("audit rows");
    rows.iter()
        .map(|row| {
            (
                row.get::<String>("actor").expect("actor"),
                row.get::<String>("action").expect("action"),
                row.get::<String>("target").expect("target"),
            )
        })
        .collect()
}

fn titles(reply: &Reply) -> Vec<&str> {
    reply.body["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["title"].as_str()).collect())
        .unwrap_or_default()
}

async fn organizers_build_and_run_an_event(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[]).await;
    let a = app.token_for(ORGANIZER_A, Role::Organizer);
    let b = app.token_for(ORGANIZER_B, Role::Organizer);
    let admin = app.token_for(ADMIN, Role::Admin);
    let user = app.token_for(USER, Role::User);
    let new_event = json!({
        "title": "Jazz Night",
        "description": "Two sets.\nDoors at 19:00.",
        "venue": "Blue Hall",
        "timezone": "Europe/Paris",
        "startsAt": T0,
        "endsAt": T0 + 3 * HOUR,
        "saleStartsAt": T0 - 30 * DAY,
        "metadata": {"genre": "jazz"},
        "contractAddress": TOKEN.to_lowercase(),
        "chainEventId": "7"
    });

    // Who may create.
    app.send(
        Method::POST,
        "/v1/events",
        None,
        Some(new_event.clone()),
        &[],
    )
    .await
    .assert_error(401, "AUTH_TOKEN_MISSING", None);
    write(&app, Method::POST, "/v1/events", &user, new_event.clone())
        .await
        .assert_error(403, "FORBIDDEN_ROLE", None);

    // Malformed bodies name the field; nothing is written.
    let bad = |patch: Value| {
        let mut body = new_event.clone();
        for (k, v) in patch.as_object().expect("object") {
            if v.is_null() {
                body.as_object_mut().map(|o| o.remove(k));
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for (body, field) in [
        (bad(json!({"startsAt": "tomorrow"})), "startsAt"),
        (bad(json!({"startsAt": null})), "startsAt"),
        (bad(json!({"endsAt": T0 - 1})), "endsAt"),
        (bad(json!({"colour": "red"})), "colour"),
        (bad(json!({"title": ""})), "title"),
        (bad(json!({"timezone": "Paris"})), "timezone"),
        (bad(json!({"metadata": [1]})), "metadata"),
        (bad(json!({"chainEventId": "007"})), "chainEventId"),
    ] {
        write(&app, Method::POST, "/v1/events", &a, body)
            .await
            .assert_error(400, "VALIDATION_FAILED", Some(field));
    }
    write(
        &app,
        Method::POST,
        "/v1/events",
        &a,
        bad(json!({"saleEndsAt": T0 + 4 * HOUR})),
    )
    .await
    .assert_error(422, "SALE_WINDOW_OUTSIDE_EVENT", None);

    // Create: a draft owned by A, addresses EIP-55.
    let created = write(&app, Method::POST, "/v1/events", &a, new_event.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let event = created.body.clone();
    let id = event["id"].as_str().expect("id").to_owned();
    assert!(
        id.len() == 24 && id.starts_with("evt_") && id[4..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/events/{id}").as_str())
    );
    assert_eq!(event["status"], "draft");
    assert_eq!(event["organizer"], ORGANIZER_A);
    assert_eq!(event["contractAddress"], TOKEN);
    assert_eq!(event["chainEventId"], "7");
    assert_eq!(event["timezone"], "Europe/Paris");
    assert_eq!(event["startsAt"], T0);
    assert_eq!(event["saleStartsAt"], T0 - 30 * DAY);
    assert_eq!(event["saleEndsAt"], Value::Null);
    assert_eq!(event["metadata"], json!({"genre": "jazz"}));
    let path = format!("/v1/events/{id}");

    // Another event may not claim the same on-chain id.
    write(&app, Method::POST, "/v1/events", &b, new_event.clone())
        .await
        .assert_error(409, "CHAIN_EVENT_ID_TAKEN", None);

    // Drafts are not public.
    get(&app, &path)
        .await
        .assert_error(404, "EVENT_NOT_FOUND", None);
    get(&app, "/v1/events/evt_nope")
        .await
        .assert_error(404, "EVENT_NOT_FOUND", None);

    // PATCH: partial; only the owner or an admin.
    let patched = write(
        &app,
        Method::PATCH,
        &path,
        &a,
        json!({"title": "Jazz Night II", "chainEventId": null}),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["title"], "Jazz Night II");
    assert_eq!(patched.body["venue"], "Blue Hall");
    assert_eq!(patched.body["chainEventId"], Value::Null);
    assert!(patched.body["updatedAt"].as_i64() > event["updatedAt"].as_i64());
    write(&app, Method::PATCH, &path, &b, json!({"title": "Mine now"}))
        .await
        .assert_error(403, "EVENT_NOT_OWNER", None);
    write(
        &app,
        Method::PATCH,
        &path,
        &user,
        json!({"title": "Mine now"}),
    )
    .await
    .assert_error(403, "FORBIDDEN_ROLE", None);
    let by_admin = write(
        &app,
        Method::PATCH,
        &path,
        &admin,
        json!({"venue": "Green Hall"}),
    )
    .await;
    assert_eq!(by_admin.status, 200, "{}", by_admin.body);
    assert_eq!(by_admin.body["venue"], "Green Hall");
    assert_eq!(by_admin.body["organizer"], ORGANIZER_A);
    write(
        &app,
        Method::PATCH,
        &path,
        &a,
        json!({"startsAt": T0 + 4 * HOUR}),
    )
    .await
    .assert_error(400, "VALIDATION_FAILED", Some("startsAt"));
    write(&app, Method::PATCH, &path, &a, json!({}))
        .await
        .assert_error(400, "VALIDATION_FAILED", Some("body"));
    write(
        &app,
        Method::PATCH,
        "/v1/events/evt_00000000000000000000",
        &a,
        json!({"title": "x"}),
    )
    .await
    .assert_error(404, "EVENT_NOT_FOUND", None);

    // Publishing needs a ticket type.
    post(&app, &format!("{path}/publish"), &a)
        .await
        .assert_error(422, "EVENT_HAS_NO_TICKET_TYPES", None);

    // Ticket types.
    let types_path = format!("{path}/ticket-types");
    let ga = write(
        &app,
        Method::POST,
        &types_path,
        &a,
        json!({"name": "General admission", "price": "2500", "currency": "USD", "supply": 100, "perWalletLimit": 4}),
    )
    .await;
    assert_eq!(ga.status, 201, "{}", ga.body);
    let vip = write(
        &app,
        Method::POST,
        &types_path,
        &a,
        json!({"name": "VIP", "price": "1000000000000000000000", "currency": TOKEN.to_lowercase(),
               "supply": 0, "saleStartsAt": T0 - 10 * DAY, "saleEndsAt": T0 - DAY}),
    )
    .await;
    assert_eq!(vip.status, 201, "{}", vip.body);
    assert_eq!(vip.body["currency"], TOKEN);
    assert_eq!(vip.body["price"], "1000000000000000000000");
    assert_eq!(vip.body["perWalletLimit"], Value::Null);
    let (ga_id, vip_id) = (
        ga.body["id"].as_str().expect("id").to_owned(),
        vip.body["id"].as_str().expect("id").to_owned(),
    );
    assert!(ga_id.starts_with("tt_") && ga_id.len() == 23, "{ga_id}");
    let tt = |patch: Value| {
        let mut body = json!({"name": "X", "price": "1", "currency": "USD", "supply": 1});
        for (k, v) in patch.as_object().expect("object") {
            body[k] = v.clone();
        }
        body
    };
    for (body, field) in [
        (tt(json!({"price": "01"})), "price"),
        (tt(json!({"price": 25})), "price"),
        (tt(json!({"supply": -1})), "supply"),
        (tt(json!({"perWalletLimit": 0})), "perWalletLimit"),
        (tt(json!({"currency": "dollars"})), "currency"),
    ] {
        write(&app, Method::POST, &types_path, &a, body)
            .await
            .assert_error(400, "VALIDATION_FAILED", Some(field));
    }
    write(
        &app,
        Method::POST,
        &types_path,
        &a,
        tt(json!({"saleStartsAt": T0 - 31 * DAY})),
    )
    .await
    .assert_error(422, "SALE_WINDOW_OUTSIDE_EVENT", None);
    write(&app, Method::POST, &types_path, &b, tt(json!({})))
        .await
        .assert_error(403, "EVENT_NOT_OWNER", None);
    // A PATCH may not strand a ticket type's sale outside the event's.
    write(
        &app,
        Method::PATCH,
        &path,
        &a,
        json!({"saleStartsAt": T0 - 5 * DAY}),
    )
    .await
    .assert_error(422, "SALE_WINDOW_OUTSIDE_EVENT", None);

    // Seat map: validated per seat, replaced as a whole.
    let seats_path = format!("{path}/seats");
    let seat = |label: &str, tt: &str| json!({"label": label, "section": "Floor", "row": "A", "number": label, "ticketTypeId": tt});
    for (seats, field) in [
        (
            json!([seat("1", &ga_id), seat("", &ga_id)]),
            "seats[1].label",
        ),
        (
            json!([seat("1", &ga_id), seat("1", &vip_id)]),
            "seats[1].label",
        ),
        (
            json!([seat("1", "tt_00000000000000000000")]),
            "seats[0].ticketTypeId",
        ),
        (
            json!([{"label": "1", "ticketTypeId": ga_id, "colour": "red"}]),
            "seats[0].colour",
        ),
    ] {
        write(
            &app,
            Method::PUT,
            &seats_path,
            &a,
            json!({ "seats": seats }),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED", Some(field));
    }
    let too_many: Vec<Value> = (0..=10_000)
        .map(|i| json!({"label": i.to_string(), "ticketTypeId": ga_id}))
        .collect();
    write(
        &app,
        Method::PUT,
        &seats_path,
        &a,
        json!({ "seats": too_many }),
    )
    .await
    .assert_error(400, "VALIDATION_FAILED", Some("seats"));
    // The largest map goes in one batch.
    let full: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"label": format!("S-{i}"), "section": format!("Block {}", i / 1000),
                   "row": (i / 50).to_string(), "number": (i % 50).to_string(), "ticketTypeId": ga_id})
        })
        .collect();
    let full = write(&app, Method::PUT, &seats_path, &a, json!({ "seats": full })).await;
    assert_eq!(full.body, json!({"eventId": id, "total": 10_000}));
    let three = write(
        &app,
        Method::PUT,
        &seats_path,
        &a,
        json!({"seats": [seat("A-1", &ga_id), seat("A-2", &ga_id), seat("V-1", &vip_id)]}),
    )
    .await;
    assert_eq!(three.body, json!({"eventId": id, "total": 3}));
    let two = write(
        &app,
        Method::PUT,
        &seats_path,
        &a,
        json!({"seats": [seat("B-2", &ga_id), {"label": "B-1", "ticketTypeId": vip_id}]}),
    )
    .await;
    assert_eq!(two.body, json!({"eventId": id, "total": 2}));

    // Publish once.
    let published = post(&app, &format!("{path}/publish"), &a).await;
    assert_eq!(published.status, 200, "{}", published.body);
    assert_eq!(published.body["status"], "published");
    post(&app, &format!("{path}/publish"), &a)
        .await
        .assert_error(409, "EVENT_STATE_CONFLICT", None);

    // The public sees it all.
    let detail = get(&app, &path).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.body, published.body);
    let types = get(&app, &types_path).await;
    assert_eq!(types.status, 200);
    assert_eq!(types.body["eventId"], id.as_str());
    assert_eq!(types.body["items"], json!([ga.body, vip.body]));
    let seats = get(&app, &seats_path).await;
    assert_eq!(
        seats.body,
        json!({"eventId": id, "total": 2, "items": [
            {"label": "B-2", "section": "Floor", "row": "A", "number": "B-2", "ticketTypeId": ga_id},
            {"label": "B-1", "section": "", "row": "", "number": "", "ticketTypeId": vip_id},
        ]})
    );

    // Cancel: then read-only, still visible.
    post(&app, &format!("{path}/cancel"), &b)
        .await
        .assert_error(403, "EVENT_NOT_OWNER", None);
    let cancelled = post(&app, &format!("{path}/cancel"), &a).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    post(&app, &format!("{path}/cancel"), &a)
        .await
        .assert_error(409, "EVENT_STATE_CONFLICT", None);
    write(
        &app,
        Method::PATCH,
        &path,
        &admin,
        json!({"title": "Back on"}),
    )
    .await
    .assert_error(409, "EVENT_STATE_CONFLICT", None);
    write(&app, Method::POST, &types_path, &a, tt(json!({})))
        .await
        .assert_error(409, "EVENT_STATE_CONFLICT", None);
    write(&app, Method::PUT, &seats_path, &a, json!({"seats": []}))
        .await
        .assert_error(409, "EVENT_STATE_CONFLICT", None);
    assert_eq!(get(&app, &path).await.body["status"], "cancelled");

    // Exactly one audit row per successful write, by the acting wallet.
    let expected: Vec<(String, String, String)> = [
        (ORGANIZER_A, "event.create"),
        (ORGANIZER_A, "event.update"),
        (ADMIN, "event.update"),
        (ORGANIZER_A, "ticket_type.create"),
        (ORGANIZER_A, "ticket_type.create"),
        (ORGANIZER_A, "seats.replace"),
        (ORGANIZER_A, "seats.replace"),
        (ORGANIZER_A, "seats.replace"),
        (ORGANIZER_A, "event.publish"),
        (ORGANIZER_A, "event.cancel"),
    ]
    .into_iter()
    .map(|(actor, action)| (actor.to_owned(), action.to_owned(), id.clone()))
    .collect();
    assert_eq!(audit_rows(&stack).await, expected);
    let users = stack
        .sql()
        .execute(Statement::new(
            "SELECT wallet, role FROM users ORDER BY wallet",
        ))
        .await
        .expect("users");
    let users: Vec<(String, String)> = users
        .iter()
        .map(|r| {
            (
                r.get("wallet").expect("wallet"),
                r.get("role").expect("role"),
            )
        })
        .collect();
    assert_eq!(users, [(ORGANIZER_A.to_owned(), "organizer".to_owned())]);
}

async fn the_public_browses_the_catalog(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[]).await;
    let a = app.token_for(ORGANIZER_A, Role::Organizer);

    // Created in this order (so createdAt order differs from startsAt order).
    let opera = published_event(&app, &a, "Opera Gala", "Royal House", T0 + 3 * DAY).await;
    let jazz = published_event(&app, &a, "Jazz Night", "Blue Hall", T0 + DAY).await;
    let rock = published_event(&app, &a, "Rock Fest", "JAZZ Club Arena", T0 + 2 * DAY).await;
    let draft = write(
        &app,
        Method::POST,
        "/v1/events",
        &a,
        json!({"title": "Jazz Draft", "startsAt": T0 + DAY, "endsAt": T0 + DAY + HOUR}),
    )
    .await;
    assert_eq!(draft.status, 201);

    let list = get(&app, "/v1/events").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["total"], 3);
    assert_eq!(list.body["page"], 1);
    assert_eq!(list.body["pageSize"], 20);
    assert_eq!(titles(&list), ["Jazz Night", "Rock Fest", "Opera Gala"]);
    assert_eq!(list.body["items"][0]["id"], jazz.as_str());

    let cases: Vec<(String, Vec<&str>, i64)> = vec![
        ("q=jazz".into(), vec!["Jazz Night", "Rock Fest"], 2),
        ("q=ROYAL".into(), vec!["Opera Gala"], 1),
        ("q=nothing".into(), vec![], 0),
        (
            format!("from={}", T0 + 2 * DAY),
            vec!["Rock Fest", "Opera Gala"],
            2,
        ),
        // Half-open: an event starting exactly at `to` is not included.
        (format!("to={}", T0 + 2 * DAY), vec!["Jazz Night"], 1),
        (
            "sort=-startsAt".into(),
            vec!["Opera Gala", "Rock Fest", "Jazz Night"],
            3,
        ),
        (
            "sort=createdAt".into(),
            vec!["Opera Gala", "Jazz Night", "Rock Fest"],
            3,
        ),
        (
            "sort=-createdAt&pageSize=2".into(),
            vec!["Rock Fest", "Jazz Night"],
            3,
        ),
        (
            "sort=-createdAt&pageSize=2&page=2".into(),
            vec!["Opera Gala"],
            3,
        ),
    ];
    for (query, expected, total) in cases {
        let reply = get(&app, &format!("/v1/events?{query}")).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        assert_eq!(titles(&reply), expected, "{query}");
        assert_eq!(reply.body["total"], total, "{query}");
    }
    let combined = get(
        &app,
        &format!(
            "/v1/events?from={}&to={}&q=jazz",
            T0 + 2 * DAY,
            T0 + 3 * DAY
        ),
    )
    .await;
    assert_eq!(titles(&combined), ["Rock Fest"]);
    let beyond = get(&app, "/v1/events?page=3&pageSize=2").await;
    assert_eq!(
        (beyond.body["total"].as_i64(), titles(&beyond).len()),
        (Some(3), 0)
    );
    get(&app, "/v1/events?pageSize=101").await.assert_error(
        400,
        "VALIDATION_FAILED",
        Some("pageSize"),
    );
    get(&app, "/v1/events?sort=title")
        .await
        .assert_error(400, "VALIDATION_FAILED", Some("sort"));
    get(&app, "/v1/events?from=yesterday").await.assert_error(
        400,
        "VALIDATION_FAILED",
        Some("from"),
    );

    // The read cache: miss, then hit with the same ETag; If-None-Match gives 304.
    let path = format!("/v1/events/{jazz}");
    let first = get(&app, &path).await;
    assert_eq!((first.status, first.header("x-cache")), (200, Some("miss")));
    let etag = first.header("etag").expect("etag").to_owned();
    let second = get(&app, &path).await;
    assert_eq!(
        (second.status, second.header("x-cache")),
        (200, Some("hit"))
    );
    assert_eq!(second.header("etag"), Some(etag.as_str()));
    assert_eq!(second.raw, first.raw);
    // The event's cache hash expires (CACHE_TTL_SECS): before, its EXPIRE used the Redis 7
    // `NX` option, which Upstash (6.2) refuses, so the hash lived forever.
    let cache_ttl = cache_ttl_of(&stack, &jazz).await;
    assert!((1..=30).contains(&cache_ttl), "TTL {cache_ttl}");
    let not_modified = app
        .send(Method::GET, &path, None, None, &[("if-none-match", &etag)])
        .await;
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.raw.is_empty());
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    let list_first = get(&app, "/v1/events?q=jazz").await;
    let list_second = get(&app, "/v1/events?q=JAZZ").await;
    assert_eq!(
        list_second.header("x-cache"),
        Some("hit"),
        "same normalised query"
    );
    assert_eq!(list_second.raw, list_first.raw);

    // A write invalidates: the next read is a miss with the new title, then a hit.
    let patched = write(
        &app,
        Method::PATCH,
        &path,
        &a,
        json!({"title": "Jazz Night (moved)"}),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let after = get(&app, &path).await;
    assert_eq!(after.header("x-cache"), Some("miss"));
    assert_eq!(after.body["title"], "Jazz Night (moved)");
    let again = get(&app, &path).await;
    assert_eq!(again.header("x-cache"), Some("hit"));
    assert_ne!(again.header("etag"), Some(etag.as_str()));
    let stale = app
        .send(Method::GET, &path, None, None, &[("if-none-match", &etag)])
        .await;
    assert_eq!(stale.status, 200);
    let list_after = get(&app, "/v1/events?q=jazz").await;
    assert_eq!(list_after.header("x-cache"), Some("miss"));
    assert_eq!(titles(&list_after), ["Jazz Night (moved)", "Rock Fest"]);

    // Ticket types and seats of published events are public, through the same cache.
    let types = get(&app, &format!("/v1/events/{rock}/ticket-types")).await;
    assert_eq!(types.header("x-cache"), Some("miss"));
    assert_eq!(types.body["items"].as_array().map(Vec::len), Some(1));
    let seats = get(&app, &format!("/v1/events/{opera}/seats")).await;
    assert_eq!(
        seats.body,
        json!({"eventId": opera, "total": 0, "items": []})
    );
    let draft_id = draft.body["id"].as_str().expect("id");
    get(&app, &format!("/v1/events/{draft_id}/ticket-types"))
        .await
        .assert_error(404, "EVENT_NOT_FOUND", None);

    // Concurrent edits: each PATCH either commits (with its audit row) or is turned away whole
    // with 409 EVENT_CHANGED by the batch's guard; none is lost half-way.
    let mut edits = tokio::task::JoinSet::new();
    for i in 0..8 {
        let request = app
            .request(Method::PATCH, &format!("/v1/events/{opera}"))
            .bearer_auth(&a)
            .json(&json!({ "description": format!("take {i}") }));
        edits.spawn(async move {
            let response = request.send().await.expect("sent");
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("JSON");
            (i, status, body)
        });
    }
    let mut committed = Vec::new();
    while let Some(outcome) = edits.join_next().await {
        let (i, status, body) = outcome.expect("task");
        match status {
            200 => committed.push(format!("take {i}")),
            409 => assert_eq!(body["error_code"], "EVENT_CHANGED", "{body}"),
            other => panic!("PATCH answered {other}: {body}"),
        }
    }
    assert!(!committed.is_empty());
    let updates = audit_rows(&stack)
        .await
        .into_iter()
        .filter(|(_, action, target)| action == "event.update" && *target == opera)
        .count();
    assert_eq!(updates, committed.len());
    let last = get(&app, &format!("/v1/events/{opera}")).await;
    let description = last.body["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        committed.contains(&description),
        "{description} not in {committed:?}"
    );
}

/// Issue 13, item 4: a ticket type's name is unique within its event (ignoring ASCII case),
/// and the organizer or an admin can list a draft's ticket types while the public, a plain
/// user and another organizer still get 404.
async fn catalog_rules_a_client_expects(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[]).await;
    let (a, b) = (
        app.token_for(ORGANIZER_A, Role::Organizer),
        app.token_for(ORGANIZER_B, Role::Organizer),
    );
    let (admin, user) = (
        app.token_for(ADMIN, Role::Admin),
        app.token_for(USER, Role::User),
    );
    let event = write(
        &app,
        Method::POST,
        "/v1/events",
        &a,
        json!({"title": "Draft", "startsAt": T0, "endsAt": T0 + 2 * HOUR}),
    )
    .await;
    assert_eq!(event.status, 201, "{}", event.body);
    let id = event.body["id"].as_str().expect("id");
    let types = format!("/v1/events/{id}/ticket-types");
    let tt = |name: &str| json!({"name": name, "price": "100", "currency": "USD", "supply": 5});
    let first = write(&app, Method::POST, &types, &a, tt("VIP")).await;
    assert_eq!(first.status, 201, "{}", first.body);
    for name in ["VIP", "vip"] {
        write(&app, Method::POST, &types, &a, tt(name))
            .await
            .assert_error(409, "TICKET_TYPE_NAME_TAKEN", None);
    }
    let other = write(&app, Method::POST, &types, &a, tt("GA")).await;
    assert_eq!(other.status, 201, "{}", other.body);

    for (who, token) in [("organizer", &a), ("admin", &admin)] {
        let listed = app.send(Method::GET, &types, Some(token), None, &[]).await;
        assert_eq!(listed.status, 200, "{who}: {}", listed.body);
        let names: Vec<&str> = listed.body["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|t| t["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["VIP", "GA"], "{who}: {}", listed.body);
    }
    for token in [None, Some(&user), Some(&b), Some(&"not-a-token".to_owned())] {
        app.send(Method::GET, &types, token.map(String::as_str), None, &[])
            .await
            .assert_error(404, "EVENT_NOT_FOUND", None);
    }
    // Once published, the public list is the same.
    let published = post(&app, &format!("/v1/events/{id}/publish"), &a).await;
    assert_eq!(published.status, 200, "{}", published.body);
    let public = get(&app, &types).await;
    assert_eq!(public.status, 200, "{}", public.body);
    assert_eq!(public.body["items"].as_array().map(Vec::len), Some(2));
}

/// Migration 0009 on a database that already has duplicate names: nothing is deleted, the
/// oldest keeps its name, the later ones get their id appended, and the index then refuses a
/// new duplicate.
#[tokio::test(flavor = "multi_thread")]
async fn migration_0009_keeps_existing_duplicate_names() {
    let stack = Stack::start().await;
    let sql = stack.sql();
    let run = |text: &'static str| {
        let sql = &sql;
        async move { sql.execute(Statement::new(text)).await.expect(text) }
    };
    // Back to before 0009, with the duplicates an older version let in.
    run("DROP INDEX ticket_types_event_name").await;
    run("DELETE FROM schema_migrations WHERE version = 9").await;
    run("INSERT OR IGNORE INTO users (wallet, role, created_at) VALUES ('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'organizer', 0)").await;
    run(
        "INSERT INTO events (id, organizer, title, starts_at, ends_at, created_at, updated_at) \
         VALUES ('evt_dup', '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'Dup', 1, 2, 0, 0)",
    )
    .await;
    run("INSERT INTO ticket_types (id, event_id, name, price, currency, supply, created_at) VALUES \
         ('tt_a', 'evt_dup', 'VIP', '1', 'USD', 1, 0), ('tt_b', 'evt_dup', 'vip', '1', 'USD', 1, 0), \
         ('tt_c', 'evt_dup', 'VIP', '1', 'USD', 1, 0), ('tt_d', 'evt_dup', 'GA', '1', 'USD', 1, 0)")
        .await;
    let files = ops::migrations::load_dir(&e2e::root().join("migrations")).expect("load");
    let applied = shared::migrate::apply(&sql, &files, 0)
        .await
        .expect("0009 applies");
    assert_eq!(applied.applied, vec![9]);
    let names =
        run("SELECT id, name FROM ticket_types WHERE event_id = 'evt_dup' ORDER BY rowid").await;
    let names: Vec<(String, String)> = names
        .iter()
        .map(|row| (row.get("id").expect("id"), row.get("name").expect("name")))
        .collect();
    let expected = [
        ("tt_a", "VIP"),
        ("tt_b", "vip (tt_b)"),
        ("tt_c", "VIP (tt_c)"),
        ("tt_d", "GA"),
    ];
    assert_eq!(
        names,
        expected.map(|(id, name)| (id.to_owned(), name.to_owned()))
    );
    let again = sql
        .execute(Statement::new(
            "INSERT INTO ticket_types (id, event_id, name, price, currency, supply, created_at) \
             VALUES ('tt_e', 'evt_dup', 'Ga', '1', 'USD', 1, 0)",
        ))
        .await
        .expect_err("the index refuses a duplicate");
    assert!(again.is_unique_violation_of("ticket_types.name"), "{again}");
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_catalog_rules_a_client_expects() {
    catalog_rules_a_client_expects(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_catalog_rules_a_client_expects() {
    catalog_rules_a_client_expects(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_organizers_build_and_run_an_event() {
    organizers_build_and_run_an_event(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_organizers_build_and_run_an_event() {
    organizers_build_and_run_an_event(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_the_public_browses_the_catalog() {
    the_public_browses_the_catalog(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_the_public_browses_the_catalog() {
    the_public_browses_the_catalog(Runtime::Wasmtime).await;
}

/// `make dev` seeds this demo data; it must satisfy the same rules as API input.
#[tokio::test(flavor = "multi_thread")]
async fn demo_data_is_served_by_the_public_catalog() {
    let stack = e2e::Stack::start().await;
    let (_, token) = stack.tokens();
    ops::demo::seed(&stack.libsql_url, Some(token))
        .await
        .expect("demo data");
    let app = e2e::App::spawn(e2e::Runtime::Wasmtime, &stack, &[]).await;
    let list = app.get("/v1/events").await;
    assert_eq!(list.status(), 200);
    let list: serde_json::Value = list.json().await.expect("json");
    assert_eq!(list["total"], 1);
    let id = list["items"][0]["id"].as_str().expect("id").to_owned();
    let types = app.get(&format!("/v1/events/{id}/ticket-types")).await;
    assert_eq!(types.status(), 200);
    let seats: serde_json::Value = app
        .get(&format!("/v1/events/{id}/seats"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(seats.to_string().matches("VIP-A-").count(), 4, "{seats}");
    // The scanner key `make dev` prints opens the demo event's door.
    let me: serde_json::Value = app
        .request(reqwest::Method::GET, "/v1/checkin/me")
        .header(
            "x-verifier-key",
            "otvk_00000000000000d0_demo-door-secret-demo-door-secret-0001",
        )
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(me["eventId"], id, "{me}");
}
