//! A small server-sent-events reader for the tests: opens a stream with reqwest and splits it
//! into events as EventSource would (blocks separated by a blank line; `id:`, `event:`,
//! `data:`, `retry:` fields; lines starting with `:` are comments).
//!
//! Streams go straight to the function, not through the contract proxy ([`crate::contract`]),
//! which reads whole bodies: a stream that lasts a minute would reach the test at its end.

use std::time::Duration;

/// One block of the stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    pub retry: Option<u64>,
    /// The block's comment lines (heartbeats), without the `:`.
    pub comments: Vec<String>,
}

impl SseEvent {
    /// The `id:` as a seq.
    pub fn seq(&self) -> Option<u64> {
        self.id.as_deref()?.parse().ok()
    }

    /// The data as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null)
    }
}

/// An open stream.
pub struct SseReader {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

/// Opens `url` (a stream of the function at `base_url`) with `headers`; returns the response
/// when it is not a 200 event stream (an error answered before streaming).
///
/// # Errors
/// The response, when its status is not 200.
pub async fn open(url: &str, headers: &[(&str, &str)]) -> Result<SseReader, reqwest::Response> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let mut request = client.get(url).header("accept", "text/event-stream");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("stream request sent");
    if response.status() != 200 {
        return Err(response);
    }
    Ok(SseReader {
        response,
        buffer: Vec::new(),
    })
}

impl SseReader {
    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers().get(name)?.to_str().ok()
    }

    /// The next event, waiting at most `timeout`; `None` when the stream ended.
    ///
    /// # Panics
    /// When nothing complete arrives within `timeout`, or the connection fails.
    pub async fn next(&mut self, timeout: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                return Some(parse(&String::from_utf8_lossy(&block)));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no complete event within {timeout:?}"))
                .expect("stream read");
            match chunk {
                Some(bytes) => self.buffer.extend_from_slice(&bytes),
                None => return None,
            }
        }
    }

    /// Events until one satisfies `done` (included), each within `timeout`.
    ///
    /// # Panics
    /// When the stream ends first.
    pub async fn until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&SseEvent) -> bool,
    ) -> Vec<SseEvent> {
        let mut events = Vec::new();
        loop {
            let event = self.next(timeout).await.expect("the stream ended early");
            let stop = done(&event);
            events.push(event);
            if stop {
                return events;
            }
        }
    }
}

fn parse(block: &str) -> SseEvent {
    let mut event = SseEvent::default();
    let mut data = Vec::new();
    for line in block.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix(':') {
            event.comments.push(comment.trim().to_owned());
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => event.id = Some(value.to_owned()),
            "event" => event.event = Some(value.to_owned()),
            "data" => data.push(value),
            "retry" => event.retry = value.parse().ok(),
            _ => {}
        }
    }
    event.data = data.join("\n");
    event
}
