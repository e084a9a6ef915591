//! In-process fakes of every port, for unit tests of the router and handlers. (The real
//! services are exercised by the end-to-end tests in `tests/`.)

use crate::services::Services;
use shared::config::Config;
use shared::domain::{BlockNumber, ChainId};
use shared::http::TransportError;
use shared::ports::{ChainRpc, Clock, Redis, Rng, Sql};
use shared::redis::{Command, RedisError, Replies, Value};
use shared::rpc::RpcError;
use shared::sql::{Rows, SqlError, Statement};
use std::cell::RefCell;
use std::collections::BTreeMap;

fn down() -> TransportError {
    TransportError::Connect("connection refused".into())
}

/// A Redis that answers PING and keeps HINCRBY/HGETALL hashes in memory (also through the
/// metrics flush script, which it emulates), or is down.
pub struct FakeRedis {
    pub up: bool,
    /// Whether the flush script is loaded: until it is sent by `EVAL`, `EVALSHA` answers
    /// `NOSCRIPT`, like a fresh Redis.
    pub script_loaded: std::cell::Cell<bool>,
    hashes: RefCell<BTreeMap<(String, String), i64>>,
    /// The name of every command sent, in order (tests assert what a failed request did not do).
    pub sent: RefCell<Vec<String>>,
}

impl FakeRedis {
    fn apply(&self, command: &Command) -> Result<Value, RedisError> {
        if let Some(name) = command.parts().first() {
            self.sent.borrow_mut().push(name.clone());
        }
        if !self.up {
            return Err(RedisError::Transport(down()));
        }
        let parts = command.parts();
        match parts[0].as_str() {
            "PING" => Ok(Value::Bytes(b"PONG".to_vec())),
            "HINCRBY" => {
                let by: i64 = parts[3]
                    .parse()
                    .map_err(|_| RedisError::Server("ERR not an integer".into()))?;
                let mut hashes = self.hashes.borrow_mut();
                let field = hashes
                    .entry((parts[1].clone(), parts[2].clone()))
                    .or_default();
                *field += by;
                Ok(Value::Int(*field))
            }
            "EVALSHA" | "EVAL"
                if parts.get(1).is_some_and(|script| {
                    let flush = crate::metrics::flush_script();
                    script == flush.sha1() || script == flush.source()
                }) =>
            {
                if parts[0] == "EVAL" {
                    self.script_loaded.set(true);
                } else if !self.script_loaded.get() {
                    return Err(RedisError::NoScript);
                }
                // metrics_flush.lua: HINCRBY KEYS[1] for each (field, increment) in ARGV.
                let key = &parts[3];
                for pair in parts[4..].chunks_exact(2) {
                    self.apply(&Command::new("HINCRBY").arg(key).arg(&pair[0]).arg(&pair[1]))?;
                }
                Ok(Value::Int((parts.len() as i64 - 4) / 2))
            }
            "HGETALL" => Ok(Value::Array(
                self.hashes
                    .borrow()
                    .iter()
                    .filter(|((key, _), _)| *key == parts[1])
                    .flat_map(|((_, field), v)| {
                        [
                            Value::Bytes(field.clone().into_bytes()),
                            Value::Bytes(v.to_string().into_bytes()),
                        ]
                    })
                    .collect(),
            )),
            other => Err(RedisError::Server(format!("ERR fake has no {other}"))),
        }
    }
}

impl Redis for FakeRedis {
    async fn exec(&self, command: Command) -> Result<Value, RedisError> {
        self.apply(&command)
    }
    async fn pipeline(&self, commands: Vec<Command>) -> Result<Replies, RedisError> {
        if !self.up {
            return Err(RedisError::Transport(down()));
        }
        Ok(commands.iter().map(|c| self.apply(c)).collect())
    }
    async fn multi_exec(&self, commands: Vec<Command>) -> Result<Replies, RedisError> {
        self.pipeline(commands).await
    }
}

/// A libSQL that answers with empty results, or is down.
pub struct FakeSql {
    pub up: bool,
    /// How many statements were sent (tests assert what a failed request did not do).
    pub sent: std::cell::Cell<usize>,
}

impl Sql for FakeSql {
    async fn execute(&self, _statement: Statement) -> Result<Rows, SqlError> {
        self.sent.set(self.sent.get() + 1);
        if self.up {
            Ok(Rows::default())
        } else {
            Err(SqlError::Transport(down()))
        }
    }
    async fn batch_atomic(&self, statements: Vec<Statement>) -> Result<Vec<Rows>, SqlError> {
        self.sent.set(self.sent.get() + statements.len());
        if self.up {
            Ok(vec![Rows::default(); statements.len()])
        } else {
            Err(SqlError::Transport(down()))
        }
    }
}

/// A node on a given chain, or down.
pub struct FakeChain {
    pub chain_id: Option<u64>,
}

impl ChainRpc for FakeChain {
    async fn chain_id(&self) -> Result<ChainId, RpcError> {
        self.chain_id
            .and_then(ChainId::new)
            .ok_or(RpcError::Transport(down()))
    }
    async fn block_number(&self) -> Result<BlockNumber, RpcError> {
        self.chain_id
            .map(|_| BlockNumber(7))
            .ok_or(RpcError::Transport(down()))
    }
    async fn block_header(&self, _number: u64) -> Result<shared::rpc::BlockHeader, RpcError> {
        Err(RpcError::Transport(down()))
    }
    async fn logs(
        &self,
        _: &[alloy_primitives::Address],
        _: u64,
        _: u64,
    ) -> Result<Vec<shared::chain::RawLog>, RpcError> {
        Err(RpcError::Transport(down()))
    }
    async fn eth_call(
        &self,
        _: alloy_primitives::Address,
        _: alloy_primitives::Bytes,
    ) -> Result<alloy_primitives::Bytes, RpcError> {
        Err(RpcError::Transport(down()))
    }
}

/// Frozen time, moved only by [`FakeClock::advance`]; sleeps never end (so deadlines never
/// fire before a fake answers).
pub struct FakeClock;

thread_local! {
    static ADVANCED_MS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl FakeClock {
    /// Moves this test thread's clock forward.
    pub fn advance(ms: u64) {
        ADVANCED_MS.with(|t| t.set(t.get() + ms));
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> u64 {
        1_700_000_000_000 + ADVANCED_MS.with(std::cell::Cell::get)
    }
    async fn sleep(&self, _ms: u64) {
        std::future::pending::<()>().await;
    }
}

/// Deterministic "randomness", or a generator that fails like a platform without a CSPRNG.
pub struct FakeRng {
    pub broken: bool,
}

impl FakeRng {
    /// Fills every byte with `0xab`.
    pub const OK: FakeRng = FakeRng { broken: false };
}

impl Rng for FakeRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), shared::error::Error> {
        if self.broken {
            return Err(shared::ports::rng_unavailable("fake generator is broken"));
        }
        buf.fill(0xab);
        Ok(())
    }
}

/// All fakes together.
pub struct FakeServices {
    pub redis: FakeRedis,
    pub sql: FakeSql,
    pub chain: FakeChain,
    pub rng: FakeRng,
    config: Config,
    deferred: RefCell<Vec<Command>>,
}

impl FakeServices {
    /// Every dependency up, on chain 31337.
    pub fn up() -> Self {
        let config = Config::from_lookup(|key| {
            Some(
                match key {
                    "UPSTASH_REDIS_REST_URL" => "http://redis.test",
                    "LIBSQL_URL" => "http://libsql.test",
                    "RPC_URL" => "http://rpc.test",
                    "CHAIN_ID" => "31337",
                    "JWT_SECRET" => "0123456789abcdef0123456789abcdef",
                    "UPSTASH_REDIS_REST_TOKEN" => "t",
                    "PUBLIC_URL" => "https://api.test",
                    "QR_SECRETS" => "k1:qr-secret-qr-secret-qr-secret-qr-secret",
                    "PASS_KEY_SEED" => "pass-seed-pass-seed-pass-seed-pass-seed",
                    "ADMISSION_SECRET" => "admission-admission-admission-admission",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .expect("valid test config");
        FakeServices {
            redis: FakeRedis {
                up: true,
                script_loaded: std::cell::Cell::new(true),
                hashes: RefCell::default(),
                sent: RefCell::default(),
            },
            sql: FakeSql {
                up: true,
                sent: std::cell::Cell::new(0),
            },
            chain: FakeChain {
                chain_id: Some(31337),
            },
            rng: FakeRng::OK,
            config,
            deferred: RefCell::default(),
        }
    }

    /// The commands handlers deferred, in order.
    pub fn deferred(&self) -> Vec<Command> {
        self.deferred.borrow().clone()
    }
}

impl Services for FakeServices {
    type Redis = FakeRedis;
    type Sql = FakeSql;
    type Chain = FakeChain;
    type Clock = FakeClock;
    type Rng = FakeRng;

    fn redis(&self) -> &FakeRedis {
        &self.redis
    }
    fn sql(&self) -> &FakeSql {
        &self.sql
    }
    fn chain(&self) -> &FakeChain {
        &self.chain
    }
    fn clock(&self) -> &FakeClock {
        &FakeClock
    }
    fn rng(&self) -> &FakeRng {
        &self.rng
    }
    fn config(&self) -> &Config {
        &self.config
    }
    fn defer(&self, command: Command) {
        self.deferred.borrow_mut().push(command);
    }
}
