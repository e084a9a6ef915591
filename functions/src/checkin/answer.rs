//! A scan's answer and the text of its body.
//!
//! A body is glued from JSON fragments that serde_json renders (`"result":…,"reason":…`, the
//! ticket view, the first scan, the fields echoing the scan), never decoded and re-encoded on
//! the way. That lets `scan_begin.lua` answer a duplicate with exactly the text Rust would
//! write, from pieces Rust prepared and the views kept in the ticket's lock: Redis's cjson
//! prints numbers with 14 significant digits and escapes `/`, so it must not re-encode them.

use super::input::{Mode, ScanInput};
use super::ticket::{DoorTicket, FirstScan};
use serde_json::{Value as Json, json};
use shared::checkin::ScanResult;

/// A scan's answer, before it is written as a body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub result: ScanResult,
    /// The `ticket` object of the answer (what door staff see).
    pub ticket: Option<Json>,
    /// The ticket the scan named, for the audit row.
    pub ticket_id: Option<String>,
    pub first_scan: Option<FirstScan>,
    /// An offline scan that displaced a later one: that one's device.
    pub supersedes: Option<FirstScan>,
    /// Why, when the result's own reason says too little (an upload's `scannedAt` out of
    /// bounds).
    pub reason: Option<String>,
}

impl Answer {
    /// An answer decided by the code alone.
    pub fn refused(result: ScanResult, ticket_id: Option<String>) -> Answer {
        Answer {
            result,
            ticket: None,
            ticket_id,
            first_scan: None,
            supersedes: None,
            reason: None,
        }
    }

    /// `result` with its own `reason`, decided by the scan alone.
    pub fn refused_because(result: ScanResult, reason: String) -> Answer {
        Answer {
            reason: Some(reason),
            ..Answer::refused(result, None)
        }
    }

    /// The answer `result` about `ticket`, disclosing what the scanner may see: nothing of
    /// another event's (or an unknown) ticket; the first scan unless this scan is it.
    pub fn about(result: ScanResult, ticket_id: &str, ticket: Option<&DoorTicket>) -> Answer {
        let disclose = !matches!(result, ScanResult::WrongEvent | ScanResult::Invalid);
        let ticket = ticket.filter(|_| disclose);
        Answer {
            result,
            ticket: ticket.map(DoorTicket::json),
            ticket_id: Some(ticket_id.to_owned()),
            first_scan: ticket
                .filter(|_| result != ScanResult::Ok)
                .and_then(|t| t.first_scan.clone()),
            supersedes: None,
            reason: None,
        }
    }

    /// The body's text.
    pub fn body(&self, input: &ScanInput, mode: Mode) -> String {
        let ticket = self
            .ticket
            .as_ref()
            .map_or("null".to_owned(), Json::to_string);
        let first = self
            .first_scan
            .as_ref()
            .map_or("null".to_owned(), |f| f.json().to_string());
        let mut body = format!(
            "{{{},\"ticket\":{ticket},\"firstScan\":{first},{}",
            match &self.reason {
                Some(reason) => head_because(self.result, reason),
                None => head(self.result),
            },
            tail(input, mode)
        );
        if let Some(previous) = &self.supersedes {
            body.push_str(",\"supersedes\":");
            body.push_str(&previous.json().to_string());
        }
        body.push('}');
        body
    }
}

/// `"result":…,"reason":…` of `result`: how every body starts.
pub fn head(result: ScanResult) -> String {
    fragment(&json!({"result": result.as_str(), "reason": result.reason()}))
}

/// `"result":…,"reason":…` of `result` with the reason `reason`.
pub fn head_because(result: ScanResult, reason: &str) -> String {
    fragment(&json!({"result": result.as_str(), "reason": reason}))
}

/// The fields that echo the scan back, how every body ends.
pub fn tail(input: &ScanInput, mode: Mode) -> String {
    fragment(&json!({
        "nonce": input.nonce,
        "gate": input.gate,
        "deviceId": input.device_id,
        "scannedAt": input.scanned_at,
        "offline": mode == Mode::Offline,
    }))
}

/// A JSON object's members without its braces, to be glued into another object.
pub fn fragment(object: &Json) -> String {
    let text = object.to_string();
    text.strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or_default()
        .to_owned()
}

/// A scan's answer as the API returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanOutcome {
    pub result: ScanResult,
    /// The body's text (a replay: the stored text, labelled by [`label`]).
    pub body: String,
    /// The stored answer of an earlier scan with the same nonce (not counted again).
    pub replayed: bool,
    /// The body as first answered (unlabelled): what a nonce's record keeps.
    pub original: String,
    /// When a replayed answer was first given (ms), when known.
    pub answered_at: Option<i64>,
}

/// A nonce's answer as Redis keeps it: `<answered at, ms>\n<body>`, so that a replay can say
/// when the answer was first given.
pub fn nonce_record(answered_at_ms: i64, body: &str) -> String {
    format!("{answered_at_ms}\n{body}")
}

/// A replayed body: the original members, then `"replayed":true` and, when known,
/// `"answeredAt"` (ms) — the retry learns that this answer was given before, and when.
pub fn label(body: &str, answered_at_ms: Option<i64>) -> String {
    let members = body.trim_end().strip_suffix('}').unwrap_or(body);
    match answered_at_ms {
        Some(at) => format!("{members},\"replayed\":true,\"answeredAt\":{at}}}"),
        None => format!("{members},\"replayed\":true}}"),
    }
}

impl ScanOutcome {
    /// A fresh answer.
    pub fn new(result: ScanResult, body: String) -> ScanOutcome {
        ScanOutcome {
            result,
            original: body.clone(),
            body,
            replayed: false,
            answered_at: None,
        }
    }

    /// A nonce's record in Redis ([`nonce_record`], or a bare body written before it had a
    /// time), replayed (`None` when the text is not a scan answer).
    pub fn replay(stored: &str) -> Option<ScanOutcome> {
        match stored.split_once('\n') {
            Some((at, body)) if at.bytes().all(|b| b.is_ascii_digit()) => {
                ScanOutcome::replay_at(body, at.parse().ok())
            }
            _ => ScanOutcome::replay_at(stored, None),
        }
    }

    /// A stored answer first given at `answered_at_ms`, replayed.
    pub fn replay_at(stored: &str, answered_at_ms: Option<i64>) -> Option<ScanOutcome> {
        let body: Json = serde_json::from_str(stored).ok()?;
        let result = ScanResult::parse(body.get("result")?.as_str()?)?;
        Some(ScanOutcome {
            result,
            body: label(stored, answered_at_ms),
            replayed: true,
            original: stored.to_owned(),
            answered_at: answered_at_ms,
        })
    }

    /// The body as JSON (for an upload's list of answers).
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or(Json::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::ticket::PassState;

    fn input() -> ScanInput {
        ScanInput {
            code: "c".into(),
            gate: "Nord \"A\"/B ü".into(),
            device_id: "dev-1".into(),
            scanned_at: 1_767_225_600_123,
            nonce: "nonce-0001".into(),
        }
    }

    fn ticket(first_scan: Option<FirstScan>) -> DoorTicket {
        DoorTicket {
            id: "tkt_1".into(),
            event_id: "evt_a".into(),
            status: "valid".into(),
            owner: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into(),
            seat: Some("A-1".into()),
            serial: None,
            token_id: Some("123456789012345678901234567890".into()),
            type_name: Some("Floor".into()),
            order_status: Some("paid".into()),
            first_scan,
            pass: PassState::NotAsked,
        }
    }

    fn first() -> FirstScan {
        FirstScan {
            at_ms: 1_767_225_000_000,
            gate: "East".into(),
            device_id: "d".into(),
            verifier_key_id: "vk_1".into(),
            nonce: "n".into(),
            offline: false,
        }
    }

    #[test]
    fn the_glued_body_is_the_json_of_the_answer() {
        let answer = Answer::about(
            ScanResult::AlreadyRedeemed,
            "tkt_1",
            Some(&ticket(Some(first()))),
        );
        let body: Json = serde_json::from_str(&answer.body(&input(), Mode::Live)).expect("json");
        assert_eq!(
            body,
            json!({
                "result": "already_redeemed",
                "reason": ScanResult::AlreadyRedeemed.reason(),
                "ticket": {"id": "tkt_1", "serial": "123456789012345678901234567890", "seat": "A-1",
                           "type": "Floor", "holder": "0x7099…79C8"},
                "firstScan": {"at": 1_767_225_000_000_i64, "gate": "East", "deviceId": "d"},
                "nonce": "nonce-0001",
                "gate": "Nord \"A\"/B ü",
                "deviceId": "dev-1",
                "scannedAt": 1_767_225_600_123_i64,
                "offline": false,
            })
        );
    }

    #[test]
    fn discloses_nothing_of_another_events_ticket_and_no_first_scan_for_ok() {
        let wrong = Answer::about(
            ScanResult::WrongEvent,
            "tkt_1",
            Some(&ticket(Some(first()))),
        );
        assert_eq!((wrong.ticket, wrong.first_scan), (None, None));
        let ok = Answer::about(ScanResult::Ok, "tkt_1", Some(&ticket(Some(first()))));
        assert!(ok.ticket.is_some());
        assert_eq!(ok.first_scan, None);
        let revoked = Answer::about(ScanResult::Revoked, "tkt_1", Some(&ticket(None)));
        assert!(revoked.ticket.is_some());
    }

    #[test]
    fn offline_bodies_carry_what_they_displaced() {
        let mut answer = Answer::refused(ScanResult::Ok, Some("tkt_1".into()));
        answer.supersedes = Some(first());
        let body: Json = serde_json::from_str(&answer.body(&input(), Mode::Offline)).expect("json");
        assert_eq!(body["offline"], true);
        assert_eq!(body["supersedes"]["gate"], "East");
        assert_eq!(body["ticket"], Json::Null);
    }

    #[test]
    fn fragments_are_members_without_braces() {
        assert_eq!(fragment(&json!({"a": 1})), "\"a\":1");
        assert_eq!(fragment(&json!({})), "");
        assert_eq!(fragment(&json!("not an object")), "");
        assert!(head(ScanResult::Ok).starts_with("\"reason\":"));
    }

    #[test]
    fn replays_keep_the_stored_text_and_say_when() {
        let text = Answer::refused(ScanResult::Expired, None).body(&input(), Mode::Live);
        let replayed =
            ScanOutcome::replay(&nonce_record(1_700_000_000_123, &text)).expect("a scan answer");
        assert_eq!(
            (
                replayed.result,
                replayed.original.as_str(),
                replayed.replayed
            ),
            (ScanResult::Expired, text.as_str(), true)
        );
        let body: Json = serde_json::from_str(&replayed.body).expect("JSON");
        let first: Json = serde_json::from_str(&text).expect("JSON");
        assert_eq!(body["replayed"], true);
        assert_eq!(body["answeredAt"], 1_700_000_000_123_i64);
        assert_eq!(body["result"], first["result"]);
        assert_eq!(body["nonce"], first["nonce"]);
        // A bare body (written before records had a time) replays without one.
        let bare = ScanOutcome::replay(&text).expect("a scan answer");
        let bare: Json = serde_json::from_str(&bare.body).expect("JSON");
        assert_eq!(
            (bare["replayed"].clone(), bare.get("answeredAt")),
            (json!(true), None)
        );
        assert_eq!(ScanOutcome::replay("{\"result\":\"maybe\"}"), None);
        assert_eq!(ScanOutcome::replay("pending"), None);
    }
}
