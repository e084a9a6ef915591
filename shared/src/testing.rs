//! Test helpers: a scripted in-process [`HttpClient`] and a tiny executor.

use crate::http::{HttpRequest, HttpResponse, TransportError};
use crate::ports::HttpClient;
use std::cell::RefCell;
use std::collections::VecDeque;

/// Answers requests with queued responses and records what was sent.
#[derive(Default)]
pub struct FakeHttp {
    replies: RefCell<VecDeque<Result<HttpResponse, TransportError>>>,
    sent: RefCell<Vec<HttpRequest>>,
}

impl FakeHttp {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn reply_json(&self, status: u16, body: serde_json::Value) {
        self.reply_raw(status, body.to_string().as_bytes());
    }

    pub fn reply_raw(&self, status: u16, body: &[u8]) {
        self.replies.borrow_mut().push_back(Ok(HttpResponse {
            status,
            headers: Default::default(),
            body: body.to_vec(),
        }));
    }

    pub fn fail_transport(&self) {
        self.replies
            .borrow_mut()
            .push_back(Err(TransportError::Connect("connection refused".into())));
    }

    pub fn sent(&self) -> Vec<HttpRequest> {
        self.sent.borrow().clone()
    }

    pub fn sent_json(&self, index: usize) -> serde_json::Value {
        serde_json::from_slice(&self.sent()[index].body).expect("request body is JSON")
    }
}

impl HttpClient for FakeHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent.borrow_mut().push(request);
        self.replies
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| Err(TransportError::Refused("no scripted reply".into())))
    }
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}
