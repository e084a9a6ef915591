use super::*;

#[test]
fn a_line_is_one_json_object_with_ts_level_msg_and_the_fields() {
    let fields = request::RequestLine {
        method: "GET",
        route: "/v1/events/{id}",
        status: 404,
        duration_ms: 3,
        wallet: Some(short_wallet("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")),
        subrequests: 2,
        error_code: Some("EVENT_NOT_FOUND".to_owned()),
    };
    let text = line(
        1_764_456_000_123,
        Level::Info,
        "request",
        Some("rid-1"),
        &fields,
    );
    assert!(
        text.starts_with(r#"{"ts":"2025-11-29T22:40:00.123Z","level":"info","msg":"request","request_id":"rid-1","#),
        "{text}"
    );
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(value["route"], "/v1/events/{id}");
    assert_eq!(value["wallet"], "0xf39F…2266");
    assert_eq!(value["subrequests"], 2);
    assert_eq!(value["error_code"], "EVENT_NOT_FOUND");
    assert!(!is_error(&text));
}

#[test]
fn errors_stay_on_one_line_and_a_message_cannot_pose_as_an_error_level() {
    let text = error_line(0, "boom\nsecond line \"quoted\"", None);
    assert!(!text.contains('\n'), "{text}");
    assert!(text.starts_with(r#"{"ts":"1970-01-01T00:00:00.000Z","level":"error","#));
    assert!(is_error(&text));
    let posing = line(0, Level::Info, r#"x","level":"error","y"#, None, &());
    assert!(!is_error(&posing), "{posing}");
    let value: serde_json::Value = serde_json::from_str(&posing).expect("json");
    assert_eq!(value["level"], "info");
}

#[test]
fn secrets_are_scrubbed_and_short_values_left_alone() {
    let text = scrub(
        "GET https://r.example/?token=abcdefgh12345 failed: abc".to_owned(),
        &["abcdefgh12345", "abc"],
    );
    assert_eq!(text, "GET https://r.example/?token=[redacted] failed: abc");
}

#[test]
fn timestamps_are_rfc3339_across_leap_years() {
    assert_eq!(
        time::rfc3339_ms(951_782_400_000),
        "2000-02-29T00:00:00.000Z"
    );
    assert_eq!(
        time::rfc3339_ms(1_709_251_199_999),
        "2024-02-29T23:59:59.999Z"
    );
}

#[test]
fn short_wallets_never_hold_the_whole_address() {
    assert_eq!(short_wallet("0x1234"), "…");
}

#[test]
fn the_request_line_names_a_valid_caller_shortened_and_an_answered_error_code() {
    use crate::http::{Request, Response};
    use crate::services::Services;
    use shared::ports::Clock;
    let services = crate::testing::FakeServices::up();
    let wallet = shared::domain::WalletAddress::parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
        .expect("valid address");
    let now = services.clock().now_ms() as i64;
    let token = crate::extract::jwt_codec(&services)
        .issue(&wallet, shared::domain::Role::User, "jti-1", "sid-1", now)
        .expect("token");
    let mut request = Request::new("GET", "/v1/auth/me");
    request
        .headers
        .set("authorization", format!("Bearer {token}"));
    let short = request::caller_wallet(&services, &request, 200);
    assert_eq!(short.as_deref(), Some("0xf39F…2266"));
    // Refused for its token, or a token that does not verify: no caller.
    assert_eq!(request::caller_wallet(&services, &request, 401), None);
    request
        .headers
        .set("authorization", format!("Bearer {token}x"));
    assert_eq!(request::caller_wallet(&services, &request, 200), None);

    let answered = Response::json(503, &serde_json::json!({"error_code": "TICK_FAILED"}));
    assert_eq!(
        request::body_error_code(&answered).as_deref(),
        Some("TICK_FAILED")
    );
    let ok = Response::json(200, &serde_json::json!({"error_code": "NOT_AN_ERROR"}));
    assert_eq!(request::body_error_code(&ok), None);
}
