//! First the fixture (headers from Stripe's npm library, verdicts of its verifier), then the
//! checks issue 5 names (stale, tampered, several signatures, malformed headers) one by
//! one, then the header grammar, event parsing and two property tests.

use super::*;
use proptest::prelude::*;

const FIXTURE: &str = include_str!("../fixtures/stripe.json");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fixture {
    secret: String,
    other_secret: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    name: String,
    payload: String,
    header: String,
    now: i64,
    tolerance: i64,
    expect: String,
    event: Option<ExpectedEvent>,
    stripe_node: StripeNode,
    diverges_from_stripe_node: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExpectedEvent {
    id: String,
    event_type: String,
    payment_intent_id: Option<String>,
    metadata: BTreeMap<String, String>,
    amount: Option<i64>,
    currency: Option<String>,
}

#[derive(Deserialize)]
struct StripeNode {
    outcome: String,
}

fn fixture() -> Fixture {
    serde_json::from_str(FIXTURE).expect("fixtures/stripe.json parses")
}

fn case(name: &str) -> Case {
    fixture()
        .cases
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no fixture case {name}"))
}

/// The outcome in the fixture's vocabulary: `ok` or the variant's name.
fn outcome(result: &Result<StripeEvent, StripeSignatureError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(StripeSignatureError::Malformed) => "Malformed",
        Err(StripeSignatureError::NoSignatures) => "NoSignatures",
        Err(StripeSignatureError::Mismatch) => "Mismatch",
        Err(StripeSignatureError::TimestampOutsideTolerance { .. }) => "TimestampOutsideTolerance",
        Err(StripeSignatureError::EmptySecret) => "EmptySecret",
        Err(StripeSignatureError::InvalidEvent(_)) => "InvalidEvent",
    }
}

fn run(c: &Case, secret: &str, now: i64) -> Result<StripeEvent, StripeSignatureError> {
    verify(c.payload.as_bytes(), &c.header, secret, now, c.tolerance)
}

#[test]
fn every_fixture_case_has_its_expected_outcome_and_event() {
    let f = fixture();
    assert!(f.cases.len() >= 15, "the fixture lost cases");
    for c in &f.cases {
        let result = run(c, &f.secret, c.now);
        assert_eq!(outcome(&result), c.expect, "case {}", c.name);
        // Agreement with stripe-node's own verifier, except where we chose otherwise.
        assert_eq!(
            c.expect == c.stripe_node.outcome,
            !c.diverges_from_stripe_node,
            "case {}: stripe-node says {}",
            c.name,
            c.stripe_node.outcome
        );
        if let (Ok(event), Some(want)) = (&result, &c.event) {
            let want = StripeEvent {
                id: want.id.clone(),
                event_type: want.event_type.clone(),
                payment_intent_id: want.payment_intent_id.clone(),
                metadata: want.metadata.clone(),
                amount: want.amount,
                currency: want.currency.clone(),
            };
            assert_eq!(event, &want, "case {}", c.name);
        }
    }
}

#[test]
fn valid_deliveries_parse_into_events() {
    let f = fixture();
    let ok = run(&case("succeeded"), &f.secret, case("succeeded").now).expect("valid");
    assert_eq!(ok.id, "evt_3SucceededOnlineTicket01");
    assert_eq!(ok.event_type, "payment_intent.succeeded");
    assert_eq!(
        ok.payment_intent_id.as_deref(),
        Some("pi_3SucceededOnlineTicket01")
    );
    assert_eq!(
        (ok.amount, ok.currency.as_deref()),
        (Some(4200), Some("eur"))
    );
    // Non-ASCII metadata: the MAC ran over the raw UTF-8 bytes.
    assert_eq!(
        ok.metadata.get("venue").map(String::as_str),
        Some("Zürich Hallenstadion")
    );

    let failed = case("payment_failed");
    let failed = run(&failed, &f.secret, failed.now).expect("valid");
    assert_eq!(failed.event_type, "payment_intent.payment_failed");
    assert_eq!(
        failed.metadata.get("order_id").map(String::as_str),
        Some("ord_01JGZ9XK")
    );
    assert_eq!(
        (failed.amount, failed.currency.as_deref()),
        (Some(9900), Some("usd"))
    );

    let charge = case("charge_succeeded");
    let charge = run(&charge, &f.secret, charge.now).expect("valid");
    assert_eq!(
        charge.payment_intent_id.as_deref(),
        Some("pi_3SucceededOnlineTicket01")
    );
    assert!(charge.metadata.is_empty());
}

#[test]
fn a_stale_delivery_is_refused_however_stale() {
    let f = fixture();
    let c = case("succeeded");
    let t = 1_767_225_600;
    for now in [t + 301, t + 86_400, t + 10 * 86_400, i64::MAX] {
        assert!(
            matches!(
                run(&c, &f.secret, now),
                Err(StripeSignatureError::TimestampOutsideTolerance {
                    tolerance_secs: 300,
                    ..
                })
            ),
            "now = {now}"
        );
    }
    // Within tolerance on the past side, and any amount into the future.
    for now in [t, t + 300, t - 3600, i64::MIN] {
        assert!(run(&c, &f.secret, now).is_ok(), "now = {now}");
    }
}

#[test]
fn tolerance_zero_still_checks_and_negative_counts_as_zero() {
    let f = fixture();
    let c = case("succeeded");
    let t = 1_767_225_600;
    let at = |now, tolerance| verify(c.payload.as_bytes(), &c.header, &f.secret, now, tolerance);
    assert!(at(t, 0).is_ok());
    assert!(matches!(
        at(t + 1, 0),
        Err(StripeSignatureError::TimestampOutsideTolerance {
            age_secs: 1,
            tolerance_secs: 0
        })
    ));
    assert!(matches!(
        at(t + 1, -5),
        Err(StripeSignatureError::TimestampOutsideTolerance {
            tolerance_secs: 0,
            ..
        })
    ));
}

#[test]
fn tampered_payloads_and_other_secrets_mismatch() {
    let f = fixture();
    for name in ["tampered_payload", "other_secret", "timestamp_moved"] {
        let c = case(name);
        assert!(
            matches!(
                run(&c, &f.secret, c.now),
                Err(StripeSignatureError::Mismatch)
            ),
            "{name}"
        );
    }
    // The other-secret header is genuine under the other secret.
    let c = case("other_secret");
    assert!(run(&c, &f.other_secret, c.now).is_ok());
    // One byte appended to a valid body.
    let c = case("succeeded");
    let mut body = c.payload.clone().into_bytes();
    body.push(b'\n');
    assert!(matches!(
        verify(&body, &c.header, &f.secret, c.now, 300),
        Err(StripeSignatureError::Mismatch)
    ));
}

#[test]
fn any_v1_may_match_whatever_its_position() {
    let f = fixture();
    let c = case("two_v1_second_valid");
    assert!(run(&c, &f.secret, c.now).is_ok());
    assert!(run(&c, &f.other_secret, c.now).is_ok());
    let (t, rest) = c.header.split_once(',').expect("t first");
    let (first, second) = rest.split_once(',').expect("two v1");
    let swapped = format!("{t},{second},{first}");
    assert!(verify(c.payload.as_bytes(), &swapped, &f.secret, c.now, 300).is_ok());
}

/// The valid `v1` of the `succeeded` case, to build headers around.
fn good_v1() -> String {
    let c = case("succeeded");
    c.header
        .split(',')
        .find_map(|i| i.strip_prefix("v1="))
        .expect("v1 in header")
        .to_owned()
}

fn check(header: &str) -> Result<StripeEvent, StripeSignatureError> {
    let c = case("succeeded");
    verify(c.payload.as_bytes(), header, &fixture().secret, c.now, 300)
}

#[test]
fn malformed_headers() {
    let v1 = good_v1();
    for header in [
        String::new(),
        "   ".to_owned(),
        "garbage".to_owned(),
        format!("v1={v1}"),
        format!("t=,v1={v1}"),
        format!("t=abc,v1={v1}"),
        format!("t=1767225600.5,v1={v1}"),
        format!("t=99999999999999999999,v1={v1}"),
        format!("t=1767225600,t=1767225600,v1={v1}"),
        format!("T=1767225600,v1={v1}"),
    ] {
        assert!(
            matches!(check(&header), Err(StripeSignatureError::Malformed)),
            "{header:?}"
        );
    }
}

#[test]
fn headers_without_v1_have_no_signatures() {
    let v1 = good_v1();
    for header in [
        "t=1767225600".to_owned(),
        format!("t=1767225600,v0={v1}"),
        format!("t=1767225600,V1={v1}"),
        format!("t=1767225600,v1x={v1}"),
    ] {
        assert!(
            matches!(check(&header), Err(StripeSignatureError::NoSignatures)),
            "{header:?}"
        );
    }
}

#[test]
fn v1_values_that_are_not_a_sha256_in_hex_never_match() {
    let v1 = good_v1();
    for bad in [
        "",
        "zz",
        &v1[..62],
        format!("{v1}00").as_str(),
        format!("{}g", &v1[..63]).as_str(),
    ] {
        let header = format!("t=1767225600,v1={bad}");
        assert!(
            matches!(check(&header), Err(StripeSignatureError::Mismatch)),
            "{bad:?}"
        );
    }
    // …but they do not stop a later good one.
    assert!(check(&format!("t=1767225600,v1=zz,v1={v1}")).is_ok());
}

#[test]
fn header_whitespace_case_and_junk_items_are_tolerated() {
    let v1 = good_v1();
    for header in [
        format!("t=1767225600, v1={v1}"),
        format!(" t = 1767225600 ,\tv1 = {v1} "),
        format!("t=1767225600,v1={}", v1.to_uppercase()),
        format!("t=1767225600,,junk,v1={v1},"),
        format!("t=+1767225600,v1={v1}"),
    ] {
        assert!(check(&header).is_ok(), "{header:?}");
    }
}

#[test]
fn an_empty_secret_is_refused_before_anything_else() {
    let c = case("succeeded");
    assert!(matches!(
        verify(c.payload.as_bytes(), &c.header, "", c.now, 300),
        Err(StripeSignatureError::EmptySecret)
    ));
}

#[test]
fn authentic_bodies_that_are_not_events_are_invalid_events() {
    let f = fixture();
    let c = case("signed_not_json");
    assert!(matches!(
        run(&c, &f.secret, c.now),
        Err(StripeSignatureError::InvalidEvent(_))
    ));
    // Minimal events parse; wrong types do not.
    let minimal = StripeEvent::from_json(br#"{"id":"evt_1","type":"ping"}"#).expect("minimal");
    assert_eq!(minimal.payment_intent_id, None);
    assert!(minimal.metadata.is_empty());
    let expanded = br#"{"id":"evt_2","type":"charge.refunded","data":{"object":{"object":"charge","payment_intent":{"id":"pi_9"}}}}"#;
    let expanded = StripeEvent::from_json(expanded).expect("expanded");
    assert_eq!(expanded.payment_intent_id.as_deref(), Some("pi_9"));
    for bad in [
        &br#"{"type":"ping"}"#[..],
        br#"{"id":"evt_3","type":"x","data":{"object":{"metadata":{"n":1}}}}"#,
        br#"{"id":"evt_4","type":"x","data":{"object":{"amount":"42"}}}"#,
        b"\xff\xfe",
    ] {
        assert!(StripeEvent::from_json(bad).is_err(), "{bad:?}");
    }
}

/// Signs like Stripe does; only for the property test, which needs bodies the fixture
/// cannot enumerate. The fixture cases prove this agrees with Stripe's library.
fn sign(payload: &[u8], secret: &str, t: i64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{t}.").as_bytes());
    mac.update(payload);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn the_test_signer_agrees_with_stripes_library() {
    let f = fixture();
    let c = case("succeeded");
    assert_eq!(
        sign(c.payload.as_bytes(), &f.secret, 1_767_225_600),
        c.header
    );
}

proptest! {
    #[test]
    fn any_header_is_refused_or_accepted_without_panicking(header in "\\PC{0,200}") {
        let _ = check(&header);
    }

    #[test]
    fn signed_bodies_verify_and_any_flipped_bit_mismatches(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        t in 0i64..4_000_000_000,
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let header = sign(&body, "whsec_prop", t);
        prop_assert_eq!(verify_signature(&body, &header, "whsec_prop", t, 300).ok(), Some(t));
        if !body.is_empty() {
            let mut tampered = body.clone();
            tampered[flip.index(body.len())] ^= 1 << bit;
            prop_assert!(matches!(
                verify_signature(&tampered, &header, "whsec_prop", t, 300),
                Err(StripeSignatureError::Mismatch)
            ));
        }
    }
}
