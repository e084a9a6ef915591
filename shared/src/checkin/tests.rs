use super::online::{Keyring, OnlineCode, OnlineError};
use super::pass::{Pass, PassError, PassKeys};
use super::*;
use proptest::prelude::*;

fn keyring() -> Keyring {
    Keyring::new(vec![
        ("k2".into(), b"second-secret-second-secret-0123".to_vec()),
        ("k1".into(), b"first-secret-first-secret-012345".to_vec()),
    ])
    .expect("non-empty")
}

fn pass() -> Pass {
    Pass {
        key_generation: 1,
        pass_id: *b"\x01\x02\x03\x04\x05\x06\x07\x08",
        event_id: "evt_0123456789abcdef0123".into(),
        ticket_id: "tkt_00112233445566778899".into(),
        serial: "000042".into(),
        seat: "A-12".into(),
        ticket_type: "Floor".into(),
        valid_from_secs: 1_800_000_000,
        valid_until_secs: 1_800_086_400,
    }
}

#[test]
fn online_code_round_trips_and_expires() {
    let ring = keyring();
    let code = ring.sign("tkt_abc", "00ff00ff00ff", 1_000);
    assert_eq!(CodeKind::of(&code), CodeKind::Online);
    let parsed = ring.verify(&code, 1_000).expect("valid at exp");
    assert_eq!(parsed.ticket_id, "tkt_abc");
    assert_eq!(parsed.kid, "k2");
    assert!(
        matches!(ring.verify(&code, 1_001), Err(OnlineError::Expired { ticket_id }) if ticket_id == "tkt_abc")
    );
}

#[test]
fn online_code_from_a_rotated_out_key_still_verifies_while_listed() {
    let old = Keyring::new(vec![(
        "k1".into(),
        b"first-secret-first-secret-012345".to_vec(),
    )])
    .expect("non-empty");
    let code = old.sign("tkt_abc", "00ff00ff00ff", 1_000);
    assert!(keyring().verify(&code, 10).is_ok());
    let without_k1 = Keyring::new(vec![(
        "k2".into(),
        b"second-secret-second-secret-0123".to_vec(),
    )])
    .expect("non-empty");
    assert_eq!(without_k1.verify(&code, 10), Err(OnlineError::UnknownKey));
}

#[test]
fn forged_or_altered_online_codes_are_refused() {
    let ring = keyring();
    let code = ring.sign("tkt_abc", "00ff00ff00ff", 1_000);
    let (payload, mac) = code.split_once('.').expect("dot");
    // Another ticket's payload with this code's MAC.
    let altered = format!("{}.{mac}", b64("tkt_abd|00ff00ff00ff|1000|k2".as_bytes()));
    assert_eq!(ring.verify(&altered, 10), Err(OnlineError::BadSignature));
    // Extending the expiry.
    let later = format!("{}.{mac}", b64("tkt_abc|00ff00ff00ff|9999|k2".as_bytes()));
    assert_eq!(ring.verify(&later, 10), Err(OnlineError::BadSignature));
    // A MAC made with a secret we do not hold.
    let forged = Keyring::new(vec![("k2".into(), b"attacker".to_vec())])
        .expect("non-empty")
        .sign("tkt_abc", "00ff00ff00ff", 1_000);
    assert_eq!(ring.verify(&forged, 10), Err(OnlineError::BadSignature));
    assert_eq!(ring.verify(payload, 10), Err(OnlineError::Malformed));
    for junk in ["", ".", "a.b", "tkt_abc", &format!("{payload}.{payload}")] {
        assert_eq!(ring.verify(junk, 10), Err(OnlineError::Malformed), "{junk}");
    }
}

#[test]
fn pass_round_trips_and_is_small_enough_for_a_qr_code() {
    let keys = PassKeys::new(b"master-seed-master-seed-01234567");
    let text = pass().sign(&keys.signing_key("evt_0123456789abcdef0123", 1));
    assert_eq!(CodeKind::of(&text), CodeKind::Offline);
    assert!(text.len() < 260, "{} chars", text.len());
    let verified = Pass::verify(&text, |event, generation| {
        Some(keys.verifying_key(event, generation))
    })
    .expect("verifies");
    assert_eq!(verified, pass());
    assert_eq!(verified.pass_id_hex(), "0102030405060708");
    assert!(verified.is_current(1_800_000_000));
    assert!(!verified.is_current(1_800_086_401));
    assert!(svg::render(&text, 4).expect("fits").starts_with("<?xml"));
}

#[test]
fn pass_signed_by_another_key_or_altered_is_refused() {
    let keys = PassKeys::new(b"master-seed-master-seed-01234567");
    let other = PassKeys::new(b"another-seed-another-seed-012345");
    let event = "evt_0123456789abcdef0123";
    let by_other = pass().sign(&other.signing_key(event, 1));
    let key_for = |e: &str, g: u8| Some(keys.verifying_key(e, g));
    assert_eq!(
        Pass::verify(&by_other, key_for),
        Err(PassError::BadSignature)
    );
    // Another event's key (keys are per event).
    let other_event = pass().sign(&keys.signing_key("evt_ffffffffffffffffffff", 1));
    assert_eq!(
        Pass::verify(&other_event, key_for),
        Err(PassError::BadSignature)
    );
    // One bit flipped in the seat.
    let mut bytes = unb64(&pass().sign(&keys.signing_key(event, 1))).expect("b64");
    let seat_at = bytes.windows(4).position(|w| w == b"A-12").expect("seat");
    bytes[seat_at] ^= 1;
    assert_eq!(
        Pass::verify(&b64(&bytes), key_for),
        Err(PassError::BadSignature)
    );
    bytes[0] = 9;
    assert_eq!(
        Pass::verify(&b64(&bytes), key_for),
        Err(PassError::Version(9))
    );
    assert_eq!(Pass::verify("", key_for), Err(PassError::Malformed));
    assert_eq!(Pass::verify("AAAA", key_for), Err(PassError::Malformed));
}

#[test]
fn event_keys_differ_per_event_and_generation_and_are_stable() {
    let keys = PassKeys::new(b"master-seed-master-seed-01234567");
    let a1 = keys.verifying_key("evt_a", 1);
    assert_eq!(a1, keys.verifying_key("evt_a", 1));
    assert_ne!(a1, keys.verifying_key("evt_a", 2));
    assert_ne!(a1, keys.verifying_key("evt_b", 1));
    assert_eq!(pass::public_key_text(&a1).len(), 43);
}

#[test]
fn scan_results_round_trip_their_names() {
    for result in ScanResult::ALL {
        assert_eq!(ScanResult::parse(result.as_str()), Some(result));
    }
    assert_eq!(ScanResult::parse("OK"), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn online_parser_never_panics(text in ".{0,300}") {
        let _ = OnlineCode::parse(&text);
        let _ = keyring().verify(&text, 0);
    }

    #[test]
    fn online_parser_never_panics_on_base64ish_input(a in "[A-Za-z0-9_-]{0,120}", b in "[A-Za-z0-9_=-]{0,60}") {
        let _ = keyring().verify(&format!("{a}.{b}"), 0);
    }

    #[test]
    fn pass_parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let keys = PassKeys::new(b"seed");
        let _ = Pass::verify(&b64(&bytes), |e, g| Some(keys.verifying_key(e, g)));
    }

    #[test]
    fn pass_parser_never_panics_on_mutated_passes(flips in proptest::collection::vec((0usize..400, any::<u8>()), 1..8), cut in 0usize..400) {
        let keys = PassKeys::new(b"seed");
        let mut bytes = unb64(&pass().sign(&keys.signing_key("evt_0123456789abcdef0123", 1))).unwrap_or_default();
        for (at, value) in flips {
            if let Some(byte) = bytes.get_mut(at % 200) {
                *byte = value;
            }
        }
        bytes.truncate(cut.max(1));
        let result = Pass::verify(&b64(&bytes), |e, g| Some(keys.verifying_key(e, g)));
        // A mutated pass may only verify if the mutation left it unchanged.
        if let Ok(p) = result {
            prop_assert_eq!(p, pass());
        }
    }

    #[test]
    fn pass_text_parser_never_panics(text in ".{0,400}") {
        let _ = Pass::parse(&text);
    }
}

#[test]
fn chain_ticket_ids_are_door_ticket_ids() {
    assert!(is_ticket_id("chain:42"));
    assert!(is_ticket_id("tkt_00112233445566778899"));
    assert!(!is_ticket_id("chain 42"));
    assert!(!is_ticket_id("a|b"));
    let chain_pass = Pass {
        ticket_id: "chain:42".into(),
        event_id: "1".into(),
        ..pass()
    };
    let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let text = chain_pass.sign(&signing);
    let (parsed, _, _) = Pass::parse(&text).expect("a chain ticket's pass parses");
    assert_eq!(parsed.ticket_id, "chain:42");
}
