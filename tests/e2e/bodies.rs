//! Request bodies are refused past the route's limit while they arrive (issue 12 item 11),
//! on both runtimes: a declared `Content-Length` over the limit is answered 413 before the
//! body is sent, and a chunked body is answered 413 once it passes the limit, though the
//! client never finishes either. Before, the host buffered the whole body first: both
//! requests hung until the client gave up.

use e2e::{App, Runtime, Stack};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The API's default body limit (`functions::body::DEFAULT_LIMIT`).
const LIMIT: usize = 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// Sends `head` and then `chunks` of body and never finishes; returns the status line the
/// server answered with, if it answered within 15 s.
async fn answer_to_an_unfinished_body(app: &App, head: String, chunks: Vec<Vec<u8>>) -> String {
    let addr = app.base_url.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let sending = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await.ok();
        for chunk in chunks {
            if writer.write_all(&chunk).await.is_err() {
                break;
            }
        }
        // Keep the connection open: the body never ends.
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(writer);
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(15), async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    sending.abort();
    assert!(read.is_ok(), "no answer within 15 s");
    let text = String::from_utf8_lossy(&answer).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

fn head(app: &App, framing: &str) -> String {
    let host = app.base_url.trim_start_matches("http://");
    format!(
        "POST /v1/events HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    )
}

async fn oversized_bodies_are_refused_while_they_arrive(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, &[]).await;

    // Declared too long: refused before the body (one chunk sent, the rest never comes).
    let declared = head(&app, &format!("Content-Length: {}", 5 * LIMIT));
    let status = answer_to_an_unfinished_body(&app, declared, vec![vec![b' '; CHUNK]]).await;
    assert!(status.contains(" 413"), "{runtime:?}: {status}");

    // Chunked: counted as it comes, refused once past the limit, the end never sent.
    let chunks: Vec<Vec<u8>> = (0..=LIMIT / CHUNK + 1)
        .map(|_| {
            let mut framed = format!("{CHUNK:x}\r\n").into_bytes();
            framed.extend(std::iter::repeat_n(b' ', CHUNK));
            framed.extend_from_slice(b"\r\n");
            framed
        })
        .collect();
    let chunked = head(&app, "Transfer-Encoding: chunked");
    let status = answer_to_an_unfinished_body(&app, chunked, chunks).await;
    assert!(status.contains(" 413"), "{runtime:?}: {status}");

    // The answer is the API's error body; a body within the limit is read as before.
    let refused = app
        .request(reqwest::Method::POST, "/v1/events")
        .header("content-type", "application/json")
        .body(vec![b' '; LIMIT + 1])
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 413);
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["error_code"], "BODY_TOO_LARGE");
    let small = app
        .request(reqwest::Method::POST, "/v1/events")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(small.status(), 401, "not authenticated, but read");
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_oversized_bodies_are_refused_while_they_arrive() {
    oversized_bodies_are_refused_while_they_arrive(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_oversized_bodies_are_refused_while_they_arrive() {
    oversized_bodies_are_refused_while_they_arrive(Runtime::Wasmtime).await;
}
