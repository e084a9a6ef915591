//! The upload's order, its answers and its batch, without a network.

use super::*;
use crate::checkin::ticket::{DoorTicket, FirstScan, PassState};

fn input(at: i64, nonce: &str) -> ScanInput {
    ScanInput {
        code: "c".into(),
        gate: "G".into(),
        device_id: "d".into(),
        scanned_at: at,
        nonce: nonce.into(),
    }
}

fn verifier() -> Verifier {
    Verifier {
        key_id: "vk_up".into(),
        event_id: "evt_a".into(),
        name: "doors".into(),
    }
}

fn ticket(id: &str, first_scan: Option<FirstScan>) -> DoorTicket {
    DoorTicket {
        id: id.into(),
        event_id: "evt_a".into(),
        status: "valid".into(),
        owner: "0xabc".into(),
        seat: None,
        serial: None,
        token_id: Some("7".into()),
        type_name: None,
        order_status: None,
        first_scan,
        pass: PassState::NotAsked,
    }
}

#[test]
fn scans_go_earliest_first_and_a_nonce_listed_twice_answers_as_its_first() {
    let scans = [
        input(30, "n-one"),
        input(10, "n-two"),
        input(20, "n-one"),
        input(10, "n-three"),
    ];
    let (unique, copies) = order(&scans);
    assert_eq!(unique, [1, 3, 2], "by scannedAt, then by place");
    assert_eq!(
        copies,
        [(0, 2)],
        "the later listing of n-one answers as the earlier scan"
    );

    let mut upload = Upload {
        slots: vec![None; scans.len()],
        ..Upload::default()
    };
    let ctx = Context {
        event_id: "evt_a",
        key_id: "vk_up",
        scans: &scans,
        prepared: &[],
    };
    let refused = |result| Verdict::Fresh(Box::new(Answer::refused(result, None)));
    let decided = Decided {
        verdicts: vec![
            (1, refused(ScanResult::Invalid)),
            (3, refused(ScanResult::Expired)),
            (2, refused(ScanResult::Revoked)),
        ],
        ..Decided::default()
    };
    upload.commit(&ctx, decided, 5);
    assert_eq!(upload.ours.get("n-three"), Some(&3));
    let results = upload
        .results(&scans, &copies)
        .expect("every scan answered");
    let answered: Vec<&str> = results
        .iter()
        .map(|r| r["result"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(answered, ["revoked", "invalid", "revoked", "expired"]);
    assert_eq!(results[0], results[2]);
    assert_eq!(
        results[3]["nonce"], "n-three",
        "results[i] answers scans[i]"
    );
}

#[test]
fn a_scan_left_unanswered_is_an_error_not_a_null() {
    let scans = [input(1, "n-one")];
    let upload = Upload {
        slots: vec![None],
        ..Upload::default()
    };
    assert!(matches!(
        upload.results(&scans, &[]),
        Err(Error::Internal(_))
    ));
}

#[test]
fn a_later_chunk_rewrites_the_answer_it_displaced() {
    let scans = [input(2_000, "n-late"), input(1_000, "n-early")];
    let ctx = Context {
        event_id: "evt_a",
        key_id: "vk_up",
        scans: &scans,
        prepared: &[],
    };
    let mut upload = Upload {
        slots: vec![None; 2],
        ..Upload::default()
    };
    let ok = Verdict::Fresh(Box::new(Answer::refused(ScanResult::Ok, None)));
    let first = Decided {
        verdicts: vec![(0, ok.clone())],
        ..Decided::default()
    };
    upload.commit(&ctx, first, 1);
    let by = FirstScan {
        at_ms: 1_000,
        gate: "G".into(),
        device_id: "early".into(),
        verifier_key_id: "vk_up".into(),
        nonce: "n-early".into(),
        offline: true,
    };
    let second = Decided {
        verdicts: vec![(1, ok)],
        displacements: vec![decide::Displacement {
            previous: FirstScan {
                at_ms: 2_000,
                nonce: "n-late".into(),
                ..by.clone()
            },
            by,
            earlier_chunk: Some(0),
            in_chunk: false,
        }],
        ..Decided::default()
    };
    upload.commit(&ctx, second, 2);
    let results = upload.results(&scans, &[]).expect("answered");
    assert_eq!(results[0]["result"], "already_redeemed");
    assert_eq!(results[0]["firstScan"]["deviceId"], "early");
    assert_eq!(results[1]["result"], "ok");
}

#[test]
fn a_chunks_batch_opens_with_its_guard_and_writes_each_ticket_once() {
    let scans = [
        input(9_000, "n-online"),
        input(5_000, "n-pass"),
        input(6_000, "n-junk"),
    ];
    let previous = FirstScan {
        at_ms: 8_000,
        gate: "G".into(),
        device_id: "other".into(),
        verifier_key_id: "vk_other".into(),
        nonce: "n-other".into(),
        offline: true,
    };
    let before = ticket("t1", Some(previous.clone()));
    let fresh = |result| Verdict::Fresh(Box::new(Answer::refused(result, None)));
    let decided = Decided {
        verdicts: vec![
            (0, fresh(ScanResult::AlreadyRedeemed)),
            (1, fresh(ScanResult::Ok)),
            (2, fresh(ScanResult::Invalid)),
        ],
        admissions: vec![decide::Admission {
            index: 1,
            at_ms: 5_000,
            before,
        }],
        displacements: vec![decide::Displacement {
            previous,
            by: FirstScan {
                at_ms: 5_000,
                gate: "G".into(),
                device_id: "d".into(),
                verifier_key_id: "vk_up".into(),
                nonce: "n-pass".into(),
                offline: true,
            },
            earlier_chunk: None,
            in_chunk: false,
        }],
    };
    let batch = write::statements(&verifier(), &scans, &decided, 10_000);
    let kinds: Vec<&str> = batch
        .iter()
        .map(|s| s.sql.split_whitespace().take(3).last().unwrap_or_default())
        .collect();
    // guard; three scans rows; the check-in upsert, its guard, the ticket, the relayer's
    // instruction; the displaced row.
    assert_eq!(batch.len(), 1 + 3 + 4 + 1, "{kinds:?}");
    assert!(batch[0].sql.contains("checkins"), "{}", batch[0].sql);
    assert!(batch[0].sql.contains("json_each"));
    assert!(
        batch[1..4]
            .iter()
            .all(|s| s.sql.starts_with("INSERT INTO scans"))
    );
    assert!(batch[4].sql.starts_with("INSERT INTO checkins"));
    assert!(batch[8].sql.starts_with("UPDATE scans"));

    let replays_only = Decided {
        verdicts: vec![(
            0,
            Verdict::Replayed(ScanOutcome::replay("{\"result\":\"ok\"}").expect("answer")),
        )],
        ..Decided::default()
    };
    assert!(write::statements(&verifier(), &scans, &replays_only, 1).is_empty());
}

#[test]
fn five_hundred_scans_are_one_read_and_five_batches_and_their_counts_are_summed() {
    use crate::testing::FakeServices;
    use futures::executor::block_on;
    use shared::ports::Clock as _;
    let services = FakeServices::up();
    let now = crate::testing::FakeClock.now_ms() as i64;
    // The fake libSQL knows no ticket: every code is refused, every scan still written.
    let scans: Vec<ScanInput> = (0..500)
        .map(|i| ScanInput {
            code: format!("junk-{i}"),
            ..input(now - 1_000 + i, &format!("nonce-{i:04}"))
        })
        .collect();
    let results = block_on(run(&services, &verifier(), &scans)).expect("answered");
    assert_eq!(results.len(), 500);
    assert!(results.iter().all(|r| r["result"] == "invalid"));
    assert_eq!(results[499]["nonce"], "nonce-0499");
    assert_eq!(services.sql.sent.get(), 3 + 500, "one read, then the rows");
    let deferred = services.deferred();
    assert!(
        deferred.len() <= 4,
        "one HINCRBY per field, not per scan: {deferred:?}"
    );
    assert!(
        deferred
            .iter()
            .any(|c| c.parts().iter().any(|p| p == "scan|invalid")
                && c.parts().last().map(String::as_str) == Some("500")),
        "{deferred:?}"
    );
}

#[test]
fn libsql_down_is_a_503_with_nothing_deferred() {
    use crate::testing::FakeServices;
    use futures::executor::block_on;
    let mut services = FakeServices::up();
    services.sql.up = false;
    let scans = [input(1_700_000_000_000, "nonce-0001")];
    let error = block_on(run(&services, &verifier(), &scans)).expect_err("libSQL is down");
    assert_eq!(error.status(), 503, "{error:?}");
    assert!(services.deferred().is_empty());
}

mod fallback;
