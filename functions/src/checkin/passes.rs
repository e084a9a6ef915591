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

/// A holder's ticket and its live pass, if it has one.
struct HolderTicket {
    id: String,
    event_id: String,
    status: String,
    serial: String,
    seat: String,
    type_name: String,
    starts_at_ms: Option<i64>,
    ends_at_ms: Option<i64>,
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

async fn load<S: Services>(
    services: &S,
    ticket_id: &str,
    wallet: &str,
) -> Result<HolderTicket, Error> {
    let rows = services
        .sql()
        .execute(
            Statement::new(
                "SELECT t.id, t.event_id, t.owner, t.status, coalesce(t.serial, t.token_id, '') AS serial, \
                        coalesce(t.seat_label, '') AS seat, coalesce(tt.name, '') AS type_name, \
                        e.starts_at, e.ends_at \
                   FROM tickets t \
                   LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id \
                   LEFT JOIN events e ON e.id = t.event_id \
                  WHERE t.id = ?",
            )
            .bind(ticket_id),
        )
        .await?;
    let not_found = || {
        Error::not_found(
            "TICKET_NOT_FOUND",
            format!("you hold no ticket {ticket_id}"),
        )
    };
    let row = rows.row(0).ok_or_else(not_found)?;
    // Someone else's ticket looks exactly like a missing one.
    if !row.get::<String>("owner")?.eq_ignore_ascii_case(wallet) {
        return Err(not_found());
    }
    Ok(HolderTicket {
        id: row.get("id")?,
        event_id: row.get("event_id")?,
        status: row.get("status")?,
        serial: row.get("serial")?,
        seat: row.get("seat")?,
        type_name: row.get("type_name")?,
        starts_at_ms: row.get("starts_at")?,
        ends_at_ms: row.get("ends_at")?,
    })
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
    let ticket = load(services, ticket_id, wallet).await?;
    if ticket.status == "revoked" {
        return Err(Error::conflict(
            "TICKET_REVOKED",
            "this ticket was revoked (refunded or cancelled); it has no codes",
        ));
    }
    let now_ms = services.clock().now_ms() as i64;
    let (valid_from_ms, valid_until_ms) = match (ticket.starts_at_ms, ticket.ends_at_ms) {
        (Some(start), Some(end)) => (
            start - VALID_BEFORE_START_SECS * 1000,
            end + VALID_AFTER_END_SECS * 1000,
        ),
        // A chain-only event we have no catalog entry for: a year from issue.
        _ => (now_ms - 24 * 3600 * 1000, now_ms + 365 * 24 * 3600 * 1000),
    };
    let fresh_id = services.rng().hex(8);
    // Issue a pass unless one is live (the partial unique index keeps it to one), then read the
    // live one: concurrent requests all end up with the same pass.
    let results = services
        .sql()
        .batch_atomic(vec![
            Statement::new(
                "INSERT INTO ticket_passes (pass_id, ticket_id, event_id, key_generation, owner, seat_label, valid_from, valid_until, issued_at) \
                 SELECT ?, id, event_id, ?, owner, seat_label, ?, ?, ? FROM tickets WHERE id = ? \
                 ON CONFLICT DO NOTHING",
            )
            .bind(fresh_id.as_str())
            .bind(i64::from(PASS_KEY_GENERATION))
            .bind(valid_from_ms)
            .bind(valid_until_ms)
            .bind(now_ms)
            .bind(ticket.id.as_str()),
            Statement::new(
                "SELECT pass_id, key_generation, valid_from, valid_until FROM ticket_passes WHERE ticket_id = ? AND revoked_at IS NULL",
            )
            .bind(ticket.id.as_str()),
        ])
        .await?;
    let live = results
        .get(1)
        .and_then(|rows| rows.row(0))
        .ok_or_else(|| Error::Internal("no live pass after issuing one".into()))?;
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
            .sign(&ticket.id, &services.rng().hex(6), expires_at_secs),
        online_expires_at_ms: expires_at_secs * 1000,
        pass: pass.sign(&signing_key),
        pass_id: pass_id_hex,
        valid_from_ms,
        valid_until_ms,
        ticket_status: ticket.status,
        event_id: ticket.event_id,
    })
}
