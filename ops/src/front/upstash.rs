//! Upstash-compatible REST front in front of a real `redis-server`.
//!
//! Upstash cannot be run locally, so the edge functions' Redis port (and the
//! official `@upstash/redis` client) talk to this server instead. It speaks the
//! Upstash REST dialect:
//!
//! - `POST /` with a JSON array `["SET","k","v"]` → `200 {"result": …}` or
//!   `400 {"error": "ERR …"}` (the exact Redis error text, so `NOSCRIPT` comes
//!   back verbatim and clients can fall back from EVALSHA to EVAL);
//! - the path form `GET|POST /set/k/v` (URL-encoded segments; query pairs
//!   `?EX=10` become extra arguments; a POST body becomes the last argument);
//! - `POST /pipeline` (not atomic) and `POST /multi-exec` (MULTI/EXEC) with an
//!   array of arrays → `200 [{"result": …} | {"error": …}, …]`;
//! - `Authorization: Bearer <token>` (or `?_token=`), else `401`;
//! - `Upstash-Encoding: base64`: every string in a result is base64-encoded
//!   except a top-level simple-string `OK`, which is what `@upstash/redis`
//!   (and our Rust client) expect; this keeps binary values intact.
//!
//! - `GET /__stats` and `POST /__stats/reset` (same token): the cost counters
//!   (see the `stats` module); a command counts once Redis answered it.
//!
//! Commands that would block the shared connection or change its state
//! (blocking pops, pub/sub, MULTI/WATCH, SELECT, CLIENT, …) are refused with a
//! 400, as they have no meaning in a request/response protocol.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use percent_encoding::percent_decode_str;
use redis::aio::{ConnectionLike as _, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisError, Value};
use serde_json::{Value as Json_, json};
use std::sync::Arc;
use std::time::Duration;

use super::stats::{STATS_PATH, STATS_RESET_PATH, UpstashMeter};
use super::{FrontError, UpstashConfig, bearer_ok, constant_time_eq};

/// Largest request body accepted (values, scripts and pipelines).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Commands refused because they block, hold connection state, or would break
/// the shared multiplexed connection for every other client.
const REFUSED: &[&str] = &[
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BLMOVE",
    "BLMPOP",
    "BZPOPMIN",
    "BZPOPMAX",
    "BZMPOP",
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "SSUBSCRIBE",
    "UNSUBSCRIBE",
    "PUNSUBSCRIBE",
    "SUNSUBSCRIBE",
    "MONITOR",
    "SYNC",
    "PSYNC",
    "WAIT",
    "WAITAOF",
    "MULTI",
    "EXEC",
    "DISCARD",
    "WATCH",
    "UNWATCH",
    "SELECT",
    "SWAPDB",
    "QUIT",
    "RESET",
    "HELLO",
    "AUTH",
    "CLIENT",
    "SHUTDOWN",
];

#[derive(Clone)]
struct AppState {
    redis: ConnectionManager,
    token: Arc<str>,
    /// What the requests served so far would cost on Upstash.
    meter: Arc<UpstashMeter>,
}

/// Connect to Redis and build the REST router.
pub(super) async fn router(cfg: &UpstashConfig) -> Result<Router, FrontError> {
    let redis_err = |source| FrontError::Redis {
        url: cfg.redis_url.clone(),
        source,
    };
    let client = redis::Client::open(cfg.redis_url.as_str()).map_err(redis_err)?;
    let timed_out = || {
        redis_err(RedisError::from((
            redis::ErrorKind::IoError,
            "timed out connecting",
        )))
    };
    // Fail fast when Redis is not there at all (the manager below would retry
    // with back-off first).
    let mut probe = tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| timed_out())?
    .map_err(redis_err)?;
    redis::cmd("PING")
        .query_async::<()>(&mut probe)
        .await
        .map_err(redis_err)?;
    drop(probe);
    let manager_cfg = ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(5))
        .set_response_timeout(Duration::from_secs(5))
        .set_number_of_retries(2);
    let redis = tokio::time::timeout(
        Duration::from_secs(10),
        ConnectionManager::new_with_config(client, manager_cfg),
    )
    .await
    .map_err(|_| timed_out())?
    .map_err(redis_err)?;
    let state = AppState {
        redis,
        token: Arc::from(cfg.token.as_str()),
        meter: Arc::default(),
    };
    Ok(Router::new()
        .route(STATS_PATH, get(stats))
        .route(STATS_RESET_PATH, post(reset_stats))
        .route("/", post(single_json))
        .route("/pipeline", post(pipeline))
        .route("/multi-exec", post(multi_exec))
        .fallback(path_command)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state))
}

/// What one command came to.
enum Outcome {
    /// A reply (never `Value::ServerError`).
    Reply(Value),
    /// A Redis error reply or a refusal, as Redis error text (`ERR …`).
    Error(String),
}

/// The response as JSON: `{"result": …}` or `{"error": …}`.
impl Outcome {
    fn into_json(self, b64: bool) -> Json_ {
        match self {
            Outcome::Reply(v) => json!({ "result": encode(v, b64, true) }),
            Outcome::Error(e) => json!({ "error": e }),
        }
    }
}

fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn unauthorized() -> Response {
    error_response(StatusCode::UNAUTHORIZED, "Unauthorized")
}

/// Redis unreachable (or timed out): not the client's fault.
fn unavailable(e: &RedisError) -> Response {
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("ERR redis unavailable: {e}"),
    )
}

/// Authorised by header, or by Upstash's `_token` query parameter.
fn authorized(state: &AppState, headers: &HeaderMap, uri: &Uri) -> bool {
    if bearer_ok(headers, &state.token) {
        return true;
    }
    uri.query().is_some_and(|q| {
        q.split('&').any(|pair| {
            pair.strip_prefix("_token=").is_some_and(|t| {
                let t = percent_decode_str(t).collect::<Vec<u8>>();
                constant_time_eq(&t, state.token.as_bytes())
            })
        })
    })
}

/// Authorised, and then counted as a billed request (never for `/__stats`).
fn admit(state: &AppState, headers: &HeaderMap, uri: &Uri) -> bool {
    let ok = authorized(state, headers, uri);
    if ok {
        state.meter.requests.add(1);
    }
    ok
}

/// `GET /__stats`: the counts so far.
async fn stats(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers, &uri) {
        return unauthorized();
    }
    Json(state.meter.read()).into_response()
}

/// `POST /__stats/reset`: the counts so far, which are zeroed.
async fn reset_stats(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers, &uri) {
        return unauthorized();
    }
    Json(state.meter.take()).into_response()
}

fn wants_base64(headers: &HeaderMap) -> bool {
    headers
        .get("upstash-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("base64"))
}

/// Turn one JSON command (`["SET","k",1]`) into binary arguments.
fn parse_command(v: &Json_) -> Result<Vec<Vec<u8>>, String> {
    let items = v
        .as_array()
        .ok_or_else(|| "ERR command must be a JSON array of strings".to_string())?;
    if items.is_empty() {
        return Err("ERR empty command".into());
    }
    items
        .iter()
        .map(|item| match item {
            Json_::String(s) => Ok(s.clone().into_bytes()),
            Json_::Number(n) => Ok(n.to_string().into_bytes()),
            Json_::Bool(b) => Ok(b.to_string().into_bytes()),
            _ => Err("ERR command arguments must be strings or numbers".to_string()),
        })
        .collect()
}

/// Reject commands that cannot work over a stateless shared connection.
fn check_allowed(args: &[Vec<u8>]) -> Result<(), String> {
    let name = args
        .first()
        .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
        .unwrap_or_default();
    let blocking_stream_read = (name == "XREAD" || name == "XREADGROUP")
        && args.iter().any(|a| a.eq_ignore_ascii_case(b"BLOCK"));
    if REFUSED.contains(&name.as_str()) || blocking_stream_read {
        return Err(format!(
            "ERR command '{}' is not supported over REST (blocking, pub/sub and connection-state commands are refused)",
            name.to_ascii_lowercase()
        ));
    }
    Ok(())
}

fn to_cmd(args: &[Vec<u8>]) -> Cmd {
    let mut cmd = Cmd::new();
    for a in args {
        cmd.arg(a.as_slice());
    }
    cmd
}

/// The Redis error text of an error reply, e.g. `NOSCRIPT No matching script. Please use EVAL.`
fn error_text(e: &RedisError) -> String {
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

fn outcome(v: Value) -> Outcome {
    match v {
        Value::ServerError(e) => Outcome::Error(error_text(&RedisError::from(e))),
        v => Outcome::Reply(v),
    }
}

/// Upper bound for one round trip to Redis. A dead Redis must give a quick 503 (as Upstash
/// does), not a hang: the connection manager can wait on its reconnect for much longer.
const ROUND_TRIP_LIMIT: Duration = Duration::from_secs(3);

async fn bounded<T>(
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
async fn run_one(state: &AppState, args: Vec<Vec<u8>>) -> Result<Outcome, RedisError> {
    if let Err(e) = check_allowed(&args) {
        return Ok(Outcome::Error(e));
    }
    let mut conn = state.redis.clone();
    let answered = match bounded(conn.req_packed_command(&to_cmd(&args))).await {
        Ok(v) => Ok(outcome(v)),
        Err(e) => classify(e),
    };
    if answered.is_ok() {
        state.meter.commands.add(1);
    }
    answered
}

/// The HTTP response of a single command.
fn render_single(o: Result<Outcome, RedisError>, b64: bool) -> Response {
    match o {
        Ok(Outcome::Error(e)) => error_response(StatusCode::BAD_REQUEST, e),
        Ok(reply) => Json(reply.into_json(b64)).into_response(),
        Err(e) => unavailable(&e),
    }
}

/// `POST /` with a JSON array command.
async fn single_json(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !admit(&state, &headers, &uri) {
        return unauthorized();
    }
    let parsed = serde_json::from_slice::<Json_>(&body)
        .map_err(|e| format!("ERR invalid JSON body: {e}"))
        .and_then(|v| parse_command(&v));
    match parsed {
        Ok(args) => render_single(run_one(&state, args).await, wants_base64(&headers)),
        Err(e) => error_response(StatusCode::BAD_REQUEST, e),
    }
}

/// `GET|POST /cmd/arg/...`: the URL path form of a command.
async fn path_command(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !admit(&state, &headers, &uri) {
        return unauthorized();
    }
    if method != Method::GET && method != Method::POST {
        return error_response(StatusCode::METHOD_NOT_ALLOWED, "ERR method not allowed");
    }
    let mut args: Vec<Vec<u8>> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).collect())
        .collect();
    if args.is_empty() {
        return error_response(StatusCode::BAD_REQUEST, "ERR no command in the URL path");
    }
    if let Some(q) = uri.query() {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if k == "_token" {
                continue;
            }
            args.push(percent_decode_str(k).collect());
            if !v.is_empty() {
                args.push(percent_decode_str(v).collect());
            }
        }
    }
    if method == Method::POST && !body.is_empty() {
        args.push(body.to_vec());
    }
    render_single(run_one(&state, args).await, wants_base64(&headers))
}

/// Parse a body that must be a JSON array of commands.
fn parse_commands(body: &[u8]) -> Result<Vec<Json_>, String> {
    match serde_json::from_slice::<Json_>(body) {
        Ok(Json_::Array(cmds)) => Ok(cmds),
        Ok(_) => Err("ERR body must be a JSON array of commands".into()),
        Err(e) => Err(format!("ERR invalid JSON body: {e}")),
    }
}

/// The common start of `/pipeline` and `/multi-exec`: auth, reply encoding, the command list.
fn batch_request(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(bool, Vec<Json_>), Box<Response>> {
    if !admit(state, headers, uri) {
        return Err(Box::new(unauthorized()));
    }
    let cmds =
        parse_commands(body).map_err(|e| Box::new(error_response(StatusCode::BAD_REQUEST, e)))?;
    Ok((wants_base64(headers), cmds))
}

/// `POST /pipeline`: commands run in order, not atomically; each reports its
/// own result or error.
async fn pipeline(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b64, cmds) = match batch_request(&state, &uri, &headers, &body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let mut slots: Vec<Option<Outcome>> = Vec::with_capacity(cmds.len());
    let mut pipe = Pipeline::new();
    let mut sent = 0usize;
    for c in &cmds {
        match parse_command(c).and_then(|a| check_allowed(&a).map(|()| a)) {
            Ok(args) => {
                pipe.add_command(to_cmd(&args));
                sent += 1;
                slots.push(None);
            }
            Err(e) => slots.push(Some(Outcome::Error(e))),
        }
    }
    let mut replies = if sent > 0 {
        let mut conn = state.redis.clone();
        match bounded(conn.req_packed_commands(&pipe, 0, sent)).await {
            Ok(values) => {
                // Each command Redis answered is billed; refused ones never left.
                state.meter.commands.add(sent as u64);
                values.into_iter()
            }
            Err(e) => return unavailable(&e),
        }
    } else {
        Vec::new().into_iter()
    };
    let mut out = Vec::with_capacity(slots.len());
    for slot in slots {
        let o = match slot {
            Some(o) => o,
            None => replies.next().map_or_else(
                || Outcome::Error("ERR missing reply from redis".into()),
                outcome,
            ),
        };
        out.push(o.into_json(b64));
    }
    Json(Json_::Array(out)).into_response()
}

/// `POST /multi-exec`: the commands run atomically inside MULTI/EXEC. A command
/// rejected while queueing aborts everything with a 400 (Redis `EXECABORT`);
/// errors raised while executing are reported per command.
async fn multi_exec(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b64, cmds) = match batch_request(&state, &uri, &headers, &body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if cmds.is_empty() {
        return Json(Json_::Array(Vec::new())).into_response();
    }
    let mut pipe = Pipeline::new();
    pipe.add_command(redis::cmd("MULTI"));
    for c in &cmds {
        match parse_command(c).and_then(|a| check_allowed(&a).map(|()| a)) {
            Ok(args) => {
                pipe.add_command(to_cmd(&args));
            }
            Err(e) => return error_response(StatusCode::BAD_REQUEST, e),
        }
    }
    pipe.add_command(redis::cmd("EXEC"));
    // Sent as one plain pipeline so every reply (MULTI, QUEUED…, EXEC) comes
    // back as a value; the multiplexed connection writes it as one unit, so no
    // other request's command can land inside the transaction.
    let n = cmds.len() + 2;
    let mut conn = state.redis.clone();
    let mut replies = match bounded(conn.req_packed_commands(&pipe, 0, n)).await {
        Ok(v) => v,
        Err(e) => return unavailable(&e),
    };
    // Upstash bills the commands of a transaction, not its MULTI/EXEC wrapper.
    state.meter.commands.add(cmds.len() as u64);
    let exec = replies.pop();
    match exec {
        Some(Value::Array(items)) => Json(Json_::Array(
            items
                .into_iter()
                .map(|v| outcome(v).into_json(b64))
                .collect(),
        ))
        .into_response(),
        Some(Value::ServerError(e)) => {
            error_response(StatusCode::BAD_REQUEST, error_text(&RedisError::from(e)))
        }
        Some(Value::Nil) => {
            error_response(StatusCode::BAD_REQUEST, "EXECABORT transaction aborted")
        }
        _ => error_response(
            StatusCode::BAD_GATEWAY,
            "ERR unexpected reply to EXEC from redis",
        ),
    }
}

/// Encode a reply as Upstash does. `top` marks the outermost value: only there
/// is the simple string `OK` left as is in base64 mode (clients compare it
/// literally; nested strings are always decoded by them).
fn encode(v: Value, b64: bool, top: bool) -> Json_ {
    let text = |bytes: &[u8]| -> Json_ {
        if b64 {
            Json_::String(B64.encode(bytes))
        } else {
            Json_::String(String::from_utf8_lossy(bytes).into_owned())
        }
    };
    match v {
        Value::Nil => Json_::Null,
        Value::Int(i) => Json_::from(i),
        Value::BulkString(bytes) => text(&bytes),
        Value::SimpleString(s) => text(s.as_bytes()),
        Value::Okay if top => Json_::String("OK".into()),
        Value::Okay => text(b"OK"),
        Value::Array(items) | Value::Set(items) => {
            Json_::Array(items.into_iter().map(|i| encode(i, b64, false)).collect())
        }
        Value::Push { data, .. } => {
            Json_::Array(data.into_iter().map(|i| encode(i, b64, false)).collect())
        }
        Value::Map(pairs) => Json_::Array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [encode(k, b64, false), encode(v, b64, false)])
                .collect(),
        ),
        Value::Attribute { data, .. } => encode(*data, b64, top),
        Value::Double(f) => serde_json::Number::from_f64(f)
            .map_or_else(|| text(f.to_string().as_bytes()), Json_::Number),
        Value::Boolean(b) => Json_::from(i64::from(b)),
        Value::VerbatimString { text: t, .. } => text(t.as_bytes()),
        Value::BigNumber(n) => text(n.to_string().as_bytes()),
        Value::ServerError(e) => Json_::String(error_text(&RedisError::from(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_plain_and_base64() {
        let v = Value::Array(vec![
            Value::BulkString(b"caf\xc3\xa9".to_vec()),
            Value::Int(3),
            Value::Nil,
            Value::Okay,
        ]);
        assert_eq!(
            encode(v.clone(), false, true),
            json!(["café", 3, null, "OK"])
        );
        assert_eq!(encode(v, true, true), json!(["Y2Fmw6k=", 3, null, "T0s="]));
        assert_eq!(encode(Value::Okay, true, true), json!("OK"));
        assert_eq!(
            encode(Value::BulkString(vec![0xff, 0x00]), true, true),
            json!("/wA=")
        );
        assert_eq!(encode(Value::Double(1.5), true, true), json!(1.5));
    }

    #[test]
    fn parses_commands_and_refuses_blocking_ones() {
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
        assert!(check_allowed(&[b"blpop".to_vec(), b"q".to_vec(), b"0".to_vec()]).is_err());
        assert!(check_allowed(&[b"XREAD".to_vec(), b"block".to_vec(), b"0".to_vec()]).is_err());
        assert!(check_allowed(&[b"GET".to_vec(), b"k".to_vec()]).is_ok());
    }
}
