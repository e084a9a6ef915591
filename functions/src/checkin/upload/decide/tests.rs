//! The in-memory decisions against the rules of the per-scan path (`offline.rs`).

use super::*;
use crate::checkin::ticket::PassState;

const EVENT: &str = "evt_a";
const KEY: &str = "vk_up";

fn ticket(id: &str) -> DoorTicket {
    DoorTicket {
        id: id.into(),
        event_id: EVENT.into(),
        status: "valid".into(),
        owner: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into(),
        seat: None,
        serial: None,
        token_id: None,
        type_name: None,
        order_status: Some("paid".into()),
        first_scan: None,
        pass: PassState::NotAsked,
    }
}

fn input(device: &str, at: i64, nonce: &str) -> ScanInput {
    ScanInput {
        code: "c".into(),
        gate: "G".into(),
        device_id: device.into(),
        scanned_at: at,
        nonce: nonce.into(),
    }
}

fn pass_of(ticket_id: &str, at_ms: i64) -> Prepared {
    Prepared::Genuine {
        ticket_id: ticket_id.into(),
        pass_id: Some(format!("p-{ticket_id}")),
        at_ms,
    }
}

fn first(device: &str, at_ms: i64, key: &str, nonce: &str, offline: bool) -> FirstScan {
    FirstScan {
        at_ms,
        gate: "G".into(),
        device_id: device.into(),
        verifier_key_id: key.into(),
        nonce: nonce.into(),
        offline,
    }
}

/// Tickets `ids`, each with a live pass `p-<id>`.
fn known(tickets: Vec<DoorTicket>) -> Known {
    let mut known = Known::default();
    for t in tickets {
        known
            .passes
            .insert(format!("p-{}", t.id), (t.id.clone(), true));
        known.tickets.insert(t.id.clone(), t);
    }
    known
}

/// Decides every scan in one chunk, earliest first as the upload does.
fn run(known: &mut Known, scans: &[ScanInput], prepared: &[Prepared]) -> Decided {
    let ctx = Context {
        event_id: EVENT,
        key_id: KEY,
        scans,
        prepared,
    };
    let mut order: Vec<usize> = (0..scans.len()).collect();
    order.sort_by_key(|&i| (scans[i].scanned_at, i));
    decide(&ctx, known, &order, &HashMap::new())
}

fn result_of(decided: &Decided, index: usize) -> (ScanResult, Option<String>) {
    match decided.verdicts.iter().find(|(i, _)| *i == index) {
        Some((_, Verdict::Fresh(a))) => {
            (a.result, a.first_scan.as_ref().map(|f| f.device_id.clone()))
        }
        other => panic!("{index}: {other:?}"),
    }
}

#[test]
fn the_earliest_scan_of_a_ticket_is_admitted_whatever_its_place() {
    let scans = [
        input("late", 2_000, "n-late"),
        input("early", 1_000, "n-early"),
    ];
    let prepared = [pass_of("t1", 2_000), pass_of("t1", 1_000)];
    let mut known = known(vec![ticket("t1")]);
    let decided = run(&mut known, &scans, &prepared);
    assert_eq!(result_of(&decided, 1), (ScanResult::Ok, None));
    assert_eq!(
        result_of(&decided, 0),
        (ScanResult::AlreadyRedeemed, Some("early".into()))
    );
    assert_eq!(decided.admissions.len(), 1);
    assert_eq!(decided.admissions[0].index, 1);
    assert_eq!(
        decided.admissions[0].before,
        ticket("t1"),
        "the guard expects the read"
    );
    let state = &known.tickets["t1"];
    assert_eq!(state.status, "used");
    assert_eq!(
        state.first_scan,
        Some(first("early", 1_000, KEY, "n-early", true))
    );
}

#[test]
fn a_later_offline_admission_is_displaced_and_a_live_one_never() {
    let mut offline = ticket("t1");
    offline.first_scan = Some(first("other", 5_000, "vk_other", "n-other", true));
    let mut live = ticket("t2");
    live.first_scan = Some(first("door", 9_000, "vk_door", "n-door", false));
    let scans = [input("a", 1_000, "n-a"), input("b", 1_000, "n-b")];
    let prepared = [pass_of("t1", 1_000), pass_of("t2", 1_000)];
    let mut known = known(vec![offline, live]);
    let decided = run(&mut known, &scans, &prepared);
    assert_eq!(result_of(&decided, 0), (ScanResult::Ok, None));
    let Some((_, Verdict::Fresh(admitted))) = decided.verdicts.first() else {
        panic!("{decided:?}");
    };
    assert_eq!(
        admitted.supersedes.as_ref().map(|f| f.nonce.as_str()),
        Some("n-other")
    );
    assert_eq!(decided.displacements.len(), 1);
    let displaced = &decided.displacements[0];
    assert_eq!((displaced.in_chunk, displaced.earlier_chunk), (false, None));
    assert_eq!(displaced.by.device_id, "a");
    assert_eq!(
        result_of(&decided, 1),
        (ScanResult::AlreadyRedeemed, Some("door".into())),
        "a live admission stands, however early the offline scan claims to be"
    );
    assert_eq!(decided.admissions.len(), 1);
}

#[test]
fn an_admission_displaced_in_the_same_chunk_is_written_already_redeemed() {
    // An online code claiming an old time is processed first but judged (and timed) at arrival;
    // the pass scanned before the upload then displaces it.
    let scans = [
        input("online", 100, "n-online"),
        input("pass", 5_000, "n-pass"),
    ];
    let prepared = [
        Prepared::Genuine {
            ticket_id: "t1".into(),
            pass_id: None,
            at_ms: 9_000,
        },
        pass_of("t1", 5_000),
    ];
    let mut known = known(vec![ticket("t1")]);
    let decided = run(&mut known, &scans, &prepared);
    assert_eq!(
        result_of(&decided, 0),
        (ScanResult::AlreadyRedeemed, Some("pass".into()))
    );
    assert_eq!(result_of(&decided, 1), (ScanResult::Ok, None));
    assert!(decided.displacements[0].in_chunk);
    assert_eq!(decided.admissions.len(), 1, "one check-in row per ticket");
    assert_eq!(decided.admissions[0].index, 1);
    assert_eq!(decided.admissions[0].before.first_scan, None);
}

#[test]
fn refused_replayed_and_unknown_scans_admit_nobody() {
    let mut revoked = ticket("t2");
    revoked.status = "revoked".into();
    let mut stolen_pass = known(vec![ticket("t1"), revoked]);
    stolen_pass
        .passes
        .insert("p-elsewhere".into(), ("t9".into(), true));
    stolen_pass.stored.insert(
        "n-seen".into(),
        ScanOutcome::replay("{\"result\":\"ok\"}").expect("an answer"),
    );
    let scans = [
        input("a", 1, "n-seen"),
        input("a", 2, "n-bad"),
        input("a", 3, "n-revoked"),
        input("a", 4, "n-unknown"),
        input("a", 5, "n-elsewhere"),
        input("a", 6, "n-nobody"),
    ];
    let prepared = [
        pass_of("t1", 1),
        Prepared::Refused(Box::new(Answer::refused(ScanResult::Invalid, None))),
        pass_of("t2", 3),
        Prepared::Genuine {
            ticket_id: "t1".into(),
            pass_id: Some("p-never-issued".into()),
            at_ms: 4,
        },
        Prepared::Genuine {
            ticket_id: "t1".into(),
            pass_id: Some("p-elsewhere".into()),
            at_ms: 5,
        },
        pass_of("t404", 6),
    ];
    let decided = run(&mut stolen_pass, &scans, &prepared);
    assert!(matches!(decided.verdicts[0], (0, Verdict::Replayed(_))));
    assert_eq!(result_of(&decided, 1).0, ScanResult::Invalid);
    assert_eq!(result_of(&decided, 2).0, ScanResult::Revoked);
    assert_eq!(result_of(&decided, 3).0, ScanResult::Invalid);
    assert_eq!(result_of(&decided, 4).0, ScanResult::Invalid);
    assert_eq!(result_of(&decided, 5).0, ScanResult::Invalid);
    assert!(decided.admissions.is_empty());
    assert_eq!(stolen_pass.tickets["t1"].status, "valid");
}

#[test]
fn a_ticket_used_on_chain_without_a_check_in_is_already_redeemed() {
    let mut used = ticket("t1");
    used.status = "used".into();
    let scans = [input("a", 1_000, "n-a")];
    let decided = run(&mut known(vec![used]), &scans, &[pass_of("t1", 1_000)]);
    assert_eq!(result_of(&decided, 0), (ScanResult::AlreadyRedeemed, None));
    assert!(decided.admissions.is_empty());
}

#[test]
fn a_displaced_scan_of_an_earlier_chunk_is_named_for_its_answer() {
    let mut known = known(vec![ticket("t1")]);
    let scans = [
        input("late", 2_000, "n-late"),
        input("early", 1_000, "n-early"),
    ];
    let prepared = [pass_of("t1", 2_000), pass_of("t1", 1_000)];
    let ctx = Context {
        event_id: EVENT,
        key_id: KEY,
        scans: &scans,
        prepared: &prepared,
    };
    // Chunk one admitted the late scan (say, a chunk of scans listed by another order).
    let one = decide(&ctx, &mut known, &[0], &HashMap::new());
    assert_eq!(result_of(&one, 0), (ScanResult::Ok, None));
    let ours = HashMap::from([("n-late".to_owned(), 0)]);
    let two = decide(&ctx, &mut known, &[1], &ours);
    assert_eq!(result_of(&two, 1), (ScanResult::Ok, None));
    let displaced = &two.displacements[0];
    assert_eq!(
        (displaced.in_chunk, displaced.earlier_chunk),
        (false, Some(0))
    );
    assert_eq!(
        two.admissions[0].before.first_scan,
        Some(first("late", 2_000, KEY, "n-late", true))
    );
}
