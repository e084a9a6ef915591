//! An upload's check-in metrics, counted in memory and sent as one `HINCRBY` per field after
//! the response: the same fields `metrics::commands` counts scan by scan (a 500-scan upload
//! would otherwise defer 1,500+ commands), and the displacement conflicts of
//! `metrics::conflict`.

use super::super::metrics;
use crate::metrics::bucket_index;
use crate::services::Services;
use shared::checkin::ScanResult;
use shared::redis::Command;
use std::collections::BTreeMap;

/// Counts of the upload's fresh answers (replays are not counted again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Field of the check-in hash → increment.
    fields: BTreeMap<String, u64>,
}

impl Tally {
    /// Counts one scan, decided `elapsed_ms` after the upload arrived.
    pub fn scan(&mut self, result: ScanResult, elapsed_ms: u64) {
        self.add(format!("scan|{result}"), 1);
        self.add(format!("verify_bucket|{}", bucket_index(elapsed_ms)), 1);
        self.add("verify_sum_ms".to_owned(), elapsed_ms);
        if result == ScanResult::AlreadyRedeemed {
            self.conflict();
        }
    }

    /// Counts an offline admission displaced by an earlier scan.
    pub fn conflict(&mut self) {
        self.add("conflicts".to_owned(), 1);
    }

    fn add(&mut self, field: String, by: u64) {
        *self.fields.entry(field).or_default() += by;
    }

    /// The commands that add the counts to the check-in hash (none when nothing was counted).
    pub fn commands<S: Services>(&self, services: &S) -> Vec<Command> {
        let key = metrics::key(services);
        self.fields
            .iter()
            .filter(|(_, by)| **by > 0)
            .map(|(field, by)| Command::new("HINCRBY").arg(&key).arg(field).arg(*by))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_add_up_across_scans() {
        let mut tally = Tally::default();
        tally.scan(ScanResult::Ok, 3);
        tally.scan(ScanResult::AlreadyRedeemed, 3);
        tally.scan(ScanResult::AlreadyRedeemed, 4);
        tally.conflict();
        let get = |f: &str| tally.fields.get(f).copied().unwrap_or(0);
        assert_eq!(get("scan|ok"), 1);
        assert_eq!(get("scan|already_redeemed"), 2);
        assert_eq!(get("conflicts"), 3);
        assert_eq!(get("verify_sum_ms"), 10);
        assert_eq!(get(&format!("verify_bucket|{}", bucket_index(3))), 3);
        assert!(Tally::default().fields.is_empty());
    }
}
