//! The gate of the hot routes: their rate limit and the token's revocation are checked inside
//! the route's own script call. Same answers as every other route: 429 with `Retry-After` and
//! `X-RateLimit-*`, 401 `AUTH_TOKEN_REVOKED` after a logout.

use e2e::catalog::{EventSpec, publish_event, seat};
use e2e::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::json;
use shared::domain::Role;

const BUYER: &str = "0x0000000000000000000000000000000000007001";

async fn bursts_beyond_the_bucket_get_429(runtime: Runtime) {
    let stack = Stack::start().await;
    // The organizer's catalog writes draw from the same write bucket: set up first, then
    // measure holds from a fresh App whose bucket holds 3 tokens.
    let setup = App::spawn(runtime, &stack, &[]).await;
    let event = publish_event(&setup, &EventSpec::new(10, 0)).await;
    let app = App::spawn(runtime, &stack, &[("RATE_LIMIT_WRITE", "0.01:3")]).await;
    let token = app.token_for(BUYER, Role::User);
    let mut statuses = Vec::new();
    for n in 0..5 {
        let reply = app
            .send(
                Method::POST,
                "/v1/holds",
                Some(&token),
                Some(json!({"eventId": event.id, "seats": [seat(n)]})),
                &[],
            )
            .await;
        assert_eq!(
            reply.header("x-ratelimit-limit"),
            Some("3"),
            "{}",
            reply.body
        );
        if reply.status == 429 {
            reply.assert_error(429, "RATE_LIMITED", None);
            assert!(reply.header("retry-after").is_some());
            assert_eq!(reply.header("x-ratelimit-remaining"), Some("0"));
        }
        statuses.push(reply.status);
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429]);
}

async fn a_logged_out_token_is_refused_by_the_hot_routes(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[("RATE_LIMIT_WRITE", "1000:1000")]).await;
    let event = publish_event(&app, &EventSpec::new(4, 0)).await;
    let token = app.token_for(BUYER, Role::User);
    let want = json!({"eventId": event.id, "seats": [seat(0)]});
    let held = app
        .send(Method::POST, "/v1/holds", Some(&token), Some(want), &[])
        .await;
    assert_eq!(held.status, 201, "{}", held.body);
    let out = app
        .send(Method::POST, "/v1/auth/logout", Some(&token), None, &[])
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    let again = json!({"eventId": event.id, "seats": [seat(1)]});
    app.send(Method::POST, "/v1/holds", Some(&token), Some(again), &[])
        .await
        .assert_error(401, "AUTH_TOKEN_REVOKED", None);
    app.send(
        Method::POST,
        "/v1/orders",
        Some(&token),
        Some(json!({"holdId": held.body["holdId"]})),
        &[("idempotency-key", "after-logout")],
    )
    .await
    .assert_error(401, "AUTH_TOKEN_REVOKED", None);
    app.send(
        Method::POST,
        &format!("/v1/sales/{}/queue", event.id),
        Some(&token),
        None,
        &[],
    )
    .await
    .assert_error(401, "AUTH_TOKEN_REVOKED", None);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_hot_routes_get_429_beyond_the_bucket() {
    bursts_beyond_the_bucket_get_429(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_hot_routes_get_429_beyond_the_bucket() {
    bursts_beyond_the_bucket_get_429(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_hot_routes_refuse_a_logged_out_token() {
    a_logged_out_token_is_refused_by_the_hot_routes(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_hot_routes_refuse_a_logged_out_token() {
    a_logged_out_token_is_refused_by_the_hot_routes(Runtime::Wasmtime).await;
}
