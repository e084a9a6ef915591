//! One scan as a scanner sends it, checked at the edge.

use serde::Deserialize;
use shared::error::Error;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ScanInput {
        ScanInput {
            code: "x".into(),
            gate: "North".into(),
            device_id: "dev-1".into(),
            scanned_at: 1,
            nonce: "abcdefgh".into(),
        }
    }

    #[test]
    fn names_the_bad_field() {
        assert!(input().validate("").is_ok());
        let field = |i: ScanInput| match i.validate("scans[2].") {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(ScanInput {
                gate: String::new(),
                ..input()
            }),
            "scans[2].gate"
        );
        assert_eq!(
            field(ScanInput {
                device_id: "a\nb".into(),
                ..input()
            }),
            "scans[2].deviceId"
        );
        assert_eq!(
            field(ScanInput {
                nonce: "short".into(),
                ..input()
            }),
            "scans[2].nonce"
        );
        assert_eq!(
            field(ScanInput {
                nonce: "abc/defgh".into(),
                ..input()
            }),
            "scans[2].nonce"
        );
        assert_eq!(
            field(ScanInput {
                scanned_at: 0,
                ..input()
            }),
            "scans[2].scannedAt"
        );
    }
}
