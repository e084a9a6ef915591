//! What a ticket holder shows at the door: a fresh online code and the ticket's offline pass.
//!
//! A ticket has at most one live pass. Changing its owner, seat or status revokes that pass in
//! the same write (the `tickets_revoke_passes` trigger, whichever code path changed it); the
//! next request for the ticket's codes then issues a new pass.

use super::decide::PASS_KEY_GENERATION;
use crate::services::Services;
use serde_json::{Value as Json, json};
use shared::checkin::pass::Pass;
use shared::error::Error;
use shared::ports::{Clock, Rng, Sql};
use shared::sql::Statement;

/// Doors open this long before the event starts; passes are valid from then.
const VALID_BEFORE_START_SECS: i64 = 12 * 3600;
/// Passes stay valid this long after the event ends (late re-entry, long nights).
const VALID_AFTER_END_SECS: i64 = 6 * 3600;

/// A holder's ticket.
struct HolderTicket {
    id: String,
    event_id: String,
    status: String,
    serial: String,
    seat: String,
    type_name: String,
}

/// Both codes of ticket `ticket_id` for its owner `wallet`.
pub struct Codes {
    pub online: String,
    pub online_expires_at_ms: u64,
    pub pass: String,
    pub pass_id: String,
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
    pub ticket_status: String,
    pub event_id: String,
}

impl Codes {
    pub fn json(&self, ticket_id: &str, ttl_secs: u64) -> Json {
        json!({
            "ticketId": ticket_id,
            "eventId": self.event_id,
            "status": self.ticket_status,
            "online": {
                "code": self.online,
                "expiresAt": self.online_expires_at_ms,
                // Refresh a little before expiry so the code on screen is always valid.
                "refreshInSecs": ttl_secs.saturating_sub(10).max(5),
            },
            "offline": {
                "pass": self.pass,
                "passId": self.pass_id,
                "keyId": PASS_KEY_GENERATION.to_string(),
                "validFrom": self.valid_from_ms,
                "validUntil": self.valid_until_ms,
            },
        })
    }
}

/// The statement reading the holder's ticket and its live pass (after [`issue_statement`]).
fn ticket_statement(ticket_id: &str) -> Statement {
    Statement::new(
        "SELECT t.id, t.event_id, t.owner, t.status, coalesce(t.serial, t.token_id, '') AS serial, \
                coalesce(t.seat_label, '') AS seat, coalesce(tt.name, '') AS type_name, \
                p.pass_id, p.key_generation, p.valid_from, p.valid_until \
           FROM tickets t \
           LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id \
           LEFT JOIN ticket_passes p ON p.ticket_id = t.id AND p.revoked_at IS NULL \
          WHERE t.id = ?",
    )
    .bind(ticket_id)
}

/// Issues the ticket's pass unless one is live (the partial unique index keeps it to one), and
/// only for its owner while it is not revoked: concurrent requests all end up with one pass.
/// Valid from 12 h before the event's start to 6 h after its end; a chain-only ticket with no
/// catalog event gets a year from issue.
fn issue_statement(ticket_id: &str, wallet: &str, pass_id: &str, now_ms: i64) -> Statement {
    Statement::new(
        "INSERT INTO ticket_passes (pass_id, ticket_id, event_id, key_generation, owner, seat_label, valid_from, valid_until, issued_at) \
         SELECT ?1, t.id, t.event_id, ?2, t.owner, t.seat_label, \
                CASE WHEN e.starts_at IS NOT NULL AND e.ends_at IS NOT NULL THEN e.starts_at - ?3 ELSE ?5 - 86400000 END, \
                CASE WHEN e.starts_at IS NOT NULL AND e.ends_at IS NOT NULL THEN e.ends_at + ?4 ELSE ?5 + 31536000000 END, \
                ?5 \
           FROM tickets t LEFT JOIN events e ON e.id = t.event_id \
          WHERE t.id = ?6 AND lower(t.owner) = lower(?7) AND t.status != 'revoked' \
         ON CONFLICT DO NOTHING",
    )
    .bind(pass_id)
    .bind(i64::from(PASS_KEY_GENERATION))
    .bind(VALID_BEFORE_START_SECS * 1000)
    .bind(VALID_AFTER_END_SECS * 1000)
    .bind(now_ms)
    .bind(ticket_id)
    .bind(wallet)
}

/// The codes of `ticket_id` for `wallet`, issuing the ticket's pass if it has no live one.
///
/// # Errors
/// 404 `TICKET_NOT_FOUND` (also for another holder's ticket); 409 `TICKET_REVOKED`; 503.
pub async fn codes_for<S: Services>(
    services: &S,
    ticket_id: &str,
    wallet: &str,
) -> Result<Codes, Error> {
    let now_ms = services.clock().now_ms() as i64;
    let fresh_id = services.rng().hex(8)?;
    // One round trip, two statements: issue the pass if needed, then read the ticket with its
    // live pass. No transaction is needed: the insert is idempotent (one live pass per
    // ticket), and the read sees whatever pass is live after it.
    let mut results = services
        .sql()
        .execute_many(vec![
            issue_statement(ticket_id, wallet, &fresh_id, now_ms),
            ticket_statement(ticket_id),
        ])
        .await?;
    let read = results
        .pop()
        .unwrap_or_else(|| Err(shared::sql::SqlError::Decode("missing result".into())))?;
    if let Some(issued) = results.pop() {
        issued?;
    }

    let not_found = || {
        Error::not_found(
            "TICKET_NOT_FOUND",
            format!("you hold no ticket {ticket_id}"),
        )
    };
    let live = read.row(0).ok_or_else(not_found)?;
    // Someone else's ticket looks exactly like a missing one.
    if !live.get::<String>("owner")?.eq_ignore_ascii_case(wallet) {
        return Err(not_found());
    }
    let ticket = HolderTicket {
        id: live.get("id")?,
        event_id: live.get("event_id")?,
        status: live.get("status")?,
        serial: live.get("serial")?,
        seat: live.get("seat")?,
        type_name: live.get("type_name")?,
    };
    if ticket.status == "revoked" {
        return Err(Error::conflict(
            "TICKET_REVOKED",
            "this ticket was revoked (refunded or cancelled); it has no codes",
        ));
    }
    if live.get::<Option<String>>("pass_id")?.is_none() {
        return Err(Error::Internal("no live pass after issuing one".into()));
    }
    let pass_id_hex: String = live.get("pass_id")?;
    let generation =
        u8::try_from(live.get::<i64>("key_generation")?).unwrap_or(PASS_KEY_GENERATION);
    let valid_from_ms: i64 = live.get("valid_from")?;
    let valid_until_ms: i64 = live.get("valid_until")?;
    let pass_id: [u8; 8] = hex::decode(&pass_id_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::Internal(format!("pass id {pass_id_hex} is not 8 bytes")))?;
    let secs = |ms: i64| u32::try_from(ms.max(0) / 1000).unwrap_or(u32::MAX);
    let pass = Pass {
        key_generation: generation,
        pass_id,
        event_id: ticket.event_id.clone(),
        ticket_id: ticket.id.clone(),
        serial: ticket.serial,
        seat: ticket.seat,
        ticket_type: ticket.type_name,
        valid_from_secs: secs(valid_from_ms),
        valid_until_secs: secs(valid_until_ms),
    };
    let config = &services.config().checkin;
    let signing_key = config.pass_keys.signing_key(&ticket.event_id, generation);
    let expires_at_secs = (now_ms as u64) / 1000 + config.code_ttl_secs;
    Ok(Codes {
        online: config
            .qr_keyring
            .sign(&ticket.id, &services.rng().hex(6)?, expires_at_secs),
        online_expires_at_ms: expires_at_secs * 1000,
        pass: pass.sign(&signing_key),
        pass_id: pass_id_hex,
        valid_from_ms,
        valid_until_ms,
        ticket_status: ticket.status,
        event_id: ticket.event_id,
    })
}
