use super::*;
use crate::testing::{FakeRng, FakeServices};
use futures::executor::block_on;
use serde_json::Value;

fn call(services: &FakeServices, method: &str, path: &str) -> (Response, Sample) {
    block_on(handle(services, Request::new(method, path), "rid-1"))
}

fn body(response: &Response) -> Value {
    serde_json::from_slice(&response.body).expect("JSON body")
}

#[test]
fn unknown_route_is_a_404_error_body() {
    let (response, sample) = call(&FakeServices::up(), "GET", "/v1/nope?x=1");
    assert_eq!(response.status, 404);
    assert_eq!(body(&response)["error_code"], "ROUTE_NOT_FOUND");
    assert_eq!(body(&response)["request_id"], "rid-1");
    assert_eq!(response.headers.get("x-request-id"), Some("rid-1"));
    assert_eq!((sample.route, sample.status), ("unmatched", 404));
}

#[test]
fn wrong_or_unknown_method_is_a_405_with_allow() {
    for method in ["POST", "BREW"] {
        let (response, sample) = call(&FakeServices::up(), method, "/health");
        assert_eq!(response.status, 405);
        assert_eq!(response.headers.get("allow"), Some("GET, HEAD"));
        assert_eq!(body(&response)["error_code"], "METHOD_NOT_ALLOWED");
        assert_eq!(sample.route, "/health");
    }
    let (_, sample) = call(&FakeServices::up(), "BREW", "/health");
    assert_eq!(sample.method, "OTHER");
}

#[test]
fn head_is_get_without_a_body() {
    let (response, _) = call(&FakeServices::up(), "HEAD", "/health");
    assert_eq!(response.status, 200);
    assert!(response.body.is_empty());
}

#[test]
fn ready_names_every_dependency_that_is_down() {
    let mut services = FakeServices::up();
    let (response, _) = call(&services, "GET", "/ready");
    assert_eq!(response.status, 200);
    let checked_at = body(&response)["checkedAt"].clone();
    services.redis.up = false;
    services.chain.chain_id = Some(1);
    // Inside READY_CACHE_MS the instance answers its last verdict: no dependency is asked.
    let window = services.config().ready_cache_ms;
    crate::testing::FakeClock::advance(window - 1);
    let (response, _) = call(&services, "GET", "/ready");
    assert_eq!(response.status, 200);
    assert_eq!(body(&response)["checkedAt"], checked_at);
    assert_eq!(
        response.headers.get("age"),
        Some(&*((window - 1) / 1000).to_string())
    );
    crate::testing::FakeClock::advance(1);
    let (response, _) = call(&services, "GET", "/ready");
    assert_eq!(response.status, 503);
    let body = body(&response);
    assert_eq!(body["down"], serde_json::json!(["redis", "rpc"]));
    assert_eq!(body["checks"]["libsql"]["status"], "up");
    assert!(
        body["checks"]["rpc"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("chain 1"))
    );
}

#[test]
fn metrics_render_what_was_recorded() {
    let services = FakeServices::up();
    let (_, sample) = call(&services, "GET", "/health");
    let _ = pending::take();
    let policy = pending::FlushPolicy::new(&services.config().metrics, false);
    assert_eq!(pending::record(&sample, 0, policy, false), None);
    let (response, _) = call(&services, "GET", "/metrics");
    let text = String::from_utf8(response.body).expect("utf-8");
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/health",status="200"} 1"#),
        "{text}"
    );
}

/// A services stack whose generator fails, like a platform whose `getrandom` errors.
fn broken_rng() -> FakeServices {
    let mut services = FakeServices::up();
    services.rng = FakeRng { broken: true };
    services
}

fn post_json(services: &FakeServices, path: &str, body: Value, bearer: Option<&str>) -> Response {
    let mut request = Request::new("POST", path);
    request.headers.set("content-type", "application/json");
    if let Some(token) = bearer {
        request
            .headers
            .set("authorization", format!("Bearer {token}"));
    }
    request.body = body.to_string().into_bytes();
    block_on(handle(services, request, "rid-1")).0
}

fn assert_rng_unavailable(services: &FakeServices, response: &Response) {
    assert_eq!(response.status, 503, "{:?}", body(response));
    assert_eq!(body(response)["error_code"], "RNG_UNAVAILABLE");
    // Nothing was written (nor read): the failure came before any dependency was touched.
    assert_eq!(*services.redis.sent.borrow(), Vec::<String>::new());
    assert_eq!(services.sql.sent.get(), 0);
}

// Issue 12, item 9: a failing generator must not hand out zero-byte nonces.
#[test]
fn a_siwe_challenge_without_randomness_is_a_503_that_stores_no_nonce() {
    let services = broken_rng();
    let response = post_json(
        &services,
        "/v1/auth/siwe/challenge",
        serde_json::json!({"address": "0x00000000000000000000000000000000000000a1", "chainId": 31337}),
        None,
    );
    assert_rng_unavailable(&services, &response);
}

// Issue 12, item 9: nor guessable hold ids.
#[test]
fn a_hold_without_randomness_is_a_503_that_holds_nothing() {
    let services = broken_rng();
    let wallet = shared::domain::WalletAddress::parse("0x00000000000000000000000000000000000000a1")
        .expect("valid address");
    let token = crate::extract::jwt_codec(&services)
        .issue(
            &wallet,
            shared::domain::Role::User,
            "jti-1",
            "sid-1",
            1_700_000_000_000,
        )
        .expect("token");
    let response = post_json(
        &services,
        "/v1/holds",
        serde_json::json!({"eventId": "evt_00000000000000000001", "ticketTypeId": "tt_00000000000000000001", "quantity": 1}),
        Some(&token),
    );
    assert_rng_unavailable(&services, &response);
}

// Issue 12, item 6: the simple login message names the site; one made for another site is
// refused before its signature is checked or its nonce touched.
#[test]
fn a_simple_login_message_for_another_domain_is_refused() {
    let services = FakeServices::up();
    let verify = |message: &str| {
        post_json(
            &services,
            "/v1/auth/verify-sig",
            serde_json::json!({"address": "0x00000000000000000000000000000000000000a1", "message": message, "signature": "0x00"}),
            None,
        )
    };
    let foreign = verify("Login to OnlineTicket at tickets.evil.example: nonce=abcdefghijklmnop");
    assert_eq!(foreign.status, 401);
    assert_eq!(body(&foreign)["error_code"], "LOGIN_DOMAIN_MISMATCH");
    let bare = verify("Login to OnlineTicket: nonce=abcdefghijklmnop");
    assert_eq!(bare.status, 400);
    assert_eq!(body(&bare)["error_code"], "LOGIN_MESSAGE_INVALID");
    assert!(
        !services
            .redis
            .sent
            .borrow()
            .iter()
            .any(|c| c.starts_with("EVAL"))
    );
}

#[test]
fn a_request_id_is_made_even_without_randomness() {
    let request = Request::new("GET", "/health");
    assert_eq!(
        request_id(&request, &FakeRng { broken: true }),
        "rng-unavailable"
    );
}

#[test]
fn request_ids_are_kept_when_well_formed_and_made_otherwise() {
    let mut request = Request::new("GET", "/health");
    request.headers.set("x-request-id", "abc-123");
    assert_eq!(request_id(&request, &FakeRng::OK), "abc-123");
    request.headers.set("x-request-id", "bad id with spaces");
    assert_eq!(request_id(&request, &FakeRng::OK), "ab".repeat(12));
}
