//! Adaptive `eth_getLogs` batch sizes: start at the configured maximum, halve when the provider
//! refuses a range (or jump to the range it suggests), grow back when results are sparse. The
//! halve/regrow rule is the one rindexer and Ponder use.

/// Most logs written in one atomic batch: a denser range is split, at the cost of fetching it
/// again. One Hrana request then stays around 1 MB: workerd dropped the connection of a
/// ~6 MB outbound request (5,000 logs) in our tests ("Network connection lost").
pub const MAX_LOGS_PER_BATCH: usize = 1_000;

/// Logs in one response below which the next range may double.
pub const SPARSE_LOGS: usize = 2_000;

/// The current batch size, in blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSizer {
    current: u64,
    max: u64,
}

impl BatchSizer {
    /// Starts at `max` blocks.
    pub fn new(max: u64) -> Self {
        let max = max.max(1);
        BatchSizer { current: max, max }
    }

    /// Blocks to ask for next.
    pub fn size(&self) -> u64 {
        self.current
    }

    /// The provider refused `from..=to`; `suggested_to` is its own suggestion, if any.
    pub fn refused(&mut self, from: u64, to: u64, suggested_to: Option<u64>) {
        let asked = to.saturating_sub(from) + 1;
        self.current = match suggested_to {
            Some(end) if end >= from && end < to => end - from + 1,
            _ => (asked / 2).max(1),
        };
    }

    /// A range came back with `logs` logs.
    pub fn succeeded(&mut self, logs: usize) {
        if logs < SPARSE_LOGS {
            self.current = (self.current * 2).min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_on_refusal_and_regrows_when_sparse() {
        let mut sizer = BatchSizer::new(2000);
        sizer.refused(1, 2000, None);
        assert_eq!(sizer.size(), 1000);
        sizer.refused(1, 1000, None);
        assert_eq!(sizer.size(), 500);
        sizer.succeeded(10_000);
        assert_eq!(sizer.size(), 500, "dense results do not grow the range");
        sizer.succeeded(3);
        assert_eq!(sizer.size(), 1000);
        for _ in 0..5 {
            sizer.succeeded(0);
        }
        assert_eq!(sizer.size(), 2000, "never beyond the maximum");
    }

    #[test]
    fn follows_a_provider_suggestion_and_never_reaches_zero() {
        let mut sizer = BatchSizer::new(2000);
        sizer.refused(100, 2099, Some(149));
        assert_eq!(sizer.size(), 50);
        sizer.refused(100, 2099, Some(5000));
        assert_eq!(
            sizer.size(),
            1000,
            "a suggestion outside the range is ignored"
        );
        let mut one = BatchSizer::new(1);
        one.refused(7, 7, None);
        assert_eq!(one.size(), 1);
    }
}
