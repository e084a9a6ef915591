//! `GET /v1/events/{id}/availability/stream` on the release Wasm: a hold reaches a watching
//! stream as the next seq; a client that drops mid-burst and resumes with `Last-Event-ID` ends
//! with the state of one that never dropped (and of a new snapshot); heartbeats and the end
//! of a stream's life (`retry:`); cursor rules (too old → snapshot, ahead → 400, bad → 400,
//! unknown event → 404) and CORS. Delivery and resumption also run with the feeds reading
//! through the local CDN (`LIVE_FEED_URL`, see `live_cdn.rs` for what that costs).

use e2e::catalog::{EventSpec, PublishedEvent, publish_event, seat};
use e2e::cdn::BehindCdn;
use e2e::sse::{self, SseEvent, SseReader};
use e2e::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use std::collections::BTreeMap;
use std::time::Duration;

const ORIGIN: &str = "https://shop.test";
const WAIT: Duration = Duration::from_secs(10);

fn overrides<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![
        ("LIVE_POLL_MS", "200"),
        ("CORS_ALLOWED_ORIGINS", ORIGIN),
        ("RATE_LIMIT_WRITE", "100000:100000"),
    ];
    all.extend_from_slice(extra);
    all
}

fn wallet(n: usize) -> String {
    format!("0x{:040x}", n + 1)
}

fn stream_url(app: &App, event: &str) -> String {
    format!("{}/v1/events/{event}/availability/stream", app.base_url)
}

async fn open(app: &App, event: &str, headers: &[(&str, &str)]) -> SseReader {
    match sse::open(&stream_url(app, event), headers).await {
        Ok(reader) => reader,
        Err(response) => panic!(
            "stream refused: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        ),
    }
}

/// The seat states a client holds: the snapshot's, then each update applied in order.
#[derive(Debug, Default, PartialEq, Eq)]
struct Seats {
    seq: u64,
    states: BTreeMap<String, String>,
}

impl Seats {
    fn apply(&mut self, event: &SseEvent) {
        let data = event.json();
        let seq = event.seq().expect("every event has a seq");
        match event.event.as_deref() {
            Some("snapshot") => {
                self.states.clear();
                self.set_all(&data["seatStates"]);
            }
            Some("update") => {
                assert_eq!(seq, self.seq + 1, "updates come in seq order, none missing");
                self.set_all(&data["seats"]);
            }
            _ => return,
        }
        self.seq = seq;
    }

    fn set_all(&mut self, seats: &Value) {
        for (label, state) in seats.as_object().into_iter().flatten() {
            match state.as_str() {
                Some("free") | None => self.states.remove(label),
                Some(state) => self.states.insert(label.clone(), state.to_owned()),
            };
        }
    }
}

async fn hold(app: &App, event: &PublishedEvent, n: usize) -> String {
    let token = app.token_for(&wallet(n), Role::User);
    let body = json!({"eventId": event.id, "seats": [seat(n)]});
    let reply = app
        .send(Method::POST, "/v1/holds", Some(&token), Some(body), &[])
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["holdId"].as_str().expect("holdId").to_owned()
}

async fn release(app: &App, n: usize, hold_id: &str) {
    let token = app.token_for(&wallet(n), Role::User);
    let path = format!("/v1/holds/{hold_id}");
    let reply = app
        .send(Method::DELETE, &path, Some(&token), None, &[])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// Events until the client's state reaches `seq`.
async fn follow(reader: &mut SseReader, seats: &mut Seats, seq: u64) {
    while seats.seq < seq {
        let event = reader.next(WAIT).await.expect("the stream ended early");
        seats.apply(&event);
    }
}

async fn delivers_and_resumes(runtime: Runtime, through_cdn: bool) {
    let stack = Stack::start().await;
    let (app, cdn) = if through_cdn {
        let BehindCdn { app, cdn } = BehindCdn::spawn(runtime, &stack, &overrides(&[])).await;
        (app, Some(cdn))
    } else {
        (App::spawn(runtime, &stack, &overrides(&[])).await, None)
    };
    let event = publish_event(&app, &EventSpec::new(30, 0)).await;

    let mut a = open(&app, &event.id, &[("origin", ORIGIN)]).await;
    assert_eq!(a.header("content-type"), Some("text/event-stream"));
    assert_eq!(a.header("cache-control"), Some("no-cache"));
    assert_eq!(a.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(a.header("content-length"), None, "streamed, not sized");
    let mut seen = Seats::default();
    let first = a.next(WAIT).await.expect("snapshot");
    assert_eq!(first.event.as_deref(), Some("snapshot"), "{first:?}");
    seen.apply(&first);
    let start = seen.seq;

    // A hold reaches the watching stream as the next seq.
    let held = hold(&app, &event, 0).await;
    let update = a.next(WAIT).await.expect("an update");
    assert_eq!(update.event.as_deref(), Some("update"), "{update:?}");
    assert_eq!(update.seq(), Some(start + 1));
    assert_eq!(update.json()["seats"][seat(0)], "held", "{}", update.data);
    seen.apply(&update);

    // B follows from the same seq, drops after a few updates of a 20-change burst, and
    // resumes with Last-Event-ID.
    let resume_from = seen.seq.to_string();
    let mut b = Some(open(&app, &event.id, &[("last-event-id", &resume_from)]).await);
    let mut b_seats = Seats {
        seq: seen.seq,
        states: seen.states.clone(),
    };
    let mut holds = vec![(0, held)];
    for n in 1..=10 {
        holds.push((n, hold(&app, &event, n).await));
        if n == 3
            && let Some(mut reader) = b.take()
        {
            // What B had buffered past this point is lost with the connection.
            follow(&mut reader, &mut b_seats, start + 3).await;
        }
    }
    for (n, id) in holds.iter().take(10) {
        release(&app, *n, id).await;
    }
    let last = start + 21;
    let after = b_seats.seq.to_string();
    let mut resumed = open(&app, &event.id, &[("last-event-id", &after)]).await;
    follow(&mut resumed, &mut b_seats, last).await;
    follow(&mut a, &mut seen, last).await;
    assert_eq!(
        b_seats, seen,
        "the resumed client has the never-dropped client's state"
    );

    // Both agree with a new snapshot, and a stream opened now starts from it.
    let mut fresh = Seats::default();
    let mut c = open(&app, &event.id, &[]).await;
    fresh.apply(&c.next(WAIT).await.expect("snapshot"));
    assert_eq!(fresh, seen, "a new snapshot has the same state");
    assert_eq!(seen.states.len(), 1, "{:?}", seen.states);
    assert_eq!(seen.states.get(&seat(10)).map(String::as_str), Some("held"));
    if let Some(cdn) = cdn {
        let stats = cdn.stats();
        assert!(
            stats.origin_requests > 0,
            "the feeds read through the CDN: {stats:?}"
        );
    }
}

async fn heartbeat_and_lifetime(runtime: Runtime) {
    let stack = Stack::start().await;
    let extra = [("LIVE_STREAM_SECS", "2"), ("LIVE_HEARTBEAT_SECS", "1")];
    let app = App::spawn(runtime, &stack, &overrides(&extra)).await;
    let event = publish_event(&app, &EventSpec::new(4, 0)).await;
    let mut reader = open(&app, &event.id, &[]).await;
    let started = std::time::Instant::now();
    let events = reader.until(WAIT, |e| e.retry.is_some()).await;
    assert_eq!(events[0].event.as_deref(), Some("snapshot"));
    assert!(
        events
            .iter()
            .any(|e| e.comments.iter().any(|c| c == "keep-alive")),
        "an idle stream sends heartbeats: {events:?}"
    );
    assert_eq!(events.last().and_then(|e| e.retry), Some(1000));
    assert!(started.elapsed() >= Duration::from_millis(1_500));
    assert_eq!(
        reader.next(WAIT).await,
        None,
        "the stream ends after retry:"
    );
}

async fn cursor_rules(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &overrides(&[])).await;
    let event = publish_event(&app, &EventSpec::new(4, 0)).await;
    hold(&app, &event, 0).await;
    let mut first = open(&app, &event.id, &[]).await;
    let snapshot = first.next(WAIT).await.expect("snapshot");
    let head = snapshot.seq().expect("seq");

    // Seq 1 is older than any log (a log starts at the Redis clock in µs): a new snapshot.
    let mut old = open(&app, &event.id, &[("last-event-id", "1")]).await;
    let restart = old.next(WAIT).await.expect("snapshot");
    assert_eq!(restart.event.as_deref(), Some("snapshot"));
    assert_eq!(restart.seq(), Some(head));
    // The query cursor is honoured, the header wins over it.
    let url = format!("{}?since_seq=1", stream_url(&app, &event.id));
    let current = head.to_string();
    let mut both = sse::open(&url, &[("last-event-id", &current)])
        .await
        .unwrap_or_else(|r| panic!("refused: {}", r.status()));
    hold(&app, &event, 1).await;
    let next = both.next(WAIT).await.expect("update");
    assert_eq!(
        (next.event.as_deref(), next.seq()),
        (Some("update"), Some(head + 1))
    );

    let refused = |headers: Vec<(String, String)>, query: &'static str, id: String| {
        let url = format!("{}{query}", stream_url(&app, &id));
        async move {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let response = sse::open(&url, &headers).await.err().expect("refused");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let ahead = (head + 1000).to_string();
    let (status, body) = refused(vec![("last-event-id".into(), ahead)], "", event.id.clone()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("SEQ_AHEAD")),
        "{body}"
    );
    let (status, body) = refused(
        vec![("last-event-id".into(), "x".into())],
        "",
        event.id.clone(),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("Last-Event-ID")),
        "{body}"
    );
    assert_eq!(body["error_code"], "VALIDATION_FAILED");
    let (status, body) = refused(vec![], "?since_seq=-1", event.id.clone()).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("since_seq")),
        "{body}"
    );
    let unknown = format!("evt_{}", "0".repeat(20));
    let (status, body) = refused(vec![], "", unknown).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("EVENT_NOT_FOUND")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_live_stream_delivers_and_resumes() {
    delivers_and_resumes(Runtime::Workerd, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_live_stream_delivers_and_resumes_through_the_cdn() {
    delivers_and_resumes(Runtime::Workerd, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_live_stream_delivers_and_resumes() {
    delivers_and_resumes(Runtime::Wasmtime, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_live_stream_delivers_and_resumes_through_the_cdn() {
    delivers_and_resumes(Runtime::Wasmtime, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_live_stream_heartbeat_and_lifetime() {
    heartbeat_and_lifetime(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_live_stream_heartbeat_and_lifetime() {
    heartbeat_and_lifetime(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_live_stream_cursor_rules() {
    cursor_rules(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_live_stream_cursor_rules() {
    cursor_rules(Runtime::Wasmtime).await;
}
