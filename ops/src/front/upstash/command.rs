//! One command's trip: JSON → arguments, the guard, Redis, and what came of it.

use std::time::Duration;

use redis::aio::ConnectionLike as _;
use redis::{Cmd, RedisError, Value};
use serde_json::{Value as Json, json};

use super::AppState;
use super::encode::encode;

/// What one command came to.
pub(super) enum Outcome {
    /// A reply (never `Value::ServerError`).
    Reply(Value),
    /// A Redis error reply or a refusal, as Redis error text (`ERR …`).
    Error(String),
}

impl Outcome {
    /// The response as JSON: `{"result": …}` or `{"error": …}`.
    pub(super) fn into_json(self, b64: bool) -> Json {
        match self {
            Outcome::Reply(v) => json!({ "result": encode(v, b64, true) }),
            Outcome::Error(e) => json!({ "error": e }),
        }
    }
}

/// Turn one JSON command (`["SET","k",1]`) into binary arguments.
pub(super) fn parse_command(v: &Json) -> Result<Vec<Vec<u8>>, String> {
    let items = v
        .as_array()
        .ok_or_else(|| "ERR command must be a JSON array of strings".to_string())?;
    if items.is_empty() {
        return Err("ERR empty command".into());
    }
    items
        .iter()
        .map(|item| match item {
            Json::String(s) => Ok(s.clone().into_bytes()),
            Json::Number(n) => Ok(n.to_string().into_bytes()),
            Json::Bool(b) => Ok(b.to_string().into_bytes()),
            _ => Err("ERR command arguments must be strings or numbers".to_string()),
        })
        .collect()
}

pub(super) fn to_cmd(args: &[Vec<u8>]) -> Cmd {
    let mut cmd = Cmd::new();
    for a in args {
        cmd.arg(a.as_slice());
    }
    cmd
}

/// The Redis error text of an error reply, e.g. `NOSCRIPT No matching script. Please use EVAL.`
pub(super) fn error_text(e: &RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    }
}

/// Split a client-library error into "Redis said no" and "Redis unreachable".
fn classify(e: RedisError) -> Result<Outcome, RedisError> {
    if e.code().is_some() && !e.is_io_error() && !e.is_timeout() {
        Ok(Outcome::Error(error_text(&e)))
    } else {
        Err(e)
    }
}

pub(super) fn outcome(v: Value) -> Outcome {
    match v {
        Value::ServerError(e) => Outcome::Error(error_text(&RedisError::from(e))),
        v => Outcome::Reply(v),
    }
}

/// Upper bound for one round trip to Redis. A dead Redis must give a quick 503 (as Upstash
/// does), not a hang: the connection manager can wait on its reconnect for much longer.
const ROUND_TRIP_LIMIT: Duration = Duration::from_secs(3);

pub(super) async fn bounded<T>(
    round_trip: impl std::future::Future<Output = Result<T, RedisError>>,
) -> Result<T, RedisError> {
    tokio::time::timeout(ROUND_TRIP_LIMIT, round_trip)
        .await
        .unwrap_or_else(|_| {
            Err(RedisError::from((
                redis::ErrorKind::IoError,
                "redis did not answer in time",
            )))
        })
}

/// Run one command; `Err` only when Redis itself could not be reached.
///
/// The command is billed once Redis answered it, also with an error reply
/// (e.g. `NOSCRIPT`: the client's EVAL fallback is a second command, as on
/// Upstash); a command refused here or left unanswered never reached Redis.
pub(super) async fn run_one(state: &AppState, args: Vec<Vec<u8>>) -> Result<Outcome, RedisError> {
    let pass = match state.guard.admit(&args) {
        Ok(pass) => pass,
        Err(refusal) => return Ok(Outcome::Error(refusal)),
    };
    let mut conn = state.redis.clone();
    let answered = match bounded(conn.req_packed_command(&to_cmd(&args))).await {
        Ok(v) => {
            state.guard.answered(pass, &v);
            Ok(outcome(v))
        }
        Err(e) => classify(e),
    };
    if answered.is_ok() {
        state.meter.commands.add(1);
    }
    answered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        let args = parse_command(&json!(["set", "k", 12, 1.5, true])).unwrap_or_default();
        assert_eq!(
            args,
            vec![
                b"set".to_vec(),
                b"k".to_vec(),
                b"12".to_vec(),
                b"1.5".to_vec(),
                b"true".to_vec()
            ]
        );
        assert!(parse_command(&json!([])).is_err());
        assert!(parse_command(&json!(["get", null])).is_err());
    }
}
