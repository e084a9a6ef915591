//! Several commands per request: `POST /pipeline` (in order, not atomic) and
//! `POST /multi-exec` (atomic, inside MULTI/EXEC).
//!
//! A command the guard refuses is answered as Upstash answers an unsupported one:
//! in a pipeline it fills its own `{"error": …}` slot and the others run; in a
//! transaction it discards the whole transaction with a `400 {"error": …}` before
//! anything runs (Upstash's REST docs: "A transaction might be discarded … [if] at
//! least one of the commands is unsupported").

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use redis::aio::ConnectionLike as _;
use redis::{Pipeline, RedisError, Value};
use serde_json::Value as Json_;

use super::AppState;
use super::command::{Outcome, bounded, error_text, outcome, parse_command, to_cmd};
use super::guard::Pass;
use super::http::{admit, error_response, unauthorized, unavailable, wants_base64};

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

/// One command of a batch, parsed and past the guard.
fn admitted(state: &AppState, command: &Json_) -> Result<(Vec<Vec<u8>>, Pass), String> {
    let args = parse_command(command)?;
    let pass = state.guard.admit(&args)?;
    Ok((args, pass))
}

/// `POST /pipeline`: commands run in order, not atomically; each reports its
/// own result or error.
pub(super) async fn pipeline(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b64, cmds) = match batch_request(&state, &uri, &headers, &body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    // Per command: `Ok(pass)` if sent (its reply comes in order), else its error.
    let mut slots: Vec<Result<Pass, String>> = Vec::with_capacity(cmds.len());
    let mut pipe = Pipeline::new();
    let mut sent = 0usize;
    for c in &cmds {
        match admitted(&state, c) {
            Ok((args, pass)) => {
                pipe.add_command(to_cmd(&args));
                sent += 1;
                slots.push(Ok(pass));
            }
            Err(e) => slots.push(Err(e)),
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
            Err(e) => Outcome::Error(e),
            Ok(pass) => match replies.next() {
                Some(v) => {
                    state.guard.answered(pass, &v);
                    outcome(v)
                }
                None => Outcome::Error("ERR missing reply from redis".into()),
            },
        };
        out.push(o.into_json(b64));
    }
    Json(Json_::Array(out)).into_response()
}

/// `POST /multi-exec`: the commands run atomically inside MULTI/EXEC. A command
/// refused by the guard, or rejected by Redis while queueing, aborts everything with
/// a 400 (Redis `EXECABORT`); errors raised while executing are reported per command.
pub(super) async fn multi_exec(
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
    let mut passes = Vec::with_capacity(cmds.len());
    pipe.add_command(redis::cmd("MULTI"));
    for c in &cmds {
        match admitted(&state, c) {
            Ok((args, pass)) => {
                pipe.add_command(to_cmd(&args));
                passes.push(pass);
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
                .zip(passes)
                .map(|(v, pass)| {
                    state.guard.answered(pass, &v);
                    outcome(v).into_json(b64)
                })
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
