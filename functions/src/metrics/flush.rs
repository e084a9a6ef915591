//! Sending an aggregate to Redis: one `EVALSHA` of `metrics_flush.lua` on a random shard.

use super::pending::{self, Batch};
use super::{SHARDS, shard_key};
use shared::http::TransportError;
use shared::ports::{Redis, Rng};
use shared::redis::{Command, RedisError, Script, Value};
use std::sync::LazyLock;

static FLUSH: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/metrics_flush.lua")));

/// The flush script (for fakes that emulate it).
#[cfg(test)]
pub fn script() -> &'static Script {
    &FLUSH
}

/// An aggregate on its way to one shard.
#[derive(Debug)]
pub struct Flush {
    key: String,
    batch: Batch,
}

impl Flush {
    /// Picks a shard at random: instances flushing at the same moment rarely share a key.
    pub fn new(prefix: &str, rng: &impl Rng, batch: Batch) -> Self {
        let mut byte = [0u8; 1];
        // The shard only spreads load, it guards nothing: without a generator shard 0 serves.
        if rng.fill(&mut byte).is_err() {
            byte = [0];
        }
        // 256 is a multiple of SHARDS (16), so every shard is equally likely.
        let shard = usize::from(byte[0]) % SHARDS;
        Flush {
            key: shard_key(prefix, shard),
            batch,
        }
    }

    fn script_command(&self, name: &str, script: &str) -> Command {
        Command::new(name).arg(script).arg(1).arg(&self.key).args(
            self.batch
                .fields()
                .iter()
                .flat_map(|(field, by)| [field.clone(), by.to_string()]),
        )
    }

    /// The `EVALSHA` to put in a pipeline.
    pub fn command(&self) -> Command {
        self.script_command("EVALSHA", FLUSH.sha1())
    }

    /// Deals with the reply to [`Flush::command`]: re-sends the script by `EVAL` when Redis
    /// does not have it yet (a fresh Redis, a restart or `SCRIPT FLUSH`: once, one more round
    /// trip), and gives the batch back to the aggregate when it surely did not reach Redis.
    /// Returns the batch's fields when they were applied only by that second round trip (so
    /// reads sent with the `EVALSHA` did not see them).
    pub async fn settle(
        self,
        redis: &impl Redis,
        reply: Result<Value, RedisError>,
    ) -> Option<Vec<(String, i64)>> {
        match reply {
            Ok(_) => None,
            Err(RedisError::NoScript) => {
                let eval = self.script_command("EVAL", FLUSH.source());
                match redis.exec(eval).await {
                    Ok(_) => Some(self.batch.fields().clone().into_iter().collect()),
                    Err(e) => {
                        self.failed(&e);
                        None
                    }
                }
            }
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    /// The round trip failed: keep the samples for the next flush unless Redis may have
    /// applied them (a timeout, or a reply we could not read), since counting twice is worse
    /// than missing a few.
    pub fn failed(self, error: &RedisError) {
        let not_applied = match error {
            RedisError::Transport(TransportError::Timeout(_)) => false,
            RedisError::Transport(_) | RedisError::Unauthorized { .. } => true,
            RedisError::Http { .. } | RedisError::NoScript => true,
            RedisError::Server(_) | RedisError::Decode(_) => false,
        };
        if not_applied {
            pending::restore(self.batch);
        }
    }
}
