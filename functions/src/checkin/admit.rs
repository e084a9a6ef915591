//! The first admission of a ticket: ONE Hrana request (an atomic batch) that judges the ticket
//! and writes the admission, then reads the door's view of the ticket.
//!
//! The judge's conditions (`decide::judge`: a ticket of this event, not revoked or used, its
//! order paid, the scanned pass live, not checked in) are the `WHERE` of the check-in row's
//! `INSERT … SELECT`; the `scans` row, `mark_used` and the chain instruction are conditioned on
//! that row being this scan's, so nothing but the read happens when the ticket is refused. The
//! read, last in the batch, tells whether this scan admitted the ticket and, if not, why.
//! The unique `checkins(ticket_id)` row keeps this exactly-once without any lock (Redis
//! flushed or down); a `scans` row for this nonce already there (its Redis answer was lost)
//! fails the batch, and the stored answer is replayed.

use super::answer::{Answer, ScanOutcome};
use super::decide;
use super::input::{Mode, ScanInput};
use super::record;
use super::ticket::{self, DOOR_JSON_SQL, DoorTicket};
use crate::extract::Verifier;
use shared::checkin::ScanResult;
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::Statement;

/// What the admission batch found.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    /// This scan admitted the ticket (its door view, with this scan as its first).
    Admitted(Box<DoorTicket>),
    /// Refused.
    Refused(Box<Refusal>),
    /// This nonce was answered before: that answer.
    Replayed(ScanOutcome),
}

/// A refused admission.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub answer: Answer,
    /// The ticket as it is, when it exists.
    pub ticket: Option<DoorTicket>,
}

/// One scan's admission of one ticket.
pub struct Attempt<'a> {
    pub verifier: &'a Verifier,
    pub input: &'a ScanInput,
    pub ticket_id: &'a str,
    pub pass_id: Option<&'a str>,
    pub now_ms: i64,
}

impl Attempt<'_> {
    /// Runs the batch.
    ///
    /// # Errors
    /// 503 when libSQL is down (nothing written).
    pub async fn run(&self, sql: &impl Sql) -> Result<Admission, Error> {
        match sql.batch_atomic(self.batch()).await {
            Ok(results) => {
                let rows = results
                    .get(4)
                    .ok_or_else(|| Error::Internal("admission batch without its read".into()))?;
                let door = ticket::parse(rows, self.pass_id)?;
                Ok(self.judge(door))
            }
            Err(e) if e.failed_index() == Some(1) && e.is_unique_violation() => {
                record::replay(sql, &self.verifier.key_id, &self.input.nonce)
                    .await
                    .map(Admission::Replayed)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// What the door view read after the writes says.
    fn judge(&self, door: Option<DoorTicket>) -> Admission {
        let ours = door
            .as_ref()
            .and_then(|t| t.first_scan.as_ref())
            .is_some_and(|f| {
                f.verifier_key_id == self.verifier.key_id && f.nonce == self.input.nonce
            });
        match door {
            Some(door) if ours => Admission::Admitted(Box::new(door)),
            ticket => {
                // `Ok` here means another scan admitted it between the judge and the write.
                let result = match decide::judge(ticket.as_ref(), &self.verifier.event_id) {
                    ScanResult::Ok => ScanResult::AlreadyRedeemed,
                    other => other,
                };
                Admission::Refused(Box::new(Refusal {
                    answer: Answer::about(result, self.ticket_id, ticket.as_ref()),
                    ticket,
                }))
            }
        }
    }

    /// The body of this scan's `ok`, whose ticket view the `scans` row fills in SQL.
    fn ok_template(&self) -> String {
        Answer::refused(ScanResult::Ok, Some(self.ticket_id.to_owned()))
            .body(self.input, Mode::Live)
    }

    /// The statements, in order: check-in row, `scans` row, `mark_used`, chain instruction,
    /// door view.
    pub fn batch(&self) -> Vec<Statement> {
        let (v, i) = (self.verifier, self.input);
        let ours = "EXISTS (SELECT 1 FROM checkins c WHERE c.ticket_id = ?1 AND c.verifier_key_id = ?3 AND c.nonce = ?4)";
        vec![
            // What `decide::judge` says `ok` to, as SQL (keep the two in step).
            Statement::new(
                "INSERT INTO checkins (ticket_id, event_id, verifier_key_id, gate, device_id, nonce, scanned_at, offline) \
                 SELECT t.id, t.event_id, ?3, ?4, ?5, ?6, ?7, 0 \
                   FROM tickets t LEFT JOIN orders o ON o.id = t.order_id \
                  WHERE t.id = ?1 AND t.event_id = ?2 \
                    AND t.status NOT IN ('revoked', 'used') \
                    AND (o.status IS NULL OR o.status IN ('paid', 'overpaid')) \
                    AND (?8 IS NULL OR EXISTS (SELECT 1 FROM ticket_passes p \
                          WHERE p.pass_id = ?8 AND p.ticket_id = t.id AND p.revoked_at IS NULL)) \
                    AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.ticket_id = t.id)",
            )
            .bind(self.ticket_id)
            .bind(v.event_id.as_str())
            .bind(v.key_id.as_str())
            .bind(i.gate.as_str())
            .bind(i.device_id.as_str())
            .bind(i.nonce.as_str())
            .bind(self.now_ms)
            .bind(self.pass_id),
            Statement::new(format!(
                "INSERT INTO scans (event_id, verifier_key_id, device_id, gate, nonce, ticket_id, result, offline, scanned_at, received_at, response) \
                 SELECT c.event_id, c.verifier_key_id, c.device_id, c.gate, c.nonce, c.ticket_id, 'ok', 0, ?4, ?5, \
                        json_set(?6, '$.ticket', {DOOR_JSON_SQL}) \
                   FROM checkins c JOIN tickets t ON t.id = c.ticket_id \
                   LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id \
                  WHERE c.ticket_id = ?1 AND c.verifier_key_id = ?2 AND c.nonce = ?3"
            ))
            .bind(self.ticket_id)
            .bind(v.key_id.as_str())
            .bind(i.nonce.as_str())
            .bind(i.scanned_at)
            .bind(self.now_ms)
            .bind(self.ok_template()),
            Statement::new(format!(
                "UPDATE tickets SET status = 'used', updated_at = ?2 WHERE id = ?1 AND status = 'valid' AND {ours}"
            ))
            .bind(self.ticket_id)
            .bind(self.now_ms)
            .bind(v.key_id.as_str())
            .bind(i.nonce.as_str()),
            // For an on-chain ticket: an instruction for the operator's relayer to mark it used
            // (we hold no keys); the indexer's `used` projection then agrees with the check-in.
            Statement::new(format!(
                "INSERT INTO chain_instructions (kind, token_id, ticket_id, created_at) \
                 SELECT 'mark_used', t.token_id, t.id, ?2 FROM tickets t \
                  WHERE t.id = ?1 AND t.token_id IS NOT NULL AND {ours} \
                 ON CONFLICT (kind, token_id) DO NOTHING"
            ))
            .bind(self.ticket_id)
            .bind(self.now_ms)
            .bind(v.key_id.as_str())
            .bind(i.nonce.as_str()),
            ticket::query(self.ticket_id, self.pass_id),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::ticket::{FirstScan, PassState};

    fn verifier() -> Verifier {
        Verifier {
            key_id: "vk_1".into(),
            event_id: "evt_a".into(),
            name: "North".into(),
        }
    }

    fn input() -> ScanInput {
        ScanInput {
            code: "c".into(),
            gate: "North".into(),
            device_id: "dev".into(),
            scanned_at: 5,
            nonce: "nonce-0001".into(),
        }
    }

    fn door(first: Option<(&str, &str)>, status: &str) -> DoorTicket {
        DoorTicket {
            id: "tkt_1".into(),
            event_id: "evt_a".into(),
            status: status.into(),
            owner: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into(),
            seat: None,
            serial: Some("1".into()),
            token_id: None,
            type_name: None,
            order_status: Some("paid".into()),
            first_scan: first.map(|(key, nonce)| FirstScan {
                at_ms: 9,
                gate: "West".into(),
                device_id: "other".into(),
                verifier_key_id: key.into(),
                nonce: nonce.into(),
                offline: false,
            }),
            pass: PassState::NotAsked,
        }
    }

    #[test]
    fn judges_by_whose_first_scan_the_read_shows() {
        let (verifier, input) = (verifier(), input());
        let attempt = Attempt {
            verifier: &verifier,
            input: &input,
            ticket_id: "tkt_1",
            pass_id: None,
            now_ms: 10,
        };
        assert!(matches!(
            attempt.judge(Some(door(Some(("vk_1", "nonce-0001")), "used"))),
            Admission::Admitted(_)
        ));
        let Admission::Refused(refusal) = attempt.judge(Some(door(Some(("vk_2", "n")), "used")))
        else {
            panic!("another scan's admission");
        };
        assert_eq!(refusal.answer.result, ScanResult::AlreadyRedeemed);
        assert_eq!(
            refusal.answer.first_scan.map(|f| f.gate),
            Some("West".into())
        );
        // The judge would have admitted it, yet nothing was written: somebody raced us.
        let Admission::Refused(refusal) = attempt.judge(Some(door(None, "valid"))) else {
            panic!("refused");
        };
        assert_eq!(refusal.answer.result, ScanResult::AlreadyRedeemed);
        let Admission::Refused(refusal) = attempt.judge(None) else {
            panic!("refused");
        };
        assert_eq!(
            (refusal.answer.result, refusal.answer.ticket),
            (ScanResult::Invalid, None)
        );
        let Admission::Refused(refusal) = attempt.judge(Some(door(None, "revoked"))) else {
            panic!("refused");
        };
        assert_eq!(refusal.answer.result, ScanResult::Revoked);
    }

    #[test]
    fn one_request_of_five_statements_reading_last() {
        let (verifier, input) = (verifier(), input());
        let batch = Attempt {
            verifier: &verifier,
            input: &input,
            ticket_id: "tkt_1",
            pass_id: Some("00aa"),
            now_ms: 10,
        }
        .batch();
        assert_eq!(batch.len(), 5);
        assert!(batch[4].sql.starts_with("SELECT"));
        // The template's ticket is what the SQL fills in.
        let SqlValue::Text(template) = &batch[1].args[5] else {
            panic!("template");
        };
        let body: serde_json::Value = serde_json::from_str(template).expect("json");
        assert_eq!(body["ticket"], serde_json::Value::Null);
        assert_eq!(body["result"], "ok");
    }

    use shared::sql::SqlValue;
}
