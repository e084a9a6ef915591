//! A deadline on every outbound call: [`Deadline`] wraps an [`HttpClient`] so a call that gets
//! no response within the budget is abandoned with [`TransportError::Timeout`].
//!
//! A hung dependency must cost a request a bounded wait, not the platform's own limit (Workers
//! give a fetch up to the invocation's wall time; `wasmtime serve` has no limit at all). The
//! timeout is a transport error, so every protocol client already turns it into its
//! "unavailable" variant and the API into 503 `REDIS_UNAVAILABLE` / `LIBSQL_UNAVAILABLE` /
//! `RPC_UNAVAILABLE`. The timer is the [`Clock::sleep`] port, so this builds for both Wasm
//! targets and natively, and tests drive it with fakes.

use crate::http::{HttpRequest, HttpResponse, TransportError};
use crate::ports::{Clock, HttpClient};
use futures::future::{Either, select};
use std::pin::pin;

/// An [`HttpClient`] whose calls give up after `timeout_ms`.
#[derive(Debug, Clone)]
pub struct Deadline<H, C> {
    inner: H,
    clock: C,
    timeout_ms: u64,
}

impl<H: HttpClient, C: Clock> Deadline<H, C> {
    /// Wraps `inner`; `clock` provides the timer.
    pub fn new(inner: H, clock: C, timeout_ms: u64) -> Self {
        Deadline {
            inner,
            clock,
            timeout_ms,
        }
    }

    /// The budget of one call.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }
}

impl<H: HttpClient, C: Clock> HttpClient for Deadline<H, C> {
    /// Sends the request; the losing future is dropped, which abandons the exchange on both
    /// hosts (the peer may still finish it: a timed-out write is not known not to have run).
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        match select(
            pin!(self.inner.send(request)),
            pin!(self.clock.sleep(self.timeout_ms)),
        )
        .await
        {
            Either::Left((outcome, _)) => outcome,
            Either::Right(_) => Err(TransportError::Timeout(self.timeout_ms)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::hrana::HranaClient;
    use crate::http::Method;
    use crate::ports::{ChainRpc, Redis, Sql};
    use crate::redis::{Command, RedisError};
    use crate::rpc::RpcClient;
    use crate::sql::Statement;
    use crate::testing::{FakeHttp, block_on};
    use std::cell::Cell;

    /// A peer that accepts the request and never answers.
    struct Hung {
        calls: Cell<u32>,
    }

    impl HttpClient for Hung {
        async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
            self.calls.set(self.calls.get() + 1);
            std::future::pending().await
        }
    }

    /// A timer that fires at once and records how long it was asked to wait.
    #[derive(Default)]
    struct Expired {
        asked: Cell<u64>,
    }

    impl Clock for Expired {
        fn now_ms(&self) -> u64 {
            0
        }
        async fn sleep(&self, ms: u64) {
            self.asked.set(ms);
        }
    }

    /// A timer that never fires.
    struct Never;

    impl Clock for Never {
        fn now_ms(&self) -> u64 {
            0
        }
        async fn sleep(&self, _ms: u64) {
            std::future::pending::<()>().await;
        }
    }

    fn hung() -> Hung {
        Hung {
            calls: Cell::new(0),
        }
    }

    fn get() -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: "http://dep.test/".into(),
            headers: Default::default(),
            body: Vec::new(),
        }
    }

    #[test]
    fn a_peer_that_never_answers_is_a_timeout() {
        let clock = Expired::default();
        let peer = hung();
        let http = Deadline::new(&peer, &clock, 1_500);
        assert_eq!(
            block_on(http.send(get())).expect_err("must time out"),
            TransportError::Timeout(1_500)
        );
        assert_eq!((peer.calls.get(), clock.asked.get()), (1, 1_500));
    }

    #[test]
    fn an_answer_before_the_deadline_passes_through() {
        let peer = FakeHttp::new();
        peer.reply_raw(204, b"");
        let http = Deadline::new(&peer, Never, 10);
        assert_eq!(block_on(http.send(get())).expect("answered").status, 204);
        peer.fail_transport();
        assert!(matches!(
            block_on(http.send(get())),
            Err(TransportError::Connect(_))
        ));
    }

    #[test]
    fn each_client_maps_the_timeout_to_its_unavailable_error() {
        let peer = hung();
        let http = Deadline::new(&peer, Expired::default(), 5);
        let redis = crate::upstash::UpstashClient::new(&http, "http://redis.test", "t");
        let redis_error = block_on(redis.exec(Command::new("PING"))).expect_err("timeout");
        assert_eq!(
            redis_error,
            RedisError::Transport(TransportError::Timeout(5))
        );
        let e: Error = redis_error.into();
        assert_eq!((e.status(), e.code()), (503, "REDIS_UNAVAILABLE"));

        let sql = HranaClient::new(&http, "http://libsql.test", None);
        let e: Error = block_on(sql.execute(Statement::new("SELECT 1")))
            .expect_err("timeout")
            .into();
        assert_eq!((e.status(), e.code()), (503, "LIBSQL_UNAVAILABLE"));

        let rpc = RpcClient::new(&http, "http://rpc.test");
        let e: Error = block_on(rpc.block_number()).expect_err("timeout").into();
        assert_eq!((e.status(), e.code()), (503, "RPC_UNAVAILABLE"));
        assert_eq!(peer.calls.get(), 3);
    }
}
