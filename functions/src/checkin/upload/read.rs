//! The upload's one read: every ticket its codes name (with the first scan libSQL holds), the
//! passes they carry, and the answers already stored for its nonces — three statements in one
//! Hrana request, read in one transaction so they agree with each other.

use super::super::answer::ScanOutcome;
use super::super::ticket::{self, DoorTicket, PassState};
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::{Rows, Statement};
use std::collections::{HashMap, HashSet};

/// What the upload knows of libSQL, advanced in memory as its scans are admitted.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Tickets by id, as the door sees them (`pass` is filled in per scan, see [`Known::view`]).
    pub tickets: HashMap<String, DoorTicket>,
    /// Passes by id: the ticket each was issued for, and whether it is still live.
    pub passes: HashMap<String, (String, bool)>,
    /// The stored answers of nonces seen before (a replay returns them unchanged).
    pub stored: HashMap<String, ScanOutcome>,
}

impl Known {
    /// Ticket `ticket_id` as a scan of `pass_id` (or of an online code) sees it: what
    /// [`ticket::load`] would have read for that scan.
    pub fn view(&self, ticket_id: &str, pass_id: Option<&str>) -> Option<DoorTicket> {
        let mut ticket = self.tickets.get(ticket_id)?.clone();
        ticket.pass = match pass_id.map(|p| self.passes.get(p)) {
            None => PassState::NotAsked,
            Some(Some((issued_for, live))) if issued_for == ticket_id => {
                if *live {
                    PassState::Live
                } else {
                    PassState::Revoked
                }
            }
            Some(_) => PassState::Unknown,
        };
        Some(ticket)
    }

    /// Replaces what is known of `wanted` by `fresh`, a later read of exactly those rows (a
    /// ticket or pass `fresh` lacks is gone).
    pub fn refresh(&mut self, wanted: &Wanted, fresh: Known) {
        for id in &wanted.tickets {
            self.tickets.remove(id);
        }
        for id in &wanted.passes {
            self.passes.remove(id);
        }
        self.tickets.extend(fresh.tickets);
        self.passes.extend(fresh.passes);
        self.stored.extend(fresh.stored);
    }
}

/// The rows a read asks for, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    pub tickets: Vec<String>,
    pub passes: Vec<String>,
    pub nonces: Vec<String>,
    seen: HashSet<String>,
}

impl Wanted {
    /// Adds a ticket, a pass and a nonce (a nonce is listed once per upload already).
    pub fn add(&mut self, ticket_id: Option<&str>, pass_id: Option<&str>, nonce: &str) {
        // One set for both kinds of id, told apart by a prefix.
        for (list, prefix, item) in [
            (&mut self.tickets, "t:", ticket_id),
            (&mut self.passes, "p:", pass_id),
        ] {
            if let Some(item) = item.filter(|i| self.seen.insert(format!("{prefix}{i}"))) {
                list.push(item.to_owned());
            }
        }
        self.nonces.push(nonce.to_owned());
    }
}

/// Reads `wanted` for verifier key `key_id`'s upload in one Hrana request. The ids travel as
/// one JSON array argument each (`json_each`), so the statement text is the same for any
/// upload and every lookup is by primary or unique key.
///
/// # Errors
/// 503 when libSQL is down; internal when a row is unreadable.
pub async fn load(sql: &impl Sql, key_id: &str, wanted: &Wanted) -> Result<Known, Error> {
    let list = |items: &[String]| serde_json::Value::from(items.to_vec()).to_string();
    // The columns of `ticket::query`, so `ticket::parse` reads the rows.
    let tickets = Statement::new(format!(
        "SELECT {}, NULL AS pass_state FROM {} \
          WHERE t.id IN (SELECT value FROM json_each(?))",
        ticket::DOOR_COLUMNS,
        ticket::DOOR_FROM
    ))
    .bind(list(&wanted.tickets));
    let passes = Statement::new(
        "SELECT pass_id, ticket_id, revoked_at IS NULL AS live FROM ticket_passes \
          WHERE pass_id IN (SELECT value FROM json_each(?))",
    )
    .bind(list(&wanted.passes));
    let stored = Statement::new(
        "SELECT nonce, response FROM scans \
          WHERE verifier_key_id = ? AND nonce IN (SELECT value FROM json_each(?))",
    )
    .bind(key_id)
    .bind(list(&wanted.nonces));
    let results = sql.batch_atomic(vec![tickets, passes, stored]).await?;
    let empty = Rows::default();
    let rows = |i: usize| results.get(i).unwrap_or(&empty);
    parse(rows(0), rows(1), rows(2))
}

/// The [`Known`] in the rows of [`load`]'s three statements.
///
/// # Errors
/// Internal when a column is missing or of another type, or a stored answer is unreadable.
pub fn parse(tickets: &Rows, passes: &Rows, stored: &Rows) -> Result<Known, Error> {
    let mut known = Known::default();
    for values in &tickets.rows {
        // One row at a time through the per-scan reader: one definition of a door ticket.
        let one = Rows {
            columns: tickets.columns.clone(),
            rows: vec![values.clone()],
            ..Rows::default()
        };
        if let Some(ticket) = ticket::parse(&one, None)? {
            known.tickets.insert(ticket.id.clone(), ticket);
        }
    }
    for row in passes.iter() {
        let live = row.get::<i64>("live")? != 0;
        known
            .passes
            .insert(row.get("pass_id")?, (row.get("ticket_id")?, live));
    }
    for row in stored.iter() {
        let text: String = row.get("response")?;
        let outcome = ScanOutcome::replay(&text)
            .ok_or_else(|| Error::Internal("stored scan answer unreadable".into()))?;
        known.stored.insert(row.get("nonce")?, outcome);
    }
    Ok(known)
}
