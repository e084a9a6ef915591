//! Login rules of issue 12 on both runtimes. Item 7: where an admin's role comes from —
//! `ADMIN_ADDRESSES` bootstraps admins at login; a wallet taken off the list loses the role at
//! its next refresh or login, while an admin granted by an operator (`otctl grant-admin`) keeps
//! it. Item 6: `LOGIN_SIMPLE=off` closes the simple login (the domain in its message is checked
//! by tests/js/api/auth.test.mjs). Real SIWE logins, signed by ethers (tests/js/api/sign.mjs).

use e2e::chain::{DEV_ADDRESSES, DEV_KEYS};
use e2e::wallet::{signature as sign, siwe_login as login};
use e2e::{App, Runtime, Stack, unique};
use reqwest::Method;
use serde_json::json;

/// The status of an admin-only read with `token`.
async fn audit_status(app: &App, token: &str) -> u16 {
    app.send(Method::GET, "/v1/admin/audit", Some(token), None, &[])
        .await
        .status
}

async fn admins_from_the_list_lose_the_role_when_taken_off_it(runtime: Runtime) {
    let stack = Stack::start().await;
    let (listed, listed_key) = (DEV_ADDRESSES[9], DEV_KEYS[9]);
    let (granted, granted_key) = (DEV_ADDRESSES[8], DEV_KEYS[8]);
    let (_, libsql_token) = stack.tokens();
    ops::admin::grant_admin(&stack.libsql_url, Some(libsql_token), granted)
        .await
        .expect("granted");
    // Both apps share one Redis prefix, so a session opened on the first refreshes on the
    // second: the same deployment, redeployed with a shorter list.
    let prefix = format!("{}:", unique("admins"));
    let both = format!("{listed},{granted}");
    let before = App::spawn(
        runtime,
        &stack,
        &[("ADMIN_ADDRESSES", &both), ("REDIS_KEY_PREFIX", &prefix)],
    )
    .await;
    let session = login(&before, listed_key, listed).await;
    assert_eq!(session["user"]["role"], "admin", "{runtime:?}");
    let access = session["accessToken"].as_str().expect("access token");
    assert_eq!(audit_status(&before, access).await, 200);
    // Being listed too does not turn the operator's grant into one the list can take back.
    let operator = login(&before, granted_key, granted).await;
    assert_eq!(operator["user"]["role"], "admin");
    drop(before);

    let after = App::spawn(
        runtime,
        &stack,
        &[("ADMIN_ADDRESSES", ""), ("REDIS_KEY_PREFIX", &prefix)],
    )
    .await;
    // Refresh: the new access token carries `user`.
    let refreshed = after
        .send(
            Method::POST,
            "/v1/auth/refresh",
            None,
            Some(json!({"refreshToken": session["refreshToken"]})),
            &[],
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let access = refreshed.body["accessToken"]
        .as_str()
        .expect("access token");
    assert_eq!(
        audit_status(&after, access).await,
        403,
        "{runtime:?}: refresh kept admin"
    );
    let me = after
        .send(Method::GET, "/v1/auth/me", Some(access), None, &[])
        .await;
    assert_eq!(me.body["role"], "user");

    // Login: `user`, and the admin route refuses it.
    let relogin = login(&after, listed_key, listed).await;
    assert_eq!(
        relogin["user"]["role"], "user",
        "{runtime:?}: login kept admin"
    );
    let access = relogin["accessToken"].as_str().expect("access token");
    let refused = after
        .send(Method::GET, "/v1/admin/audit", Some(access), None, &[])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    // The operator's admin keeps the role.
    let operator = login(&after, granted_key, granted).await;
    assert_eq!(operator["user"]["role"], "admin", "{runtime:?}");
    let access = operator["accessToken"].as_str().expect("access token");
    assert_eq!(audit_status(&after, access).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_admins_from_the_list_lose_the_role_when_taken_off_it() {
    admins_from_the_list_lose_the_role_when_taken_off_it(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_admins_from_the_list_lose_the_role_when_taken_off_it() {
    admins_from_the_list_lose_the_role_when_taken_off_it(Runtime::Wasmtime).await;
}

async fn the_simple_login_can_be_switched_off(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[("LOGIN_SIMPLE", "off")]).await;
    let (address, key) = (DEV_ADDRESSES[7], DEV_KEYS[7]);
    let nonce = app
        .send(
            Method::GET,
            &format!("/v1/auth/nonce?address={address}"),
            None,
            None,
            &[],
        )
        .await;
    nonce.assert_error(403, "LOGIN_SIMPLE_DISABLED", None);
    let message = format!(
        "Login to OnlineTicket at {}: nonce=abcdefghijklmnop",
        app.base_url.trim_start_matches("http://")
    );
    let signature = sign(key, &message).await;
    let verify = app
        .send(
            Method::POST,
            "/v1/auth/verify-sig",
            None,
            Some(json!({"address": address, "message": message, "signature": signature})),
            &[],
        )
        .await;
    verify.assert_error(403, "LOGIN_SIMPLE_DISABLED", None);
    // SIWE still works.
    assert_eq!(login(&app, key, address).await["user"]["role"], "user");
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_the_simple_login_can_be_switched_off() {
    the_simple_login_can_be_switched_off(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_the_simple_login_can_be_switched_off() {
    the_simple_login_can_be_switched_off(Runtime::Wasmtime).await;
}
