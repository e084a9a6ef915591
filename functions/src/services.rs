//! What handlers can reach: the ports bundled with the configuration.

use crate::EdgeCache;
use crate::live::backend::EdgeBackend;
use crate::live::feed::Backend;
use crate::logs::{self, Counted, Level};
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

    /// Writes an operator-facing error line: a JSON line (see [`crate::logs`]) with `msg` and
    /// the request id (Workers: `console.error`; Spin: stderr).
    fn log_error(&self, _msg: &str) {}

    /// Writes a JSON line with `fields`' members (an object) after `ts`, `level`, `msg` and
    /// the request id: the steps of scheduled runs.
    fn log_event(&self, _level: Level, _msg: &str, _fields: &serde_json::Value) {}

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

/// The platform's [`HttpClient`], counted (the request line's `subrequests`), with the
/// deadline every outbound call gets.
pub type Outbound<H, C> = Deadline<Counted<H>, Rc<C>>;

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
    /// Counts what every client above sends.
    counted: Counted<H>,
    /// The id log lines carry (the request's, or a scheduled run's).
    request_id: Option<String>,
}

impl<H: HttpClient + Clone, C: Clock, R: Rng> EdgeServices<H, C, R> {
    /// Wires the protocol clients to the configured endpoints.
    pub fn new(http: H, clock: C, rng: R, log: fn(&str), config: Config) -> Self {
        let clock = Rc::new(clock);
        let counted = Counted::new(http);
        let http = Deadline::new(counted.clone(), clock.clone(), config.dependency_timeout_ms);
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
            counted,
            request_id: None,
        }
    }

    /// The services with the id their log lines carry.
    pub fn with_request_id(mut self, request_id: &str) -> Self {
        self.request_id = Some(request_id.to_owned());
        self
    }

    /// Outbound calls sent so far.
    pub fn subrequests(&self) -> u32 {
        self.counted.count()
    }

    /// Writes one JSON line (see [`crate::logs::line`]), scrubbed of the configured secrets.
    pub fn emit<T: serde::Serialize + ?Sized>(&self, level: Level, msg: &str, fields: &T) {
        let line = logs::line(
            self.clock.now_ms(),
            level,
            msg,
            self.request_id.as_deref(),
            fields,
        );
        (self.log)(&logs::scrub(line, &self.secrets()));
    }

    /// The secret values of the configuration, which no line may carry.
    fn secrets(&self) -> Vec<&str> {
        let c = &self.config;
        let optional = [
            &c.libsql.auth_token,
            &c.metrics_token,
            &c.cron_secret,
            &c.stripe_webhook_secret,
        ];
        [&c.redis.rest_token, &c.jwt_secret, &c.admission_secret]
            .into_iter()
            .chain(optional.into_iter().flatten())
            .map(|s| s.expose())
            .collect()
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
    fn log_error(&self, msg: &str) {
        self.emit(Level::Error, msg, &serde_json::Map::new());
    }
    fn log_event(&self, level: Level, msg: &str, fields: &serde_json::Value) {
        self.emit(level, msg, fields);
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
