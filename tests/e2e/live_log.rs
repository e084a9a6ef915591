//! The availability change log on the release Wasm: a snapshot plus every later entry is a
//! later snapshot, under 1,000 random concurrent changes (holds, releases, expiries, sales,
//! refunds) followed by watchers that start at different moments; a log that dropped a
//! client's entries answers 409 `SEQ_TOO_OLD` exactly past its retention; bad cursors are
//! refused; and the live seat-map page follows the log in headless Chromium
//! (`tests/js/live/`).

use e2e::catalog::{EventSpec, availability, publish_event, seat};
use e2e::live::{
    Follow, LiveState, follow, hold, overrides, page_files_are_served, snapshot_view, updates,
};
use e2e::live_ops::{Client, HOLD_TTL, Rng, Shared, watch};
use e2e::{App, Runtime, Stack, root, run_node_tests, unique};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

const OPERATIONS: usize = 1_000;
const CLIENTS: usize = 3;
const SEATS: usize = 120;
const GA_SUPPLY: u32 = 300;

/// The seed: `LIVE_LOG_SEED` to replay a run, else the clock.
fn seed() -> u64 {
    std::env::var("LIVE_LOG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| e2e::payments::now_ms() as u64)
}

/// 1,000 random changes by 3 concurrent clients; 3 watchers started at 0, 1/3 and 2/3 of them
/// end with exactly the final snapshot, having applied gap-free seqs.
async fn followers_match_the_snapshot(runtime: Runtime) {
    let seed = seed();
    println!("live_log property test on {runtime:?}: LIVE_LOG_SEED={seed}");
    let started = Instant::now();
    let stack = Stack::start().await;
    let prefix = format!("{}:", unique("live"));
    let app = App::spawn(runtime, &stack, &overrides(&prefix, &[])).await;
    // Holds last 30 s: the ones the clients keep run out during the run.
    let now = e2e::payments::now_ms();
    let sale = json!({"startsAt": now - 60_000, "endsAt": now + 3_600_000,
        "admissionPerMinute": 600, "maxActive": 1000, "sessionSecs": 600, "waitingRoom": false,
        "holdTtlSecs": HOLD_TTL.as_secs()});
    let spec = EventSpec {
        sale: Some(sale),
        ..EventSpec::new(SEATS, GA_SUPPLY)
    };
    let event = publish_event(&app, &spec).await;
    let shared = Shared {
        app: &app,
        stack: &stack,
        event: &event,
        seats: SEATS,
        expiry_key: format!("{prefix}inv:{{{}}}:expiry", event.id),
        done: AtomicUsize::new(0),
    };
    let target = AtomicU64::new(0);
    let mut rng = Rng::new(seed);
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|n| Client::new(&shared, n, rng.next_u64()))
        .collect();
    let limits = [1 + rng.below(50), 1 + rng.below(1000), 1000];
    let share = |n: usize| OPERATIONS / CLIENTS + usize::from(n < OPERATIONS % CLIENTS);
    let changes = async {
        let [a, b, c] = &mut clients[..] else {
            unreachable!("three clients")
        };
        tokio::join!(a.run(share(0)), b.run(share(1)), c.run(share(2)));
        // The final snapshot sweeps what the clients expired last: it is the target.
        let last = availability(&app, &event.id).await;
        target.store(last["seq"].as_u64().expect("seq"), Ordering::Release);
        last
    };
    let (last, w0, w1, w2) = tokio::join!(
        changes,
        watch(&shared, 0, limits[0], &target),
        watch(&shared, OPERATIONS / 3, limits[1], &target),
        watch(&shared, 2 * OPERATIONS / 3, limits[2], &target),
    );
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for client in &clients {
        for (what, n) in &client.tally {
            *tally.entry(what.clone()).or_default() += n;
        }
    }
    println!("{runtime:?}: {tally:?}; watchers' page sizes {limits:?}");
    assert_eq!(shared.done.load(Ordering::Relaxed), OPERATIONS);

    let want = snapshot_view(&last);
    assert!(
        LiveState::from_snapshot(&last).counts_match_states(),
        "{last}"
    );
    let mut by_seq: BTreeMap<u64, Value> = BTreeMap::new();
    for (n, (state, entries)) in [w0, w1, w2].into_iter().enumerate() {
        assert_eq!(
            state.view(),
            want,
            "watcher {n} (seed {seed}) ends at the final snapshot"
        );
        let seqs: Vec<u64> = entries.iter().filter_map(|e| e["seq"].as_u64()).collect();
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0] + 1),
            "watcher {n}: seqs not contiguous"
        );
        println!(
            "{runtime:?} watcher {n}: {} entries, seq {:?}..={:?}",
            seqs.len(),
            seqs.first(),
            seqs.last()
        );
        // Every watcher read the same entry for the same seq: the log is never rewritten.
        for entry in entries {
            let seq = entry["seq"].as_u64().expect("seq");
            if let Some(seen) = by_seq.insert(seq, entry.clone()) {
                assert_eq!(seen, entry, "seq {seq} read differently");
            }
        }
    }
    let kinds: BTreeMap<&str, usize> = by_seq.values().fold(BTreeMap::new(), |mut m, e| {
        *m.entry(e["kind"].as_str().unwrap_or("?")).or_default() += 1;
        m
    });
    println!(
        "{runtime:?}: entries by kind {kinds:?}; took {:?}",
        started.elapsed()
    );
    for kind in ["hold", "release", "expire", "sold", "refund"] {
        assert!(kinds.contains_key(kind), "no {kind} entry in {kinds:?}");
    }
}

/// Retention 10: a cursor 10 behind the head still catches up; 11 behind is `SEQ_TOO_OLD`,
/// and a new snapshot followed from its seq is right again.
async fn retention_overflow(runtime: Runtime) {
    let stack = Stack::start().await;
    let prefix = format!("{}:", unique("live"));
    let extra = [("LIVE_LOG_MAX_ENTRIES", "10")];
    let app = App::spawn(runtime, &stack, &overrides(&prefix, &extra)).await;
    let event = publish_event(&app, &EventSpec::new(30, 20)).await;
    let first = availability(&app, &event.id).await;
    let since = first["seq"].as_u64().expect("seq");
    let mut holds = Vec::new();
    for n in 0..12 {
        holds.push(hold(&app, &event, n, json!({"seats": [seat(n)]})).await);
    }
    let too_old = updates(&app, &event.id, &format!("since_seq={since}")).await;
    too_old.assert_error(409, "SEQ_TOO_OLD", None);
    let head = since + 12;
    let edge = updates(&app, &event.id, &format!("since_seq={}", head - 10)).await;
    assert_eq!(edge.status, 200, "{}", edge.body);
    assert_eq!(edge.body["updates"].as_array().map(Vec::len), Some(10));
    assert_eq!(edge.body["headSeq"], head, "{}", edge.body);
    updates(&app, &event.id, &format!("since_seq={}", head - 11))
        .await
        .assert_error(409, "SEQ_TOO_OLD", None);

    let mut state = LiveState::from_snapshot(&availability(&app, &event.id).await);
    assert_eq!(state.seq, head);
    let (id, token) = &holds[3];
    let path = format!("/v1/holds/{id}");
    let released = app
        .send(Method::DELETE, &path, Some(token), None, &[])
        .await;
    assert_eq!(released.status, 200, "{}", released.body);
    hold(
        &app,
        &event,
        20,
        json!({"ticketTypeId": event.ga(), "quantity": 3}),
    )
    .await;
    hold(&app, &event, 21, json!({"seats": [seat(3), seat(25)]})).await;
    match follow(&app, &event.id, &mut state, 500).await {
        Follow::Applied(entries) => assert_eq!(entries.len(), 3),
        Follow::TooOld => panic!("a fresh snapshot's seq is covered"),
    }
    assert_eq!(
        state.view(),
        snapshot_view(&availability(&app, &event.id).await)
    );
}

/// Cursors and page sizes that are not numbers in range are refused, naming the field.
async fn validation(runtime: Runtime) {
    let stack = Stack::start().await;
    let prefix = format!("{}:", unique("live"));
    let app = App::spawn(runtime, &stack, &overrides(&prefix, &[])).await;
    let event = publish_event(&app, &EventSpec::new(5, 5)).await;
    hold(&app, &event, 1, json!({"seats": [seat(1)]})).await;
    let head = availability(&app, &event.id).await["seq"]
        .as_u64()
        .expect("seq");
    let id = &event.id;
    for query in [
        "",
        "limit=5",
        "since_seq=-1",
        "since_seq=abc",
        "since_seq=1.5",
        "since_seq=",
    ] {
        updates(&app, id, query)
            .await
            .assert_error(400, "VALIDATION_FAILED", Some("since_seq"));
    }
    for limit in ["0", "1001", "-1", "ten"] {
        updates(&app, id, &format!("since_seq={head}&limit={limit}"))
            .await
            .assert_error(400, "VALIDATION_FAILED", Some("limit"));
    }
    updates(&app, id, &format!("since_seq={}", head + 1))
        .await
        .assert_error(400, "SEQ_AHEAD", None);
    for limit in ["1", "1000"] {
        let at_head = updates(&app, id, &format!("since_seq={head}&limit={limit}")).await;
        assert_eq!(at_head.status, 200, "{}", at_head.body);
        assert_eq!(at_head.body["updates"], json!([]), "{}", at_head.body);
        assert_eq!(at_head.body["toSeq"], head, "{}", at_head.body);
    }
    let one = updates(&app, id, &format!("since_seq={}&limit=1", head - 1)).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["updates"][0]["kind"], "hold", "{}", one.body);
    for unknown in ["evt_00000000000000000000", "nope"] {
        updates(&app, unknown, "since_seq=0")
            .await
            .assert_error(404, "EVENT_NOT_FOUND", None);
    }
}

/// The seat-map page in headless Chromium: a hold shows within 2 s; changes made while the
/// page is cut off are all there once it is back (`tests/js/live/live.test.mjs`).
async fn page_in_chromium(runtime: Runtime) {
    let stack = Stack::start().await;
    let prefix = format!("{}:", unique("live"));
    // Retention 10: the third cut-off makes more changes than the log keeps. Feed reads every
    // 200 ms (default 1 s) leave the 2 s bound room on a busy two-core machine.
    let extra = [("LIVE_POLL_MS", "200"), ("LIVE_LOG_MAX_ENTRIES", "10")];
    let app = App::spawn(runtime, &stack, &overrides(&prefix, &extra)).await;
    let event = publish_event(&app, &EventSpec::new(24, 50)).await;
    let tokens: Vec<String> = (0..8)
        .map(|n| app.token_for(&format!("0x{:040x}", 0x7000 + n), Role::User))
        .collect();
    page_files_are_served(&app, &event.id).await;
    let dir = root().join(format!("target/e2e-artifacts/live-{runtime:?}"));
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    let fixture = json!({
        "baseUrl": app.base_url,
        "eventId": event.id,
        "gaTypeId": event.ga(),
        "seats": (0..24).map(seat).collect::<Vec<_>>(),
        "tokens": tokens,
        "artifactsDir": dir.display().to_string(),
    });
    let path = dir.join("fixture.json");
    std::fs::write(&path, fixture.to_string()).expect("fixture");
    let report = run_node_tests(
        &[
            "tests/js/live/state.test.mjs".to_owned(),
            "tests/js/live/live.test.mjs".to_owned(),
        ],
        &[("LIVE_FIXTURE", path.to_str().expect("path"))],
    )
    .await;
    // 3 model unit tests, 3 browser tests.
    assert!(report.contains("# pass 6"), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_live_log_followers_match_the_snapshot() {
    followers_match_the_snapshot(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_live_log_followers_match_the_snapshot() {
    followers_match_the_snapshot(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_live_log_retention_overflow_is_seq_too_old() {
    retention_overflow(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_live_log_retention_overflow_is_seq_too_old() {
    retention_overflow(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_live_log_refuses_bad_cursors() {
    validation(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_live_log_refuses_bad_cursors() {
    validation(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_live_page_follows_the_log_in_chromium() {
    page_in_chromium(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_live_page_follows_the_log_in_chromium() {
    page_in_chromium(Runtime::Wasmtime).await;
}
