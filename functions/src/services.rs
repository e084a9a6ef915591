//! What handlers can reach: the ports bundled with the configuration.

use shared::config::Config;
use shared::hrana::HranaClient;
use shared::ports::{ChainRpc, Clock, HttpClient, Redis, Rng, Sql};
use shared::rpc::RpcClient;
use shared::upstash::UpstashClient;

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
}

/// The production services: Upstash REST, Hrana over HTTP and JSON-RPC, all over one
/// platform [`HttpClient`].
pub struct EdgeServices<H, C, R> {
    log: fn(&str),
    redis: UpstashClient<H>,
    sql: HranaClient<H>,
    chain: RpcClient<H>,
    clock: C,
    rng: R,
    config: Config,
}

impl<H: HttpClient + Clone, C: Clock, R: Rng> EdgeServices<H, C, R> {
    /// Wires the protocol clients to the configured endpoints.
    pub fn new(http: H, clock: C, rng: R, log: fn(&str), config: Config) -> Self {
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
            chain: RpcClient::new(http, &config.rpc_url),
            clock,
            rng,
            config,
        }
    }
}

impl<H: HttpClient + Clone, C: Clock, R: Rng> Services for EdgeServices<H, C, R> {
    type Redis = UpstashClient<H>;
    type Sql = HranaClient<H>;
    type Chain = RpcClient<H>;
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
}
