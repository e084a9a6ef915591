//! One scan, from code to durable answer.
//!
//! Live scans (`POST /v1/checkin/scan`) decide at the server's clock and race for a Redis
//! one-time lock before libSQL writes the check-in row. Offline scans (`POST
//! /v1/checkin/upload`) decide at the device's `scannedAt`, and the earliest scan of a ticket
//! wins even if it arrives last: its check-in row replaces a later one, whose answer becomes
//! `already_redeemed` naming the other device.

use super::decide::{self, Decoded};
use super::metrics;
use super::ticket::{self, DoorTicket, FirstScan};
use crate::extract::Verifier;
use crate::keys;
use crate::services::Services;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use shared::checkin::ScanResult;
use shared::error::Error;
use shared::ports::{Clock, Redis, Sql};
use shared::redis::{Command, Script, Value};
use shared::sql::Statement;
use std::sync::LazyLock;

static BEGIN: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/checkin_begin.lua")));
static RELEASE_LOCK: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/checkin_release.lua")));

/// How long a scan's answer is replayed from Redis (libSQL keeps it for good).
const NONCE_KEEP_MS: u64 = 24 * 3600 * 1000;
/// How long a scan in flight holds its nonce.
const NONCE_LEASE_MS: u64 = 30 * 1000;
/// The one-time lock outlives any event; libSQL is the truth after that.
const LOCK_KEEP_SECS: u64 = 90 * 24 * 3600;

/// One scan as the scanner sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScanInput {
    pub code: String,
    pub gate: String,
    pub device_id: String,
    /// The device's clock, ms since epoch.
    pub scanned_at: i64,
    /// Unique per scan: a retry with the same nonce gets the first answer.
    pub nonce: String,
}

impl ScanInput {
    /// Checks the fields that are not the code (any code text gets an answer, not an error).
    ///
    /// # Errors
    /// 400 naming the field (`prefix` locates it inside an upload).
    pub fn validate(&self, prefix: &str) -> Result<(), Error> {
        let token = |text: &str, max: usize| {
            (1..=max).contains(&text.chars().count()) && !text.chars().any(char::is_control)
        };
        if !token(&self.gate, 64) {
            return Err(Error::invalid(
                format!("{prefix}gate"),
                "must be 1 to 64 characters",
            ));
        }
        if !token(&self.device_id, 64) {
            return Err(Error::invalid(
                format!("{prefix}deviceId"),
                "must be 1 to 64 characters",
            ));
        }
        let nonce_ok = (8..=64).contains(&self.nonce.len())
            && self
                .nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !nonce_ok {
            return Err(Error::invalid(
                format!("{prefix}nonce"),
                "must be 8 to 64 letters, digits, - or _",
            ));
        }
        if self.scanned_at <= 0 {
            return Err(Error::invalid(
                format!("{prefix}scannedAt"),
                "must be a time in ms since epoch",
            ));
        }
        Ok(())
    }
}

/// Live at the door, or uploaded later by a scanner that was offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Offline,
}

/// A scan's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanOutcome {
    pub result: ScanResult,
    pub body: Json,
    /// The stored answer of an earlier scan with the same nonce (not counted again).
    pub replayed: bool,
}

struct Answer {
    result: ScanResult,
    /// The `ticket` object of the answer (what door staff see).
    ticket: Option<Json>,
    ticket_id: Option<String>,
    first_scan: Option<FirstScan>,
    /// An offline scan that displaced a later one: that one's device.
    supersedes: Option<FirstScan>,
}

impl Answer {
    fn body(&self, input: &ScanInput, mode: Mode) -> Json {
        let mut body = json!({
            "result": self.result.as_str(),
            "reason": self.result.reason(),
            "ticket": self.ticket,
            "firstScan": self.first_scan.as_ref().map(FirstScan::json),
            "nonce": input.nonce,
            "gate": input.gate,
            "deviceId": input.device_id,
            "scannedAt": input.scanned_at,
            "offline": mode == Mode::Offline,
        });
        if let Some(previous) = &self.supersedes {
            body["supersedes"] = previous.json();
        }
        body
    }
}

/// Scans `input` for `verifier`.
///
/// # Errors
/// 409 `SCAN_IN_FLIGHT` for a duplicate nonce still being answered; 503 when libSQL is down
/// (nothing is written then, and a retry with the same nonce runs again).
pub async fn scan<S: Services>(
    services: &S,
    verifier: &Verifier,
    input: &ScanInput,
    mode: Mode,
) -> Result<ScanOutcome, Error> {
    let started = services.clock().now_ms();
    let nonce_key = keys::scan_nonce(services, &verifier.key_id, &input.nonce);
    let outcome = match run(services, verifier, input, mode, &nonce_key).await {
        Ok(outcome) => outcome,
        Err(error) => {
            // Free the nonce so the client's retry runs again (a 409 leaves the first scan's).
            if mode == Mode::Live && error.code() != "SCAN_IN_FLIGHT" {
                let _ = services
                    .redis()
                    .exec(Command::new("DEL").arg(&nonce_key))
                    .await;
            }
            return Err(error);
        }
    };
    if outcome.replayed {
        return Ok(outcome);
    }
    let elapsed = services.clock().now_ms().saturating_sub(started);
    let mut commands = metrics::commands(services, outcome.result, elapsed);
    if mode == Mode::Live {
        commands.push(
            Command::new("SET")
                .arg(&nonce_key)
                .arg(outcome.body.to_string())
                .arg("PX")
                .arg(NONCE_KEEP_MS),
        );
    }
    // Bookkeeping only: the answer is already durable in libSQL.
    let _ = services.redis().pipeline(commands).await;
    Ok(outcome)
}

fn outcome_of(stored: &str) -> Option<ScanOutcome> {
    let body: Json = serde_json::from_str(stored).ok()?;
    let result = ScanResult::parse(body.get("result")?.as_str()?)?;
    Some(ScanOutcome {
        result,
        body,
        replayed: true,
    })
}

async fn run<S: Services>(
    services: &S,
    verifier: &Verifier,
    input: &ScanInput,
    mode: Mode,
    nonce_key: &str,
) -> Result<ScanOutcome, Error> {
    let now_ms = services.clock().now_ms() as i64;
    let at_ms = match mode {
        Mode::Live => now_ms,
        Mode::Offline => input.scanned_at,
    };
    let at_secs = u64::try_from(at_ms / 1000).unwrap_or(0);
    let config = &services.config().checkin;
    let (ticket_id, pass_id) =
        match decide::decode(config, input.code.trim(), &verifier.event_id, at_secs) {
            Decoded::Refused { result, ticket_id } => {
                if mode == Mode::Live
                    && let Begin::Replay(replay) = begin_live(services, nonce_key, None).await?
                {
                    return Ok(replay);
                }
                let answer = Answer {
                    result,
                    ticket: None,
                    ticket_id,
                    first_scan: None,
                    supersedes: None,
                };
                return record(services, verifier, input, mode, &answer, now_ms).await;
            }
            Decoded::Genuine { ticket_id, pass_id } => (ticket_id, pass_id),
        };
    if mode == Mode::Live {
        let lock_key = keys::checkin_lock(services, &ticket_id);
        match begin_live(services, nonce_key, Some(&lock_key)).await? {
            Begin::Replay(outcome) => return Ok(outcome),
            Begin::Locked(lock) => {
                // A duplicate at the door: answered from the lock, no libSQL read.
                let answer = lock.answer(&verifier.event_id, ticket_id);
                return record(services, verifier, input, mode, &answer, now_ms).await;
            }
            Begin::Free => {}
        }
    }
    let ticket = ticket::load(services.sql(), &ticket_id, pass_id.as_deref()).await?;
    let verdict = decide::judge(ticket.as_ref(), &verifier.event_id);
    let mut answer = Answer {
        result: verdict,
        first_scan: ticket.as_ref().and_then(|t| t.first_scan.clone()),
        ticket_id: Some(ticket_id),
        ticket: ticket.as_ref().map(DoorTicket::json),
        supersedes: None,
    };
    // Another event's ticket: the scanner learns nothing about it.
    if verdict == ScanResult::WrongEvent || verdict == ScanResult::Invalid {
        answer.ticket = None;
        answer.first_scan = None;
    }
    match (verdict, mode, ticket) {
        (ScanResult::AlreadyRedeemed, Mode::Live, Some(ticket)) => {
            // Redis had lost the lock (flushed, failed over): point it at libSQL's admission
            // again, so the next duplicates are turned away without reading libSQL.
            if let Some(first) = &ticket.first_scan {
                let lock_key = keys::checkin_lock(services, &ticket.id);
                repair_lock(services, &lock_key, first, &ticket).await;
            }
            record(services, verifier, input, mode, &answer, now_ms).await
        }
        (ScanResult::Ok, Mode::Live, Some(ticket)) => {
            admit_live(services, verifier, input, answer, &ticket, now_ms).await
        }
        (ScanResult::Ok | ScanResult::AlreadyRedeemed, Mode::Offline, Some(ticket)) => {
            admit_offline(services, verifier, input, answer, &ticket, now_ms).await
        }
        _ => record(services, verifier, input, mode, &answer, now_ms).await,
    }
}

/// This scan as the first scan of its ticket, at `at_ms`.
fn first_scan_of(verifier: &Verifier, input: &ScanInput, at_ms: i64) -> FirstScan {
    FirstScan {
        at_ms,
        gate: input.gate.clone(),
        device_id: input.device_id.clone(),
        verifier_key_id: verifier.key_id.clone(),
        nonce: input.nonce.clone(),
    }
}

/// What Redis says at the start of a live scan.
enum Begin {
    /// A scan with this nonce already ran: its answer.
    Replay(ScanOutcome),
    /// The ticket was admitted (the lock's value; only asked for a genuine code).
    Locked(Lock),
    /// Not admitted as far as Redis knows (or Redis is down): ask libSQL.
    Free,
}

/// Claims the scan's nonce and, given the ticket's lock key, peeks at the lock, in one round
/// trip.
async fn begin_live<S: Services>(
    services: &S,
    nonce_key: &str,
    lock_key: Option<&str>,
) -> Result<Begin, Error> {
    let keys: Vec<&str> = std::iter::once(nonce_key).chain(lock_key).collect();
    let reply = services
        .redis()
        .eval(&BEGIN, &keys, &[&NONCE_LEASE_MS.to_string()])
        .await;
    // Redis down: libSQL's unique rows still decide, and replay the nonce.
    let Ok(Value::Array(parts)) = reply else {
        return Ok(Begin::Free);
    };
    let text = |i: usize| parts.get(i).and_then(Value::as_str);
    match (text(0), text(1)) {
        (Some("nonce"), Some("pending")) => Err(in_flight()),
        (Some("nonce"), Some(stored)) => Ok(outcome_of(stored).map_or(Begin::Free, Begin::Replay)),
        (Some("locked"), Some(value)) => Ok(Lock::parse(value).map_or(Begin::Free, Begin::Locked)),
        _ => Ok(Begin::Free),
    }
}

fn in_flight() -> Error {
    Error::conflict(
        "SCAN_IN_FLIGHT",
        "a scan with this nonce is still being answered; retry in a moment",
    )
}

/// A ticket's check-in lock: who admitted it, and what the door shows for it.
struct Lock {
    first: FirstScan,
    event_id: String,
    ticket: Json,
}

impl Lock {
    fn value(first: &FirstScan, ticket: &DoorTicket) -> String {
        json!({"at": first.at_ms, "gate": first.gate, "deviceId": first.device_id,
               "keyId": first.verifier_key_id, "nonce": first.nonce,
               "event": ticket.event_id, "ticket": ticket.json()})
        .to_string()
    }

    fn parse(value: &str) -> Option<Lock> {
        let v: Json = serde_json::from_str(value).ok()?;
        Some(Lock {
            first: FirstScan {
                at_ms: v.get("at")?.as_i64()?,
                gate: v.get("gate")?.as_str()?.to_owned(),
                device_id: v.get("deviceId")?.as_str()?.to_owned(),
                verifier_key_id: v.get("keyId")?.as_str()?.to_owned(),
                nonce: v.get("nonce")?.as_str()?.to_owned(),
            },
            event_id: v.get("event")?.as_str()?.to_owned(),
            ticket: v.get("ticket")?.clone(),
        })
    }

    /// The answer to a scan of the locked ticket at a scanner of `event_id`.
    fn answer(self, event_id: &str, ticket_id: String) -> Answer {
        let ours = self.event_id == event_id;
        Answer {
            result: if ours {
                ScanResult::AlreadyRedeemed
            } else {
                ScanResult::WrongEvent
            },
            ticket: ours.then_some(self.ticket),
            ticket_id: Some(ticket_id),
            first_scan: ours.then_some(self.first),
            supersedes: None,
        }
    }
}

async fn admit_live<S: Services>(
    services: &S,
    verifier: &Verifier,
    input: &ScanInput,
    mut answer: Answer,
    ticket: &DoorTicket,
    now_ms: i64,
) -> Result<ScanOutcome, Error> {
    let lock_key = keys::checkin_lock(services, &ticket.id);
    let ours = Lock::value(&first_scan_of(verifier, input, now_ms), ticket);
    let taken = services
        .redis()
        .exec(
            Command::new("SET")
                .arg(&lock_key)
                .arg(&ours)
                .arg("NX")
                .arg("GET")
                .arg("EX")
                .arg(LOCK_KEEP_SECS),
        )
        .await;
    let locked = match &taken {
        Ok(Value::Nil) => true,
        Ok(value) => {
            // Somebody was first: answer without touching the check-in row.
            answer.result = ScanResult::AlreadyRedeemed;
            answer.first_scan = value.as_str().and_then(Lock::parse).map(|lock| lock.first);
            return record(services, verifier, input, Mode::Live, &answer, now_ms).await;
        }
        // Redis down: the unique check-in row alone decides.
        Err(_) => false,
    };
    let body = answer.body(input, Mode::Live);
    let mut batch = vec![
        scan_row(verifier, input, Mode::Live, &answer, &body, now_ms),
        checkin_row(verifier, input, ticket, now_ms, Mode::Live),
        mark_used(&ticket.id, now_ms),
        Statement::guard_changed(),
    ];
    batch.extend(chain_mark_used(ticket, now_ms));
    match services.sql().batch_atomic(batch).await {
        Ok(_) => Ok(ScanOutcome {
            result: ScanResult::Ok,
            body,
            replayed: false,
        }),
        Err(e) if e.failed_index() == Some(0) && e.is_unique_violation() => {
            release(services, &lock_key, &ours, locked).await;
            replay(services, verifier, input).await
        }
        Err(e) if e.failed_index().is_some_and(|i| i >= 1) => {
            // libSQL already has this ticket's admission (Redis lost it, or a chain `used`).
            let reloaded = ticket::load(services.sql(), &ticket.id, None).await?;
            answer.result = refused_after_race(reloaded.as_ref(), &verifier.event_id);
            answer.first_scan = reloaded.as_ref().and_then(|t| t.first_scan.clone());
            if let Some(first) = &answer.first_scan {
                repair_lock(services, &lock_key, first, ticket).await;
            } else {
                release(services, &lock_key, &ours, locked).await;
            }
            record(services, verifier, input, Mode::Live, &answer, now_ms).await
        }
        Err(e) => {
            release(services, &lock_key, &ours, locked).await;
            Err(e.into())
        }
    }
}

async fn admit_offline<S: Services>(
    services: &S,
    verifier: &Verifier,
    input: &ScanInput,
    mut answer: Answer,
    ticket: &DoorTicket,
    now_ms: i64,
) -> Result<ScanOutcome, Error> {
    let earlier = ticket
        .first_scan
        .as_ref()
        .filter(|first| first.at_ms <= input.scanned_at)
        .cloned();
    if earlier.is_some() || (ticket.first_scan.is_none() && ticket.status == "used") {
        answer.result = ScanResult::AlreadyRedeemed;
        answer.first_scan = earlier;
        return record(services, verifier, input, Mode::Offline, &answer, now_ms).await;
    }
    // First by `scannedAt`: admit, displacing a later check-in if there is one.
    answer.result = ScanResult::Ok;
    answer.supersedes = ticket.first_scan.clone();
    answer.first_scan = None;
    let body = answer.body(input, Mode::Offline);
    let mut batch = vec![
        scan_row(verifier, input, Mode::Offline, &answer, &body, now_ms),
        checkin_row(verifier, input, ticket, now_ms, Mode::Offline),
        Statement::guard_changed(),
        mark_used(&ticket.id, now_ms),
    ];
    if let Some(previous) = &answer.supersedes {
        let first =
            json!({"at": input.scanned_at, "gate": input.gate, "deviceId": input.device_id});
        batch.push(
            Statement::new(
                "UPDATE scans SET result = 'already_redeemed', \
                   response = json_set(response, '$.result', 'already_redeemed', '$.reason', ?, '$.firstScan', json(?)) \
                 WHERE verifier_key_id = ? AND nonce = ?",
            )
            .bind(ScanResult::AlreadyRedeemed.reason())
            .bind(first.to_string())
            .bind(previous.verifier_key_id.as_str())
            .bind(previous.nonce.as_str()),
        );
    }
    batch.extend(chain_mark_used(ticket, now_ms));
    match services.sql().batch_atomic(batch).await {
        Ok(_) => {
            let first = first_scan_of(verifier, input, input.scanned_at);
            let lock_key = keys::checkin_lock(services, &ticket.id);
            repair_lock(services, &lock_key, &first, ticket).await;
            if answer.supersedes.is_some() {
                metrics::conflict(services).await;
            }
            Ok(ScanOutcome {
                result: ScanResult::Ok,
                body,
                replayed: false,
            })
        }
        Err(e) if e.failed_index() == Some(0) && e.is_unique_violation() => {
            replay(services, verifier, input).await
        }
        Err(e) if e.failed_index().is_some_and(|i| i >= 1) => {
            // An earlier scan got there between our read and our write.
            let reloaded = ticket::load(services.sql(), &ticket.id, None).await?;
            answer.result = refused_after_race(reloaded.as_ref(), &verifier.event_id);
            answer.supersedes = None;
            answer.first_scan = reloaded.and_then(|t| t.first_scan);
            record(services, verifier, input, Mode::Offline, &answer, now_ms).await
        }
        Err(e) => Err(e.into()),
    }
}

/// What a scan that lost the write gets: the ticket's state now (revoked meanwhile, or most
/// often admitted by another scan).
fn refused_after_race(ticket: Option<&DoorTicket>, event_id: &str) -> ScanResult {
    match decide::judge(ticket, event_id) {
        ScanResult::Ok => ScanResult::AlreadyRedeemed,
        other => other,
    }
}

/// Writes the audit row of a scan that admits nobody; a nonce seen before replays its answer.
async fn record<S: Services>(
    services: &S,
    verifier: &Verifier,
    input: &ScanInput,
    mode: Mode,
    answer: &Answer,
    now_ms: i64,
) -> Result<ScanOutcome, Error> {
    let body = answer.body(input, mode);
    let statement = scan_row(verifier, input, mode, answer, &body, now_ms);
    match services.sql().execute(statement).await {
        Ok(_) => Ok(ScanOutcome {
            result: answer.result,
            body,
            replayed: false,
        }),
        Err(e) if e.is_unique_violation() => replay(services, verifier, input).await,
        Err(e) => Err(e.into()),
    }
}

/// The stored answer of an earlier scan with this nonce.
async fn replay<S: Services>(
    services: &S,
    verifier: &Verifier,
    input: &ScanInput,
) -> Result<ScanOutcome, Error> {
    let rows = services
        .sql()
        .execute(
            Statement::new("SELECT response FROM scans WHERE verifier_key_id = ? AND nonce = ?")
                .bind(verifier.key_id.as_str())
                .bind(input.nonce.as_str()),
        )
        .await?;
    let stored: String = rows
        .row(0)
        .ok_or_else(|| Error::Internal("scan nonce conflict without its row".into()))?
        .get("response")?;
    outcome_of(&stored).ok_or_else(|| Error::Internal("stored scan answer unreadable".into()))
}

fn scan_row(
    verifier: &Verifier,
    input: &ScanInput,
    mode: Mode,
    answer: &Answer,
    body: &Json,
    now_ms: i64,
) -> Statement {
    Statement::new(
        "INSERT INTO scans (event_id, verifier_key_id, device_id, gate, nonce, ticket_id, result, offline, scanned_at, received_at, response) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(verifier.event_id.as_str())
    .bind(verifier.key_id.as_str())
    .bind(input.device_id.as_str())
    .bind(input.gate.as_str())
    .bind(input.nonce.as_str())
    .bind(answer.ticket_id.clone())
    .bind(answer.result.as_str())
    .bind(mode == Mode::Offline)
    .bind(input.scanned_at)
    .bind(now_ms)
    .bind(body.to_string())
}

/// The check-in row. Live: plain insert (the unique ticket id refuses a second). Offline: an
/// upsert that only replaces a later scan; the guard after it rolls back when nothing changed.
fn checkin_row(
    verifier: &Verifier,
    input: &ScanInput,
    ticket: &DoorTicket,
    now_ms: i64,
    mode: Mode,
) -> Statement {
    let (at, conflict) = match mode {
        Mode::Live => (now_ms, ""),
        Mode::Offline => (
            input.scanned_at,
            " ON CONFLICT (ticket_id) DO UPDATE SET verifier_key_id = excluded.verifier_key_id, \
               gate = excluded.gate, device_id = excluded.device_id, nonce = excluded.nonce, \
               scanned_at = excluded.scanned_at, offline = 1 \
             WHERE excluded.scanned_at < checkins.scanned_at",
        ),
    };
    Statement::new(format!(
        "INSERT INTO checkins (ticket_id, event_id, verifier_key_id, gate, device_id, nonce, scanned_at, offline) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?){conflict}"
    ))
    .bind(ticket.id.as_str())
    .bind(ticket.event_id.as_str())
    .bind(verifier.key_id.as_str())
    .bind(input.gate.as_str())
    .bind(input.device_id.as_str())
    .bind(input.nonce.as_str())
    .bind(at)
    .bind(mode == Mode::Offline)
}

fn mark_used(ticket_id: &str, now_ms: i64) -> Statement {
    Statement::new(
        "UPDATE tickets SET status = 'used', updated_at = ? WHERE id = ? AND status IN ('valid', 'used')",
    )
    .bind(now_ms)
    .bind(ticket_id)
}

/// For an on-chain ticket: an instruction for the operator's relayer to mark it used (we hold
/// no keys); the indexer's `used` projection then agrees with the check-in.
fn chain_mark_used(ticket: &DoorTicket, now_ms: i64) -> Option<Statement> {
    let token_id = ticket.token_id.as_deref()?;
    Some(
        Statement::new(
            "INSERT INTO chain_instructions (kind, token_id, ticket_id, created_at) VALUES ('mark_used', ?, ?, ?) \
             ON CONFLICT (kind, token_id) DO NOTHING",
        )
        .bind(token_id)
        .bind(ticket.id.as_str())
        .bind(now_ms),
    )
}

/// Gives the lock back if it is still ours (a failed write must not block the ticket).
async fn release<S: Services>(services: &S, lock_key: &str, ours: &str, locked: bool) {
    if locked {
        let _ = services
            .redis()
            .eval(&RELEASE_LOCK, &[lock_key], &[ours])
            .await;
    }
}

/// Points the lock at the admission libSQL holds.
async fn repair_lock<S: Services>(
    services: &S,
    lock_key: &str,
    first: &FirstScan,
    ticket: &DoorTicket,
) {
    let _ = services
        .redis()
        .exec(
            Command::new("SET")
                .arg(lock_key)
                .arg(Lock::value(first, ticket))
                .arg("EX")
                .arg(LOCK_KEEP_SECS),
        )
        .await;
}
