//! The pure part of a scan: what the code says, and what the ticket's state makes of it.

use super::ticket::{DoorTicket, PassState};
use shared::checkin::online::OnlineError;
use shared::checkin::pass::{Pass, PassError};
use shared::checkin::{CodeKind, MAX_CODE_LEN, ScanResult};
use shared::config::CheckinConfig;

/// The generation of event pass keys we sign with (the pass carries it, so keys can rotate).
pub const PASS_KEY_GENERATION: u8 = 1;

/// What a code says before we look at the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A genuine, current code for this ticket; `pass_id` for an offline pass.
    Genuine {
        ticket_id: String,
        pass_id: Option<String>,
        /// The event the code names (passes carry it; online codes do not).
        event_id: Option<String>,
    },
    /// Decided by the code alone (the ticket, when the code names one, for the audit).
    Refused {
        result: ScanResult,
        ticket_id: Option<String>,
        /// The event a genuine but refused code names (an expired pass): a scanner of another
        /// event answers `wrong_event` first, as for a current pass.
        event_id: Option<String>,
    },
}

impl Decoded {
    /// The ticket the code names, if any.
    pub fn ticket_id(&self) -> Option<&str> {
        match self {
            Decoded::Genuine { ticket_id, .. } => Some(ticket_id),
            Decoded::Refused { ticket_id, .. } => ticket_id.as_deref(),
        }
    }

    /// The event the code names, if it names one.
    pub fn event_id(&self) -> Option<&str> {
        match self {
            Decoded::Genuine { event_id, .. } | Decoded::Refused { event_id, .. } => {
                event_id.as_deref()
            }
        }
    }

    /// What a scanner of `event_id` makes of the code: a code naming another event is
    /// `wrong_event`, and discloses nothing about its ticket.
    pub fn at_event(self, event_id: &str) -> Decoded {
        match self.event_id() {
            Some(named) if named != event_id => Decoded::Refused {
                result: ScanResult::WrongEvent,
                ticket_id: None,
                event_id: None,
            },
            _ => self,
        }
    }
}

/// Reads `code` as the scanner of `event_id` at `at_secs`.
pub fn decode(config: &CheckinConfig, code: &str, event_id: &str, at_secs: u64) -> Decoded {
    read(config, code, at_secs).at_event(event_id)
}

/// Reads `code` at `at_secs` without knowing the scanner's event (the live scan learns it from
/// the verifier key inside its Redis script, which compares [`Decoded::event_id`] there).
pub fn read(config: &CheckinConfig, code: &str, at_secs: u64) -> Decoded {
    let refused = |result, ticket_id, event_id| Decoded::Refused {
        result,
        ticket_id,
        event_id,
    };
    if code.len() > MAX_CODE_LEN {
        return refused(ScanResult::Invalid, None, None);
    }
    match CodeKind::of(code) {
        CodeKind::Online => match config.qr_keyring.verify(code, at_secs) {
            Ok(online) => Decoded::Genuine {
                ticket_id: online.ticket_id,
                pass_id: None,
                event_id: None,
            },
            Err(OnlineError::Expired { ticket_id }) => {
                refused(ScanResult::Expired, Some(ticket_id), None)
            }
            Err(_) => refused(ScanResult::Invalid, None, None),
        },
        CodeKind::Offline => {
            let verified = Pass::verify(code, |event, generation| {
                (generation == PASS_KEY_GENERATION)
                    .then(|| config.pass_keys.verifying_key(event, generation))
            });
            match verified {
                Err(PassError::Malformed | PassError::Version(_) | PassError::BadSignature) => {
                    refused(ScanResult::Invalid, None, None)
                }
                Ok(pass) if !pass.is_current(at_secs) => refused(
                    ScanResult::Expired,
                    Some(pass.ticket_id),
                    Some(pass.event_id),
                ),
                Ok(pass) => Decoded::Genuine {
                    pass_id: Some(pass.pass_id_hex()),
                    ticket_id: pass.ticket_id,
                    event_id: Some(pass.event_id),
                },
            }
        }
    }
}

/// What the ticket's state makes of a genuine code at a scanner of `event_id`. `Ok` means
/// "may be admitted": the caller still has to win the one-time lock.
pub fn judge(ticket: Option<&DoorTicket>, event_id: &str) -> ScanResult {
    let Some(ticket) = ticket else {
        return ScanResult::Invalid;
    };
    if ticket.event_id != event_id {
        return ScanResult::WrongEvent;
    }
    match ticket.pass {
        PassState::Unknown => return ScanResult::Invalid,
        PassState::Revoked => return ScanResult::Revoked,
        PassState::NotAsked | PassState::Live => {}
    }
    if ticket.status == "revoked" {
        return ScanResult::Revoked;
    }
    if ticket
        .order_status
        .as_deref()
        .is_some_and(|s| s != "paid" && s != "overpaid")
    {
        return ScanResult::NotPaid;
    }
    if ticket.first_scan.is_some() || ticket.status == "used" {
        return ScanResult::AlreadyRedeemed;
    }
    ScanResult::Ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::ticket::FirstScan;

    fn ticket() -> DoorTicket {
        DoorTicket {
            id: "tkt_1".into(),
            event_id: "evt_a".into(),
            status: "valid".into(),
            owner: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into(),
            seat: Some("A-1".into()),
            serial: Some("000001".into()),
            token_id: None,
            type_name: Some("Floor".into()),
            order_status: Some("paid".into()),
            first_scan: None,
            pass: PassState::NotAsked,
        }
    }

    #[test]
    fn judge_orders_the_reasons() {
        assert_eq!(judge(None, "evt_a"), ScanResult::Invalid);
        assert_eq!(judge(Some(&ticket()), "evt_a"), ScanResult::Ok);
        assert_eq!(judge(Some(&ticket()), "evt_b"), ScanResult::WrongEvent);
        let revoked = DoorTicket {
            status: "revoked".into(),
            ..ticket()
        };
        assert_eq!(judge(Some(&revoked), "evt_a"), ScanResult::Revoked);
        let pass_revoked = DoorTicket {
            pass: PassState::Revoked,
            ..ticket()
        };
        assert_eq!(judge(Some(&pass_revoked), "evt_a"), ScanResult::Revoked);
        let unknown_pass = DoorTicket {
            pass: PassState::Unknown,
            ..ticket()
        };
        assert_eq!(judge(Some(&unknown_pass), "evt_a"), ScanResult::Invalid);
        let unpaid = DoorTicket {
            order_status: Some("pending_payment".into()),
            ..ticket()
        };
        assert_eq!(judge(Some(&unpaid), "evt_a"), ScanResult::NotPaid);
        let chain_minted = DoorTicket {
            order_status: None,
            ..ticket()
        };
        assert_eq!(judge(Some(&chain_minted), "evt_a"), ScanResult::Ok);
        let scanned = DoorTicket {
            first_scan: Some(FirstScan {
                at_ms: 1,
                gate: "North".into(),
                device_id: "d".into(),
                verifier_key_id: "vk".into(),
                nonce: "n".into(),
                offline: false,
            }),
            ..ticket()
        };
        assert_eq!(judge(Some(&scanned), "evt_a"), ScanResult::AlreadyRedeemed);
        let used_on_chain = DoorTicket {
            status: "used".into(),
            ..ticket()
        };
        assert_eq!(
            judge(Some(&used_on_chain), "evt_a"),
            ScanResult::AlreadyRedeemed
        );
        assert_eq!(ticket().holder_short(), "0x7099…79C8");
    }
}
