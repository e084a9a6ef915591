//! The Redis port: commands, replies, Lua scripts and errors, independent of how Redis is
//! reached. [`crate::upstash::UpstashClient`] implements it over the Upstash REST protocol.

use crate::http::TransportError;
use sha1::{Digest, Sha1};
use std::fmt::Display;

/// One Redis command as its argument list (`["SET", "k", "v"]`). Upstash REST carries
/// arguments as JSON strings, so arguments are text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command(Vec<String>);

impl Command {
    /// Starts a command with its name.
    pub fn new(name: &str) -> Self {
        Command(vec![name.to_owned()])
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Display) -> Self {
        self.0.push(arg.to_string());
        self
    }

    /// Appends several arguments.
    pub fn args<I: IntoIterator<Item = T>, T: Display>(mut self, args: I) -> Self {
        self.0.extend(args.into_iter().map(|a| a.to_string()));
        self
    }

    /// The command name and arguments.
    pub fn parts(&self) -> &[String] {
        &self.0
    }
}

/// A decoded Redis reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Nil,
    Int(i64),
    /// Bulk or simple string (binary safe).
    Bytes(Vec<u8>),
    Array(Vec<Value>),
}

impl Value {
    /// The reply as an integer: integer replies, or strings holding a decimal integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }
    }

    /// The reply as UTF-8 text, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// Whether the reply is nil.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
}

/// A Lua script with its SHA-1, so it can be run by EVALSHA and re-sent by EVAL only when
/// the server answers `NOSCRIPT` (after a restart or `SCRIPT FLUSH`).
#[derive(Debug, Clone)]
pub struct Script {
    source: &'static str,
    sha1: String,
}

impl Script {
    /// Wraps script source (usually `include_str!("x.lua")`).
    pub fn new(source: &'static str) -> Self {
        let sha1 = hex::encode(Sha1::digest(source.as_bytes()));
        Script { source, sha1 }
    }

    /// The Lua source.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Lower-case hex SHA-1 of the source, as Redis computes it.
    pub fn sha1(&self) -> &str {
        &self.sha1
    }
}

/// Errors from the Redis port.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RedisError {
    /// Redis (or its REST front) could not be reached. Transient: retry with backoff.
    #[error("redis unreachable: {0}")]
    Transport(#[from] TransportError),
    /// The REST front rejected our token. Configuration problem, not transient.
    #[error("redis rejected the credentials (HTTP {status})")]
    Unauthorized { status: u16 },
    /// The REST front answered with an unexpected HTTP status (5xx: transient).
    #[error("redis REST front answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// Redis executed the command and replied with an error.
    #[error("redis error: {0}")]
    Server(String),
    /// EVALSHA of a script the server does not have; callers normally never see this because
    /// [`Redis::eval`] falls back to EVAL.
    #[error("NOSCRIPT: script not loaded")]
    NoScript,
    /// The reply could not be decoded.
    #[error("malformed redis reply: {0}")]
    Decode(String),
}

impl RedisError {
    /// Whether Redis itself is unavailable (as opposed to a bad command or reply).
    pub fn is_unavailable(&self) -> bool {
        match self {
            RedisError::Transport(_) | RedisError::Unauthorized { .. } => true,
            RedisError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Reply to each command of a pipeline or transaction, in order.
pub type Replies = Vec<Result<Value, RedisError>>;

/// The Redis port.
#[allow(async_fn_in_trait)]
pub trait Redis {
    /// Runs one command.
    ///
    /// # Errors
    /// [`RedisError::Server`] for an error reply; the other variants when Redis is unreachable.
    async fn exec(&self, command: Command) -> Result<Value, RedisError>;

    /// Runs commands in one round trip, not atomically; each gets its own reply or error.
    ///
    /// # Errors
    /// Only when the round trip itself fails.
    async fn pipeline(&self, commands: Vec<Command>) -> Result<Replies, RedisError>;

    /// Runs commands atomically (MULTI/EXEC) in one round trip.
    ///
    /// # Errors
    /// When the round trip fails or the transaction is aborted.
    async fn multi_exec(&self, commands: Vec<Command>) -> Result<Replies, RedisError>;

    /// Runs a Lua script by EVALSHA, falling back to EVAL on `NOSCRIPT`.
    ///
    /// # Errors
    /// As [`Redis::exec`].
    async fn eval(
        &self,
        script: &Script,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Value, RedisError> {
        let evalsha = Command::new("EVALSHA")
            .arg(script.sha1())
            .arg(keys.len())
            .args(keys)
            .args(args);
        match self.exec(evalsha).await {
            Err(RedisError::NoScript) => {
                let eval = Command::new("EVAL")
                    .arg(script.source())
                    .arg(keys.len())
                    .args(keys)
                    .args(args);
                self.exec(eval).await
            }
            other => other,
        }
    }

    /// `PING`, expecting `PONG`.
    ///
    /// # Errors
    /// When Redis is unreachable or answers something else.
    async fn ping(&self) -> Result<(), RedisError> {
        match self.exec(Command::new("PING")).await? {
            Value::Bytes(b) if b == b"PONG" => Ok(()),
            other => Err(RedisError::Decode(format!("PING answered {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_sha1_matches_redis() {
        // `redis-cli SCRIPT LOAD "return 1"` prints this digest.
        let script = Script::new("return 1");
        assert_eq!(script.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    }

    #[test]
    fn value_as_i64_reads_integers_and_decimal_strings() {
        assert_eq!(Value::Int(7).as_i64(), Some(7));
        assert_eq!(Value::Bytes(b"-12".to_vec()).as_i64(), Some(-12));
        assert_eq!(Value::Bytes(b"x".to_vec()).as_i64(), None);
        assert_eq!(Value::Nil.as_i64(), None);
    }
}
