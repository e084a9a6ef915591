//! Issue 13, items 2 and 5: what must not reopen after a Redis loss, and role changes that
//! bite at once, on both runtimes. Sessions live in libSQL (`sessions`, migration 0010) and
//! Redis caches their state: after `FLUSHALL` a logged-out token stays refused, a live session
//! keeps working (refresh included), `/ready` stays 200 on the indexer's libSQL cursor, and a
//! replayed scan nonce says `replayed: true`. A role change (the admin route, or
//! `ADMIN_ADDRESSES` at login) refuses the wallet's tokens minted with the old role at once,
//! promotion and demotion alike. Real SIWE logins (ethers).

use crate::indexer::Chain;
use e2e::catalog::{EventSpec, publish_event, seat};
use e2e::chain::{DEV_ADDRESSES, DEV_KEYS};
use e2e::door::{code_pair, verifier_key};
use e2e::payments::{buy_seats, now_ms};
use e2e::wallet::siwe_login as login;
use e2e::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use shared::ports::Redis;
use shared::redis::Command;

async fn flushall(stack: &Stack) {
    stack
        .redis()
        .exec(Command::new("FLUSHALL"))
        .await
        .expect("FLUSHALL");
}

fn token(session: &Value, field: &str) -> String {
    session[field].as_str().expect("token").to_owned()
}

/// `GET /v1/auth/me` (not gated) and a queue join (gated): status and error code of each.
async fn both_paths(app: &App, event: &str, access: &str) -> [(u16, Value); 2] {
    let me = app
        .send(Method::GET, "/v1/auth/me", Some(access), None, &[])
        .await;
    let queue = app
        .send(
            Method::POST,
            &format!("/v1/sales/{event}/queue"),
            Some(access),
            None,
            &[],
        )
        .await;
    [
        (me.status, me.body["error_code"].clone()),
        (queue.status, queue.body["error_code"].clone()),
    ]
}

async fn refresh(app: &App, refresh_token: &str) -> (u16, Value) {
    let reply = app
        .send(
            Method::POST,
            "/v1/auth/refresh",
            None,
            Some(json!({"refreshToken": refresh_token})),
            &[],
        )
        .await;
    (reply.status, reply.body)
}

async fn sessions_outlive_a_redis_loss(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[("RATE_LIMIT_WRITE", "1000:1000")]).await;
    let event = publish_event(&app, &EventSpec::new(4, 0)).await.id;
    let ended = login(&app, DEV_KEYS[1], DEV_ADDRESSES[1]).await;
    let live = login(&app, DEV_KEYS[2], DEV_ADDRESSES[2]).await;
    let ended_access = token(&ended, "accessToken");
    let out = app
        .send(
            Method::POST,
            "/v1/auth/logout",
            Some(&ended_access),
            None,
            &[],
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.body);

    flushall(&stack).await;

    // The logged-out token and its refresh token stay refused.
    let revoked = (401, json!("AUTH_TOKEN_REVOKED"));
    assert_eq!(
        both_paths(&app, &event, &ended_access).await,
        [revoked.clone(), revoked.clone()],
        "{runtime:?}: a logout came undone"
    );
    let (status, body) = refresh(&app, &token(&ended, "refreshToken")).await;
    assert_eq!(
        (status, &body["error_code"]),
        (401, &json!("REFRESH_TOKEN_REVOKED")),
        "{runtime:?}: {body}"
    );

    // The live session goes on: its access token on both paths, then a refresh.
    let live_access = token(&live, "accessToken");
    let [me, queue] = both_paths(&app, &event, &live_access).await;
    assert_eq!(me.0, 200, "{runtime:?}: {me:?}");
    assert_ne!(queue.0, 401, "{runtime:?}: {queue:?}");
    let (status, rotated) = refresh(&app, &token(&live, "refreshToken")).await;
    assert_eq!(status, 200, "{runtime:?}: {rotated}");
    let [me, _] = both_paths(&app, &event, &token(&rotated, "accessToken")).await;
    assert_eq!(me.0, 200, "{runtime:?}: {me:?}");

    // Its replaced refresh token is reuse, across another loss: the session ends.
    flushall(&stack).await;
    let (status, body) = refresh(&app, &token(&live, "refreshToken")).await;
    assert_eq!(
        (status, &body["error_code"]),
        (401, &json!("REFRESH_TOKEN_REUSED")),
        "{runtime:?}: {body}"
    );
    assert_eq!(
        both_paths(&app, &event, &token(&rotated, "accessToken")).await,
        [revoked.clone(), revoked],
        "{runtime:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_sessions_outlive_a_redis_loss() {
    sessions_outlive_a_redis_loss(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_sessions_outlive_a_redis_loss() {
    sessions_outlive_a_redis_loss(Runtime::Wasmtime).await;
}

/// `POST /v1/events` with `access`: the status.
async fn create_event(app: &App, access: &str) -> (u16, Value) {
    let reply = app
        .send(
            Method::POST,
            "/v1/events",
            Some(access),
            Some(json!({"title": "Mine", "startsAt": 4_000_000_000_000_i64,
                        "endsAt": 4_000_007_200_000_i64})),
            &[],
        )
        .await;
    (reply.status, reply.body["error_code"].clone())
}

async fn set_role(app: &App, admin: &str, wallet: &str, role: &str) {
    let reply = app
        .send(
            Method::PUT,
            &format!("/v1/admin/users/{wallet}/role"),
            Some(admin),
            Some(json!({"role": role})),
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn role_changes_bite_at_once(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[("RATE_LIMIT_WRITE", "1000:1000")]).await;
    let admin = app.token_for(DEV_ADDRESSES[9], Role::Admin);
    let (key, wallet) = (DEV_KEYS[3], DEV_ADDRESSES[3]);
    let session = login(&app, key, wallet).await;
    let as_user = token(&session, "accessToken");
    let role_changed = (401, json!("AUTH_ROLE_CHANGED"));

    // Promotion: the user's token is refused at once; a refresh carries the new role.
    set_role(&app, &admin, wallet, "organizer").await;
    let event = publish_event(&app, &EventSpec::new(2, 0)).await.id;
    assert_eq!(
        both_paths(&app, &event, &as_user).await,
        [role_changed.clone(), role_changed.clone()],
        "{runtime:?}: a promotion left the old token working"
    );
    let (status, refreshed) = refresh(&app, &token(&session, "refreshToken")).await;
    assert_eq!(status, 200, "{refreshed}");
    let as_organizer = token(&refreshed, "accessToken");
    assert_eq!(create_event(&app, &as_organizer).await.0, 201);

    // Demotion: the organizer's token stops creating events at once, and stays refused
    // across a Redis loss (the role is read again from libSQL).
    set_role(&app, &admin, wallet, "user").await;
    assert_eq!(
        create_event(&app, &as_organizer).await,
        role_changed.clone(),
        "{runtime:?}: a demoted organizer still creates events"
    );
    flushall(&stack).await;
    assert_eq!(
        create_event(&app, &as_organizer).await,
        role_changed.clone(),
        "{runtime:?}: after FLUSHALL"
    );
    assert_eq!(
        both_paths(&app, &event, &as_organizer).await,
        [role_changed.clone(), role_changed],
        "{runtime:?}"
    );
    // The session itself lives on: a refresh gives a `user` token that works.
    let (status, again) = refresh(&app, &token(&refreshed, "refreshToken")).await;
    assert_eq!(status, 200, "{again}");
    let [me, queue] = both_paths(&app, &event, &token(&again, "accessToken")).await;
    assert_eq!(me.0, 200, "{runtime:?}: {me:?}");
    assert_ne!(queue.0, 401, "{runtime:?}: {queue:?}");
    assert_eq!(
        create_event(&app, &token(&again, "accessToken")).await.0,
        403
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_role_changes_bite_at_once() {
    role_changes_bite_at_once(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_role_changes_bite_at_once() {
    role_changes_bite_at_once(Runtime::Wasmtime).await;
}

/// `GET /v1/admin/audit` with `access`: status and error code.
async fn audit(app: &App, access: String) -> (u16, Value) {
    let reply = app
        .send(Method::GET, "/v1/admin/audit", Some(&access), None, &[])
        .await;
    (reply.status, reply.body["error_code"].clone())
}

/// `ADMIN_ADDRESSES` changes at login: a wallet taken off the list logs in again as `user`,
/// and its admin token from an earlier session is refused at once, not when it expires.
async fn list_changes_bite_at_once(runtime: Runtime) {
    let stack = Stack::start().await;
    let (key, wallet) = (DEV_KEYS[4], DEV_ADDRESSES[4]);
    // One deployment (one Redis prefix), redeployed with a shorter list.
    let prefix = format!("{}:", e2e::unique("list"));
    let listed = App::spawn(
        runtime,
        &stack,
        &[("ADMIN_ADDRESSES", wallet), ("REDIS_KEY_PREFIX", &prefix)],
    )
    .await;
    let first = login(&listed, key, wallet).await;
    assert_eq!(first["user"]["role"], "admin");
    let as_admin = token(&first, "accessToken");
    assert_eq!(audit(&listed, as_admin.clone()).await.0, 200);
    let unlisted = App::spawn(
        runtime,
        &stack,
        &[("ADMIN_ADDRESSES", ""), ("REDIS_KEY_PREFIX", &prefix)],
    )
    .await;
    let second = login(&unlisted, key, wallet).await;
    assert_eq!(second["user"]["role"], "user");
    // The first deployment's token (its audience), checked against the state both share.
    assert_eq!(
        audit(&listed, as_admin).await,
        (401, json!("AUTH_ROLE_CHANGED")),
        "{runtime:?}: the first session's admin token outlived the list"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_list_changes_bite_at_once() {
    list_changes_bite_at_once(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_list_changes_bite_at_once() {
    list_changes_bite_at_once(Runtime::Wasmtime).await;
}

async fn ready_outlives_a_redis_loss(runtime: Runtime) {
    let chain = Chain::start(runtime, &[("READY_CACHE_MS", "1000")]).await;
    chain.catch_up().await;
    let ready = chain.app.get("/ready").await;
    assert_eq!(ready.status(), 200);
    flushall(&chain.stack).await;
    // Past the instance's verdict cache: a fresh check, with the indexer's Redis hash gone.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let ready = chain.app.get("/ready").await;
    let status = ready.status();
    let body: Value = ready.json().await.expect("ready body");
    assert_eq!(status, 200, "{runtime:?}: {body}");
    assert_eq!(body["checks"]["indexer"]["status"], "up", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_ready_outlives_a_redis_loss() {
    ready_outlives_a_redis_loss(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_ready_outlives_a_redis_loss() {
    ready_outlives_a_redis_loss(Runtime::Wasmtime).await;
}

/// A scan's retry replays its first answer, labelled: before and after a Redis loss (then the
/// nonce is only in libSQL's `scans`), with the original answer and when it was given.
async fn scan_replays_say_so(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(
        runtime,
        &stack,
        &[
            ("RATE_LIMIT_WRITE", "100000:100000"),
            ("QR_SECRETS", "k1:door-secret-door-secret-door-secret-01"),
            ("PASS_KEY_SEED", "pass-seed-pass-seed-pass-seed-0123456789"),
        ],
    )
    .await;
    let spec = EventSpec {
        starts_at: now_ms() + 3_600_000,
        ..EventSpec::new(1, 0)
    };
    let event = publish_event(&app, &spec).await;
    let key = verifier_key(&app, &event.id, "durable").await;
    let holder = "0x0000000000000000000000000000000000002301";
    let bought = buy_seats(&app, &event.id, holder, &[seat(0)]).await;
    let (online, _) = code_pair(&app, holder, &bought.tickets[0]).await;
    let scan = |body: Value| {
        let key = key.clone();
        let app = &app;
        async move {
            let reply = app
                .send(
                    Method::POST,
                    "/v1/checkin/scan",
                    None,
                    Some(body),
                    &[("x-verifier-key", &key)],
                )
                .await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.body
        }
    };
    let body = json!({"code": online, "gate": "East", "deviceId": "dev-d",
                      "scannedAt": now_ms(), "nonce": "durable-nonce-0001"});
    let before = now_ms();
    let first = scan(body.clone()).await;
    let after = now_ms();
    assert_eq!(first["result"], "ok", "{first}");
    assert_eq!(first.get("replayed"), None, "{first}");

    // Strip the label: what is left is the first answer, unchanged.
    let original = |replay: &Value| {
        let mut rest = replay.clone();
        if let Some(members) = rest.as_object_mut() {
            members.remove("replayed");
            members.remove("answeredAt");
        }
        rest
    };
    let answered_at = |replay: &Value| replay["answeredAt"].as_i64().unwrap_or(0);
    let from_redis = scan(body.clone()).await;
    assert_eq!(from_redis["replayed"], true, "{runtime:?}: {from_redis}");
    assert_eq!(original(&from_redis), first);
    flushall(&stack).await;
    let from_libsql = scan(body).await;
    assert_eq!(
        from_libsql["replayed"], true,
        "{runtime:?}: the winning nonce answered ok again as if new: {from_libsql}"
    );
    assert_eq!(original(&from_libsql), first);
    for replay in [&from_redis, &from_libsql] {
        let at = answered_at(replay);
        assert!(
            (before - 1_000..=after + 1_000).contains(&at),
            "{runtime:?}: answeredAt {at} not the first scan's time ({before}..{after})"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_scan_replays_say_so() {
    scan_replays_say_so(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_scan_replays_say_so() {
    scan_replays_say_so(Runtime::Wasmtime).await;
}
