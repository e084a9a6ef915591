//! Work that runs after the response is sent: the handler's deferred Redis commands and a due
//! metrics flush, together in one `/pipeline` request.
//!
//! When it runs, per host:
//! - Workers: the shell hands [`AfterResponse::run`] to `ctx.wait_until`; it runs once the
//!   response is on its way, in the same isolate.
//! - Spin (wasi:http p3): the shell `spawn`s it and returns the response; the task keeps running
//!   after the response is sent, and the host keeps the instance until the task ends (Spin's
//!   executor awaits the guest task after delivering the response; `wasmtime serve` counts it
//!   as the instance's post-return work).
//!
//! A request that deferred nothing and whose metrics are not due has no after-work at all, so
//! on a host that reuses instances most requests — and `/health` always — make no call after
//! their response either.

use crate::metrics::Flush;
use crate::services::{EdgeServices, Services};
use futures::future::select;
use shared::ports::{Clock, HttpClient, Redis, Rng};
use shared::redis::Command;
use std::pin::pin;

/// Whether the host keeps an instance (and its module-level state) between requests. Decides
/// whether metrics can be aggregated across requests or must be flushed by every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instances {
    /// Instances serve many requests (Workers isolates).
    Reused,
    /// Every request gets a fresh instance, dropped after it (Spin).
    PerRequest,
}

/// How long post-response work may take before it is abandoned.
pub const AFTER_RESPONSE_BUDGET_MS: u64 = 2_000;

/// Work that must not delay the response.
pub struct AfterResponse<H, C, R> {
    services: EdgeServices<H, C, R>,
    deferred: Vec<Command>,
    flush: Option<Flush>,
}

impl<H: HttpClient + Clone + 'static, C: Clock + 'static, R: Rng> AfterResponse<H, C, R> {
    /// The after-work of a request, or `None` when there is nothing to send.
    pub(crate) fn new(
        services: EdgeServices<H, C, R>,
        flush: Option<crate::metrics::pending::Batch>,
    ) -> Option<Self> {
        let deferred = services.take_deferred();
        let flush = flush
            .map(|batch| Flush::new(&services.config().redis.key_prefix, services.rng(), batch));
        (!deferred.is_empty() || flush.is_some()).then_some(AfterResponse {
            services,
            deferred,
            flush,
        })
    }

    /// Sends the deferred commands, in order, and the metrics flush last, in one pipeline
    /// round trip; gives up after [`AFTER_RESPONSE_BUDGET_MS`] (each call also has its
    /// `DEPENDENCY_TIMEOUT_MS` deadline). Never fails: a deferred command that fails is logged,
    /// a flush that surely did not reach Redis goes back to the aggregate.
    pub async fn run(self) {
        let AfterResponse {
            services,
            deferred,
            flush,
        } = self;
        let work = async {
            let count = deferred.len();
            let mut commands = deferred;
            commands.extend(flush.as_ref().map(Flush::command));
            let names: Vec<String> = commands[..count]
                .iter()
                .map(|c| c.parts().first().cloned().unwrap_or_default())
                .collect();
            match services.redis().pipeline(commands).await {
                Ok(mut replies) => {
                    for (name, reply) in names.iter().zip(&replies) {
                        if let Err(e) = reply {
                            services.log_error(&format!("deferred {name} failed: {e}"));
                        }
                    }
                    if let Some(flush) = flush {
                        let reply = replies.drain(count..).next().unwrap_or_else(|| {
                            Err(shared::redis::RedisError::Decode("missing reply".into()))
                        });
                        let _ = flush.settle(services.redis(), reply).await;
                    }
                }
                Err(e) => {
                    if count > 0 {
                        services.log_error(&format!("{count} deferred commands lost: {e}"));
                    }
                    if let Some(flush) = flush {
                        flush.failed(&e);
                    }
                }
            }
        };
        let budget = services.clock().sleep(AFTER_RESPONSE_BUDGET_MS);
        select(pin!(work), pin!(budget)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::serve;
    use crate::testing::{FakeClock, FakeRng};
    use crate::{Platform, Request};
    use futures::executor::block_on;
    use serde_json::{Value, json};
    use shared::config::Config;
    use shared::http::{HttpRequest, HttpResponse, TransportError};
    use std::cell::RefCell;
    use std::rc::Rc;

    /// An Upstash REST front that answers every command of a pipeline with `1` and records
    /// what it was sent.
    #[derive(Clone, Default)]
    struct Upstash {
        sent: Rc<RefCell<Vec<(String, Value)>>>,
    }

    impl HttpClient for Upstash {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let replies = vec![json!({"result": 1}); body.as_array().map_or(0, Vec::len)];
            self.sent.borrow_mut().push((request.url, body));
            Ok(HttpResponse {
                status: 200,
                headers: Default::default(),
                body: json!(replies).to_string().into_bytes(),
            })
        }
    }

    fn config(flush_secs: &str) -> Config {
        Config::from_lookup(|key| {
            Some(
                match key {
                    "UPSTASH_REDIS_REST_URL" => "http://redis.test",
                    "UPSTASH_REDIS_REST_TOKEN" => "t",
                    "LIBSQL_URL" => "http://libsql.test",
                    "RPC_URL" => "http://rpc.test",
                    "CHAIN_ID" => "31337",
                    "JWT_SECRET" => "0123456789abcdef0123456789abcdef",
                    "PUBLIC_URL" => "https://api.test",
                    "QR_SECRETS" => "k1:qr-secret-qr-secret-qr-secret-qr-secret",
                    "PASS_KEY_SEED" => "pass-seed-pass-seed-pass-seed-pass-seed",
                    "ADMISSION_SECRET" => "admission-admission-admission-admission",
                    "METRICS_FLUSH_SECS" => flush_secs,
                    "METRICS_FLUSH_SAMPLES" => "3",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .expect("valid test config")
    }

    fn platform(http: &Upstash, instances: Instances) -> Platform<Upstash, FakeClock, FakeRng> {
        Platform {
            http: http.clone(),
            clock: FakeClock,
            rng: FakeRng::OK,
            log: |_| {},
            instances,
            cache: None,
        }
    }

    /// Serves `path` and runs its after-work; returns whether there was any.
    fn serve_and_finish(http: &Upstash, instances: Instances, path: &str) -> bool {
        let served = block_on(serve(
            platform(http, instances),
            Ok(config("10")),
            Request::new("GET", path),
        ));
        match served.after {
            Some(after) => {
                block_on(after.run());
                true
            }
            None => false,
        }
    }

    #[test]
    fn health_makes_no_outbound_call_even_on_per_request_hosts() {
        let _ = crate::metrics::pending::take();
        let http = Upstash::default();
        for instances in [Instances::PerRequest, Instances::Reused] {
            for _ in 0..5 {
                assert!(!serve_and_finish(&http, instances, "/health"));
            }
        }
        assert!(http.sent.borrow().is_empty());
    }

    #[test]
    fn per_request_hosts_flush_each_request_in_one_evalsha_after_the_response() {
        let _ = crate::metrics::pending::take();
        let http = Upstash::default();
        assert!(serve_and_finish(&http, Instances::PerRequest, "/v1/nope"));
        let sent = http.sent.borrow();
        assert_eq!(sent.len(), 1, "one round trip");
        let (url, body) = &sent[0];
        assert_eq!(url, "http://redis.test/pipeline");
        let commands = body.as_array().expect("commands");
        assert_eq!(commands.len(), 1, "one billed command: {body}");
        let command = &commands[0];
        assert_eq!(command[0], "EVALSHA");
        assert_eq!(command[1], crate::metrics::flush_script().sha1());
        assert_eq!(command[2], "1");
        // FakeRng fills 0xab: shard 171 % 16.
        assert_eq!(command[3], "ot:metrics:http:11");
        assert_eq!(command[4], "bucket|GET|unmatched|0");
        assert_eq!(command.as_array().map(Vec::len), Some(10));
    }

    #[test]
    fn reused_instances_flush_only_when_due() {
        let _ = crate::metrics::pending::take();
        let http = Upstash::default();
        // METRICS_FLUSH_SAMPLES=3, and FakeClock never moves: the third sample makes it due.
        assert!(!serve_and_finish(&http, Instances::Reused, "/v1/nope"));
        assert!(!serve_and_finish(&http, Instances::Reused, "/health"));
        assert!(http.sent.borrow().is_empty());
        assert!(serve_and_finish(&http, Instances::Reused, "/v1/nope"));
        let sent = http.sent.borrow();
        let command = &sent[0].1[0];
        let fields: Vec<&str> = command.as_array().expect("args")[4..]
            .iter()
            .step_by(2)
            .filter_map(Value::as_str)
            .collect();
        assert!(fields.contains(&"req|GET|unmatched|404"), "{command}");
        assert!(fields.contains(&"req|GET|/health|200"), "{command}");
        let position = fields
            .iter()
            .position(|f| *f == "req|GET|unmatched|404")
            .expect("field");
        assert_eq!(command[5 + 2 * position], "2");
    }

    #[test]
    fn deferred_commands_and_the_flush_share_one_pipeline() {
        let _ = crate::metrics::pending::take();
        let http = Upstash::default();
        let services = EdgeServices::new(http.clone(), FakeClock, FakeRng::OK, |_| {}, config("0"));
        services.defer(Command::new("SET").arg("idem:k").arg("{}"));
        services.defer(Command::new("PEXPIRE").arg("lock:t").arg(60_000));
        let mut batch = crate::metrics::pending::Batch::default();
        batch.add(
            &crate::metrics::Sample {
                method: "POST",
                route: "/v1/orders",
                status: 201,
                duration_ms: 30,
            },
            0,
        );
        let after = AfterResponse::new(services, Some(batch)).expect("work to do");
        block_on(after.run());
        let sent = http.sent.borrow();
        assert_eq!(sent.len(), 1);
        let commands = sent[0].1.as_array().expect("commands");
        let names: Vec<&str> = commands.iter().filter_map(|c| c[0].as_str()).collect();
        assert_eq!(names, ["SET", "PEXPIRE", "EVALSHA"]);
    }

    #[test]
    fn the_fake_services_record_what_handlers_defer() {
        let services = crate::testing::FakeServices::up();
        services.defer(Command::new("DEL").arg("k"));
        assert_eq!(services.deferred(), [Command::new("DEL").arg("k")]);
    }

    #[test]
    fn nothing_deferred_and_nothing_due_is_no_after_work() {
        let http = Upstash::default();
        let services = EdgeServices::new(http, FakeClock, FakeRng::OK, |_| {}, config("10"));
        assert!(AfterResponse::new(services, None).is_none());
    }
}
