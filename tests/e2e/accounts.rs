//! Accounts on both runtimes: wallet login with real ethers signatures (tests/js/api/), verifier
//! keys, rate limits and CORS.

use e2e::{App, JWT_AUDIENCE, JWT_SECRET, Runtime, Stack, run_node_tests};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use shared::ports::Sql;
use shared::sql::Statement;

/// anvil's account 9: listed in ADMIN_ADDRESSES for the login tests.
const ADMIN_KEY: &str = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6";
const ADMIN_ADDRESS: &str = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720";
const ORGANIZER_A: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ORGANIZER_B: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const FAN: &str = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

async fn wallet_logins_with_real_signatures(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[("ADMIN_ADDRESSES", ADMIN_ADDRESS)]).await;
    let report = run_node_tests(
        &["tests/js/api/auth.test.mjs".to_owned()],
        &[
            ("API_URL", &app.base_url),
            ("CHAIN_ID", "31337"),
            ("JWT_SECRET", JWT_SECRET),
            ("JWT_AUDIENCE", JWT_AUDIENCE),
            ("ADMIN_KEY", ADMIN_KEY),
        ],
    )
    .await;
    assert!(report.contains("# pass 8"), "{runtime:?}: {report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_wallet_logins_with_real_signatures() {
    wallet_logins_with_real_signatures(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_wallet_logins_with_real_signatures() {
    wallet_logins_with_real_signatures(Runtime::Wasmtime).await;
}

async fn insert_event(stack: &Stack, id: &str, organizer: &str) {
    stack
        .sql()
        .batch_atomic(vec![
            Statement::new("INSERT OR IGNORE INTO users (wallet, role, created_at) VALUES (?, 'organizer', 0)").bind(organizer),
            Statement::new(
                "INSERT INTO events (id, organizer, title, starts_at, ends_at, created_at, updated_at)
                 VALUES (?, ?, 'Test', 1000, 2000, 0, 0)",
            )
            .bind(id)
            .bind(organizer),
        ])
        .await
        .expect("event inserted");
}

async fn send(
    app: &App,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let reply = app.send(method, path, token, body, &[]).await;
    (reply.status, reply.body)
}

async fn verifier_keys_are_scoped_to_their_event(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[]).await;
    insert_event(&stack, "evt_a", ORGANIZER_A).await;
    insert_event(&stack, "evt_b", ORGANIZER_B).await;
    let (a, b, fan) = (
        app.token_for(ORGANIZER_A, Role::Organizer),
        app.token_for(ORGANIZER_B, Role::Organizer),
        app.token_for(FAN, Role::User),
    );
    let keys_of_a = "/v1/events/evt_a/verifier-keys";

    let (status, body) = send(
        &app,
        Method::POST,
        keys_of_a,
        Some(&fan),
        Some(json!({"name": "Gate 1"})),
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("FORBIDDEN_ROLE"))
    );
    let (status, body) = send(
        &app,
        Method::POST,
        keys_of_a,
        Some(&b),
        Some(json!({"name": "Gate 1"})),
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("EVENT_NOT_OWNER"))
    );
    let (status, body) = send(
        &app,
        Method::POST,
        keys_of_a,
        Some(&a),
        Some(json!({"name": ""})),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("name")));

    let (status, created) = send(
        &app,
        Method::POST,
        keys_of_a,
        Some(&a),
        Some(json!({"name": "Gate 1"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().expect("key shown once").to_owned();
    let key_id = created["id"].as_str().expect("id").to_owned();
    let stored: String = stack
        .sql()
        .execute(
            Statement::new("SELECT secret_hash FROM verifier_keys WHERE id = ?")
                .bind(key_id.as_str()),
        )
        .await
        .expect("query")
        .row(0)
        .expect("row")
        .get("secret_hash")
        .expect("hash");
    assert!(
        !key.contains(&stored) && stored.len() == 64,
        "only a hash is stored"
    );

    let (status, listed) = send(&app, Method::GET, keys_of_a, Some(&a), None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    assert!(
        !listed.to_string().contains(&key[key.len() - 20..]),
        "the secret is never listed"
    );

    let scan = |event: &'static str, key: String| {
        let app = &app;
        async move {
            let response = app
                .request(Method::GET, &format!("/v1/events/{event}/verifier/me"))
                .header("x-verifier-key", key)
                .send()
                .await
                .expect("sent");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, me) = scan("evt_a", key.clone()).await;
    assert_eq!((status, me["eventId"].as_str()), (200, Some("evt_a")));
    let (status, body) = scan("evt_b", key.clone()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("VERIFIER_KEY_WRONG_EVENT"))
    );
    let forged = format!(
        "{}{}",
        &key[..key.len() - 1],
        if key.ends_with('a') { 'b' } else { 'a' }
    );
    let (status, body) = scan("evt_a", forged).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("VERIFIER_KEY_INVALID"))
    );

    let revoke = format!("{keys_of_a}/{key_id}");
    let (status, body) = send(&app, Method::DELETE, &revoke, Some(&b), None).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("EVENT_NOT_OWNER"))
    );
    let (status, _) = send(&app, Method::DELETE, &revoke, Some(&a), None).await;
    assert_eq!(status, 200);
    let (status, body) = scan("evt_a", key.clone()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("VERIFIER_KEY_REVOKED"))
    );
    let (status, _) = send(&app, Method::DELETE, &revoke, Some(&a), None).await;
    assert_eq!(status, 200, "revoking twice is idempotent");
    let (status, body) = send(
        &app,
        Method::DELETE,
        &format!("{keys_of_a}/vk_nope"),
        Some(&a),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("VERIFIER_KEY_NOT_FOUND"))
    );

    // Exactly one audit row per effective write: create + first revoke.
    let audit = stack
        .sql()
        .execute(
            Statement::new("SELECT action FROM audit_log WHERE target = ? ORDER BY id")
                .bind(key_id.as_str()),
        )
        .await
        .expect("query");
    let actions: Vec<String> = audit
        .iter()
        .map(|r| r.get("action").expect("action"))
        .collect();
    assert_eq!(actions, ["verifier_key.create", "verifier_key.revoke"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_verifier_keys_are_scoped_to_their_event() {
    verifier_keys_are_scoped_to_their_event(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_verifier_keys_are_scoped_to_their_event() {
    verifier_keys_are_scoped_to_their_event(Runtime::Wasmtime).await;
}

/// One nonce request from `client`: as Cloudflare's edge reports it on Workers
/// (`CF-Connecting-IP`) and as `X-Forwarded-For` carries it on Spin (each runtime ignores the
/// other header). Returns the status and the `X-RateLimit-Remaining` header.
async fn nonce_from(app: &App, client: &str, forwarded_for: &str) -> (u16, Option<String>) {
    let response = app
        .request(Method::GET, &format!("/v1/auth/nonce?address={FAN}"))
        .header("cf-connecting-ip", client)
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .expect("sent");
    let remaining = response
        .headers()
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), remaining)
}

async fn bursts_beyond_the_bucket_get_429(runtime: Runtime) {
    let stack = Stack::start().await;
    // A bucket of 3 that refills one token every 100 s: the counts below are exact.
    let app = App::spawn(runtime, &stack, &[("RATE_LIMIT_AUTH", "0.01:3")]).await;
    let path = format!("/v1/auth/nonce?address={FAN}");
    let mut statuses = Vec::new();
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let response = app
            .request(Method::GET, &path)
            .header("cf-connecting-ip", "203.0.113.7")
            .header("x-forwarded-for", "203.0.113.7")
            .send()
            .await
            .expect("sent");
        statuses.push(response.status().as_u16());
        remaining.push(
            response
                .headers()
                .get("x-ratelimit-remaining")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        );
        if response.status() == 429 {
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("seconds");
            assert!((1..=100).contains(&retry), "retry-after {retry}");
            assert_eq!(response.headers()["x-ratelimit-limit"], "3");
            let body: Value = response.json().await.expect("json");
            assert_eq!(body["error_code"], "RATE_LIMITED");
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(
        remaining[..3],
        [
            Some("2".to_owned()),
            Some("1".to_owned()),
            Some("0".to_owned())
        ]
    );
    // Health probes are never limited.
    assert_eq!(app.get("/health").await.status(), 200);
    // Issue 12: proxies append on the right, so a value the client puts on the left of
    // X-Forwarded-For is free text and must not buy it a fresh bucket.
    let (status, _) = nonce_from(&app, "203.0.113.7", "198.51.100.1, 203.0.113.7").await;
    assert_eq!(
        status, 429,
        "a spoofed left-most X-Forwarded-For got a fresh bucket"
    );
    // Another client (as the ingress saw it) still has its own bucket.
    let (status, remaining) = nonce_from(&app, "198.51.100.1", "198.51.100.1").await;
    assert_eq!((status, remaining.as_deref()), (200, Some("2")));
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_bursts_beyond_the_bucket_get_429() {
    bursts_beyond_the_bucket_get_429(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_bursts_beyond_the_bucket_get_429() {
    bursts_beyond_the_bucket_get_429(Runtime::Wasmtime).await;
}

/// Issue 12: behind two proxies (`TRUSTED_PROXY_HOPS=2`) the client is the second entry from
/// the right; neither what it writes on the left nor which node of the outer proxy appended
/// the right-most entry changes its bucket. Too few entries: no IP bucket at all (never a
/// shared one another client could drain). Spin only: Workers read `CF-Connecting-IP`.
#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_trusted_proxy_hops_pick_the_client_from_the_right() {
    let stack = Stack::start().await;
    let app = App::spawn(
        Runtime::Wasmtime,
        &stack,
        &[("RATE_LIMIT_AUTH", "0.01:3"), ("TRUSTED_PROXY_HOPS", "2")],
    )
    .await;
    let client = "203.0.113.7";
    let mut statuses = Vec::new();
    for (spoof, proxy) in [
        ("6.6.6.6", "10.0.0.2"),
        ("7.7.7.7", "10.0.0.3"),
        ("8.8.8.8", "10.0.0.2"),
        ("9.9.9.9", "10.0.0.4"),
    ] {
        let forwarded = format!("{spoof}, {client}, {proxy}");
        statuses.push(nonce_from(&app, client, &forwarded).await.0);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    let (status, remaining) = nonce_from(&app, client, "203.0.113.8, 10.0.0.2").await;
    assert_eq!(
        (status, remaining.as_deref()),
        (200, Some("2")),
        "another client"
    );
    // One entry where two proxies should have written: no usable address, so no IP bucket;
    // the request is not limited by (nor does it drain) anyone's bucket.
    for _ in 0..4 {
        let (status, remaining) = nonce_from(&app, client, client).await;
        assert_eq!((status, remaining), (200, None));
    }
}

async fn cors_allows_only_configured_origins(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(
        runtime,
        &stack,
        &[("CORS_ALLOWED_ORIGINS", "https://shop.example")],
    )
    .await;
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/v1/auth/siwe/challenge")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://shop.example").await.expect("sent");
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_eq!(allowed.headers()["access-control-allow-methods"], "POST");
    // Issue 12: a cross-origin shop must get through the queue (its ticket and admission
    // token), create idempotently, and read the rate-limit headers to back off.
    let listed = |response: &reqwest::Response, name: &str| -> Vec<String> {
        response.headers()[name]
            .to_str()
            .expect("ascii")
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect()
    };
    let allowed_headers = listed(&allowed, "access-control-allow-headers");
    for header in ["x-admission-token", "x-queue-ticket", "idempotency-key"] {
        assert!(
            allowed_headers.iter().any(|h| h == header),
            "{header} not in {allowed_headers:?}"
        );
    }
    let denied = preflight("https://evil.example").await.expect("sent");
    assert_eq!(denied.status(), 403);
    let body: Value = denied.json().await.expect("json");
    assert_eq!(body["error_code"], "CORS_ORIGIN_DENIED");

    let actual = app
        .request(Method::GET, "/health")
        .header("origin", "https://shop.example")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        actual.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let exposed = listed(&actual, "access-control-expose-headers");
    for header in [
        "retry-after",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-request-id",
        "etag",
    ] {
        assert!(
            exposed.iter().any(|h| h == header),
            "{header} not in {exposed:?}"
        );
    }
    let foreign = app
        .request(Method::GET, "/health")
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("sent");
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_cors_allows_only_configured_origins() {
    cors_allows_only_configured_origins(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_cors_allows_only_configured_origins() {
    cors_allows_only_configured_origins(Runtime::Wasmtime).await;
}

/// Issue 12: the scanner page holds a verifier key, so it and its files come with a strict
/// Content-Security-Policy (own files only, no inline code), and the page offers to forget the
/// key. The browser test (checkin.rs) runs the page under this policy.
async fn the_scanner_page_sends_a_strict_csp(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[]).await;
    for (path, content_type) in [
        ("/scanner/", "text/html"),
        ("/scanner/app.js", "text/javascript"),
        ("/scanner/app.css", "text/css"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(header("content-type").starts_with(content_type), "{path}");
        let policy = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                policy.contains(directive),
                "{path}: {directive} not in {policy:?}"
            );
        }
        assert!(!policy.contains("unsafe-"), "{path}: {policy:?}");
        if path == "/scanner/" {
            let page = response.text().await.expect("page");
            assert!(
                page.contains(r#"id="forget-key""#),
                "the page offers to forget the key"
            );
            assert!(!page.contains("<style"), "inline styles would be refused");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_the_scanner_page_sends_a_strict_csp() {
    the_scanner_page_sends_a_strict_csp(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_the_scanner_page_sends_a_strict_csp() {
    the_scanner_page_sends_a_strict_csp(Runtime::Wasmtime).await;
}
