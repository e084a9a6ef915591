//! The ticket facts a scan decides on, read in one statement.

use shared::error::Error;
use shared::ports::Sql;
use shared::sql::{Rows, Statement};

/// The first accepted scan of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstScan {
    pub at_ms: i64,
    pub gate: String,
    pub device_id: String,
    pub verifier_key_id: String,
    pub nonce: String,
    /// Uploaded by an offline scanner (timed by its device), not a live, server-timed
    /// admission.
    pub offline: bool,
}

impl FirstScan {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"at": self.at_ms, "gate": self.gate, "deviceId": self.device_id})
    }
}

/// A wallet as door staff see it (`0x7099…79C8`): enough to match the holder's app, no more.
pub fn shorten_holder(owner: &str) -> String {
    match (owner.get(..6), owner.get(owner.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) if owner.len() > 10 => format!("{head}…{tail}"),
        _ => owner.to_owned(),
    }
}

/// A ticket as the door sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorTicket {
    pub id: String,
    pub event_id: String,
    pub status: String,
    pub owner: String,
    pub seat: Option<String>,
    pub serial: Option<String>,
    pub token_id: Option<String>,
    pub type_name: Option<String>,
    /// The order's status, for tickets sold off-chain.
    pub order_status: Option<String>,
    pub first_scan: Option<FirstScan>,
    /// For a scanned offline pass: whether it is ours and not revoked.
    pub pass: PassState,
}

/// What libSQL knows of a scanned pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassState {
    /// Not a pass scan.
    NotAsked,
    /// We never issued this pass for this ticket.
    Unknown,
    Live,
    Revoked,
}

impl DoorTicket {
    /// The holder as door staff see it: `0x7099…79C8`.
    pub fn holder_short(&self) -> String {
        shorten_holder(&self.owner)
    }

    /// The `ticket` object of a scan answer.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "serial": self.serial.as_deref().or(self.token_id.as_deref()),
            "seat": self.seat,
            "type": self.type_name,
            "holder": self.holder_short(),
        })
    }
}

/// The statement that reads ticket `ticket_id` as the door sees it (and, for a pass scan, the
/// pass's state); [`parse`] reads its rows. The first admission runs it last in its batch.
pub fn query(ticket_id: &str, pass_id: Option<&str>) -> Statement {
    Statement::new(format!(
        "SELECT {DOOR_COLUMNS}, \
                (SELECT CASE WHEN p.revoked_at IS NULL THEN 'live' ELSE 'revoked' END \
                   FROM ticket_passes p WHERE p.pass_id = ?2 AND p.ticket_id = t.id) AS pass_state \
           FROM {DOOR_FROM} \
          WHERE t.id = ?1"
    ))
    .bind(ticket_id)
    .bind(pass_id)
}

/// The columns [`parse`] reads before `pass_state`, over [`DOOR_FROM`]: [`query`] and the
/// upload's read (`upload::read`) select the same door ticket.
pub const DOOR_COLUMNS: &str = "t.id, t.event_id, t.status, t.owner, t.seat_label, t.serial, t.token_id, \
     tt.name AS type_name, o.status AS order_status, \
     c.scanned_at AS first_at, c.gate AS first_gate, c.device_id AS first_device, \
     c.verifier_key_id AS first_key, c.nonce AS first_nonce, c.offline AS first_offline";

/// The tables [`DOOR_COLUMNS`] are read from.
pub const DOOR_FROM: &str = "tickets t \
     LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id \
     LEFT JOIN orders o ON o.id = t.order_id \
     LEFT JOIN checkins c ON c.ticket_id = t.id";

/// [`DoorTicket::json`] as SQL over `tickets t` and `ticket_types tt`, for the `scans` row the
/// first admission writes in the same batch that admits (keep the two in step).
pub const DOOR_JSON_SQL: &str = "json_object('id', t.id, 'serial', coalesce(t.serial, t.token_id), \
     'seat', t.seat_label, 'type', tt.name, 'holder', \
     CASE WHEN length(t.owner) > 10 THEN substr(t.owner, 1, 6) || '…' || substr(t.owner, -4) ELSE t.owner END)";

/// Loads ticket `ticket_id` (and, for a pass scan, the pass's state).
///
/// # Errors
/// 503 when libSQL is down.
pub async fn load(
    sql: &impl Sql,
    ticket_id: &str,
    pass_id: Option<&str>,
) -> Result<Option<DoorTicket>, Error> {
    let rows = sql.execute(query(ticket_id, pass_id)).await?;
    parse(&rows, pass_id)
}

/// The ticket in the rows of [`query`] (`None`: no such ticket).
///
/// # Errors
/// Internal when a column is missing or of another type.
pub fn parse(rows: &Rows, pass_id: Option<&str>) -> Result<Option<DoorTicket>, Error> {
    let Some(row) = rows.row(0) else {
        return Ok(None);
    };
    let first_scan = match row.get::<Option<i64>>("first_at")? {
        Some(at_ms) => Some(FirstScan {
            at_ms,
            gate: row.get::<Option<String>>("first_gate")?.unwrap_or_default(),
            device_id: row
                .get::<Option<String>>("first_device")?
                .unwrap_or_default(),
            verifier_key_id: row.get::<Option<String>>("first_key")?.unwrap_or_default(),
            nonce: row
                .get::<Option<String>>("first_nonce")?
                .unwrap_or_default(),
            offline: row.get::<Option<i64>>("first_offline")?.unwrap_or(0) != 0,
        }),
        None => None,
    };
    let pass = match (pass_id, row.get::<Option<String>>("pass_state")?.as_deref()) {
        (None, _) => PassState::NotAsked,
        (Some(_), Some("live")) => PassState::Live,
        (Some(_), Some(_)) => PassState::Revoked,
        (Some(_), None) => PassState::Unknown,
    };
    Ok(Some(DoorTicket {
        id: row.get("id")?,
        event_id: row.get("event_id")?,
        status: row.get("status")?,
        owner: row.get("owner")?,
        seat: row.get("seat_label")?,
        serial: row.get("serial")?,
        token_id: row.get("token_id")?,
        type_name: row.get("type_name")?,
        order_status: row.get("order_status")?,
        first_scan,
        pass,
    }))
}
