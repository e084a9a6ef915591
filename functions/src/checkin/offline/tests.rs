//! The offline rules that need no ticket: the window `scannedAt` is believed in, and the
//! time a code is judged at.

use super::*;

fn config() -> CheckinConfig {
    let mut config = shared::config::Config::from_lookup(|k| {
        [
            ("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:8079"),
            ("UPSTASH_REDIS_REST_TOKEN", "tok"),
            ("LIBSQL_URL", "libsql://db.turso.io"),
            ("RPC_URL", "http://127.0.0.1:8545"),
            ("CHAIN_ID", "31337"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("PUBLIC_URL", "http://127.0.0.1:8787"),
        ]
        .iter()
        .find(|(key, _)| *key == k)
        .map(|(_, v)| (*v).to_owned())
    })
    .expect("valid")
    .checkin;
    config.offline_max_age_secs = 3_600;
    config.offline_clock_skew_secs = 120;
    config
}

#[test]
fn scanned_at_is_believed_inside_the_window_only() {
    let now = 1_767_225_600_000;
    let config = config();
    assert_eq!(out_of_window(&config, now, now), None);
    assert_eq!(out_of_window(&config, now - 3_600_000, now), None);
    assert_eq!(out_of_window(&config, now + 120_000, now), None);
    let old = out_of_window(&config, now - 3_600_001, now).expect("too old");
    assert!(old.contains("3600 s before"), "{old}");
    let ahead = out_of_window(&config, now + 120_001, now).expect("ahead");
    assert!(ahead.contains("120 s ahead"), "{ahead}");
    assert!(out_of_window(&config, 1, now).is_some());
}

#[test]
fn online_codes_are_judged_on_arrival_passes_at_the_scan() {
    let (scanned, now) = (1_000, 5_000);
    assert_eq!(judged_at("kid.payload.mac", scanned, now), now);
    assert_eq!(judged_at("AQIDBAUGBwg", scanned, now), scanned);
}

#[test]
fn prepare_answers_what_the_scan_alone_decides_and_times_the_rest() {
    let now = 1_767_225_600_000;
    let config = config();
    let input = |code: &str, at: i64| ScanInput {
        code: code.into(),
        gate: "G".into(),
        device_id: "d".into(),
        scanned_at: at,
        nonce: "nonce-0001".into(),
    };
    let secs = u32::try_from(now / 1000).expect("secs");
    let pass = shared::checkin::pass::Pass {
        key_generation: 1,
        pass_id: [7; 8],
        event_id: "evt_a".into(),
        ticket_id: "tkt_1".into(),
        serial: String::new(),
        seat: String::new(),
        ticket_type: String::new(),
        valid_from_secs: secs - 3_600,
        valid_until_secs: secs + 3_600,
    }
    .sign(&config.pass_keys.signing_key("evt_a", 1));
    assert_eq!(
        prepare(&config, "evt_a", &input(&pass, now - 60_000), now),
        Prepared::Genuine {
            ticket_id: "tkt_1".into(),
            pass_id: Some(hex::encode([7; 8])),
            at_ms: now - 60_000,
        }
    );
    let Prepared::Refused(other_event) = prepare(&config, "evt_b", &input(&pass, now), now) else {
        panic!("a pass of another event");
    };
    assert_eq!(other_event.result, ScanResult::WrongEvent);
    let Prepared::Refused(old) = prepare(&config, "evt_a", &input(&pass, now - 3_600_001), now)
    else {
        panic!("too old");
    };
    assert_eq!(old.result, ScanResult::Invalid);
    assert!(old.reason.is_some_and(|r| r.contains("3600 s before")));
    let Prepared::Refused(junk) = prepare(&config, "evt_a", &input("junk", now), now) else {
        panic!("junk");
    };
    assert_eq!((junk.result, junk.reason), (ScanResult::Invalid, None));
}
