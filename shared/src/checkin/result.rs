use std::fmt;

/// What a scan decides. Exactly one `Ok` per ticket, ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScanResult {
    Ok,
    AlreadyRedeemed,
    Revoked,
    Invalid,
    Expired,
    WrongEvent,
    NotPaid,
}

impl ScanResult {
    pub const ALL: [ScanResult; 7] = [
        ScanResult::Ok,
        ScanResult::AlreadyRedeemed,
        ScanResult::Revoked,
        ScanResult::Invalid,
        ScanResult::Expired,
        ScanResult::WrongEvent,
        ScanResult::NotPaid,
    ];

    /// The wire name (`already_redeemed`).
    pub fn as_str(self) -> &'static str {
        match self {
            ScanResult::Ok => "ok",
            ScanResult::AlreadyRedeemed => "already_redeemed",
            ScanResult::Revoked => "revoked",
            ScanResult::Invalid => "invalid",
            ScanResult::Expired => "expired",
            ScanResult::WrongEvent => "wrong_event",
            ScanResult::NotPaid => "not_paid",
        }
    }

    /// The result named `name`.
    pub fn parse(name: &str) -> Option<ScanResult> {
        ScanResult::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// A short reason a door person can read out.
    pub fn reason(self) -> &'static str {
        match self {
            ScanResult::Ok => "valid ticket: admit",
            ScanResult::AlreadyRedeemed => "this ticket was already scanned in",
            ScanResult::Revoked => "this ticket was revoked (refunded or transferred)",
            ScanResult::Invalid => "not a valid ticket code",
            ScanResult::Expired => "the code has expired; ask for a fresh one",
            ScanResult::WrongEvent => "this ticket is for another event",
            ScanResult::NotPaid => "this ticket's order is not paid",
        }
    }
}

impl fmt::Display for ScanResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
