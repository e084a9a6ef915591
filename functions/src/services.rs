//! What handlers can reach: the ports bundled with the configuration.

use crate::EdgeCache;
use crate::live::backend::EdgeBackend;
use crate::live::feed::Backend;
use shared::config::Config;
use shared::deadline::Deadline;
use shared::hrana::HranaClient;
use shared::ports::{ChainRpc, Clock, HttpClient, Redis, Rng, Sql};
use shared::redis::Command;
use shared::rpc::RpcClient;
use shared::upstash::UpstashClient;
use std::cell::RefCell;
use std::rc::Rc;

/// The dependencies of a request. Handlers are generic over it, so unit tests can pass fakes
/// and the shells pass [`EdgeServices`].
pub trait Services {
    type Redis: Redis;
    type Sql: Sql;
    type Chain: ChainRpc;
    type Clock: Clock;
    type Rng: Rng;

    fn redis(&self) -> &Self::Redis;
    fn sql(&self) -> &Self::Sql;
    fn chain(&self) -> &Self::Chain;
    fn clock(&self) -> &Self::Clock;
    fn rng(&self) -> &Self::Rng;
    fn config(&self) -> &Config;

    /// Writes an operator-facing error line (Workers: `console.error`; Spin: stderr).
    fn log_error(&self, _line: &str) {}

    /// Queues a Redis command to run after the response is sent (storing an idempotent
    /// response, confirming a lock, …), so it costs the request no round trip. Deferred
    /// commands go out in order, together with a due metrics flush, in one `/pipeline` request
    /// (see [`crate::AfterResponse`]); they are not atomic, and a failure only reaches the
    /// operator's log, so defer only what the request's outcome does not depend on. Use plain
    /// commands or `EVAL`: an `EVALSHA` answered `NOSCRIPT` there is not retried.
    fn defer(&self, _command: Command) {}

    /// An owned handle on Redis, the clock and the location cache, for a response body that
    /// outlives the request's borrows (the availability stream, see [`crate::live::feed`]).
    /// `None`: this implementation cannot stream (the unit tests' fakes).
    fn live_backend(&self) -> Option<Rc<dyn Backend>> {
        None
    }
}

/// The platform's [`HttpClient`] with the deadline every outbound call gets.
pub type Outbound<H, C> = Deadline<H, Rc<C>>;

/// The production services: Upstash REST, Hrana over HTTP and JSON-RPC, all over one
/// platform [`HttpClient`] wrapped in a [`Deadline`] of `DEPENDENCY_TIMEOUT_MS`.
pub struct EdgeServices<H, C, R> {
    log: fn(&str),
    /// The platform client itself, for the live feeds' reads through `LIVE_FEED_URL`.
    http: Outbound<H, C>,
    redis: UpstashClient<Outbound<H, C>>,
    sql: HranaClient<Outbound<H, C>>,
    chain: RpcClient<Outbound<H, C>>,
    clock: Rc<C>,
    rng: R,
    config: Config,
    deferred: RefCell<Vec<Command>>,
    cache: Option<Rc<dyn EdgeCache>>,
}

impl<H: HttpClient + Clone, C: Clock, R: Rng> EdgeServices<H, C, R> {
    /// Wires the protocol clients to the configured endpoints.
    pub fn new(http: H, clock: C, rng: R, log: fn(&str), config: Config) -> Self {
        let clock = Rc::new(clock);
        let http = Deadline::new(http, clock.clone(), config.dependency_timeout_ms);
        EdgeServices {
            log,
            redis: UpstashClient::new(
                http.clone(),
                &config.redis.rest_url,
                config.redis.rest_token.expose(),
            ),
            sql: HranaClient::new(
                http.clone(),
                &config.libsql.url,
                config.libsql.auth_token.as_ref().map(|t| t.expose()),
            ),
            chain: RpcClient::new(http.clone(), &config.rpc_url),
            http,
            clock,
            rng,
            config,
            deferred: RefCell::default(),
            cache: None,
        }
    }

    /// The services with the host's location cache (Workers' Cache API), which the live
    /// feeds read through.
    pub fn with_cache(mut self, cache: Option<Rc<dyn EdgeCache>>) -> Self {
        self.cache = cache;
        self
    }

    /// Takes the commands handlers deferred so far.
    pub(crate) fn take_deferred(&self) -> Vec<Command> {
        std::mem::take(&mut *self.deferred.borrow_mut())
    }
}

impl<H: HttpClient + Clone + 'static, C: Clock + 'static, R: Rng> Services
    for EdgeServices<H, C, R>
{
    type Redis = UpstashClient<Outbound<H, C>>;
    type Sql = HranaClient<Outbound<H, C>>;
    type Chain = RpcClient<Outbound<H, C>>;
    type Clock = C;
    type Rng = R;

    fn redis(&self) -> &Self::Redis {
        &self.redis
    }
    fn sql(&self) -> &Self::Sql {
        &self.sql
    }
    fn chain(&self) -> &Self::Chain {
        &self.chain
    }
    fn clock(&self) -> &Self::Clock {
        &self.clock
    }
    fn rng(&self) -> &Self::Rng {
        &self.rng
    }
    fn config(&self) -> &Config {
        &self.config
    }
    fn log_error(&self, line: &str) {
        (self.log)(line);
    }
    fn defer(&self, command: Command) {
        self.deferred.borrow_mut().push(command);
    }
    fn live_backend(&self) -> Option<Rc<dyn Backend>> {
        Some(Rc::new(EdgeBackend {
            redis: self.redis.clone(),
            http: self.http.clone(),
            feed_url: self.config.live_feed_url.clone(),
            clock: self.clock.clone(),
            prefix: self.config.redis.key_prefix.clone(),
            key_space: format!(
                "{} {}",
                self.config.redis.rest_url, self.config.redis.key_prefix
            ),
            log: self.log,
            cache: self.cache.clone(),
        }))
    }
}
