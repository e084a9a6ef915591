//! Reorg detection, pure (rindexer keeps this logic I/O-free too).
//!
//! We keep `(number, hash)` for recent blocks we indexed: every batch's last block (whose
//! header we fetch anyway) and every block that had logs. Any reorg that replaced an indexed
//! block changes the hash of the cursor block, since each hash commits to its parent; the fork
//! point is then the highest kept block whose hash the chain still has.

use alloy_primitives::B256;

/// What the comparison of kept hashes with the chain found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkSearch {
    /// Roll back everything above this block (which still matches).
    ForkAt(u64),
    /// No kept block matches: the reorg is deeper than the window.
    TooDeep,
}

/// Finds the fork point. `kept` is sorted by number descending; `chain_hash` answers the
/// chain's current hash at a height (`None` when the chain is now shorter than that).
/// The caller fetches hashes lazily, so this takes them as an already-fetched list in the same
/// order as `kept`, stopping at the first match.
pub fn fork_point(kept: &[(u64, B256)], chain_hashes: &[Option<B256>]) -> ForkSearch {
    kept.iter()
        .zip(chain_hashes)
        .find(|((_, kept_hash), chain)| chain.as_ref() == Some(kept_hash))
        .map_or(ForkSearch::TooDeep, |((number, _), _)| {
            ForkSearch::ForkAt(*number)
        })
}

/// Whether a fork at `fork` below a cursor at `cursor` is within the window.
pub fn within_window(cursor: u64, fork: u64, window: u64) -> bool {
    cursor.saturating_sub(fork) <= window
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> B256 {
        B256::repeat_byte(n)
    }

    #[test]
    fn finds_the_highest_block_that_still_matches() {
        let kept = [(10, h(10)), (8, h(8)), (5, h(5))];
        assert_eq!(
            fork_point(&kept, &[Some(h(99)), Some(h(8)), Some(h(5))]),
            ForkSearch::ForkAt(8)
        );
        assert_eq!(fork_point(&kept, &[Some(h(10))]), ForkSearch::ForkAt(10));
    }

    #[test]
    fn a_shorter_chain_or_no_match_is_handled() {
        let kept = [(10, h(10)), (8, h(8))];
        assert_eq!(
            fork_point(&kept, &[None, Some(h(8))]),
            ForkSearch::ForkAt(8)
        );
        assert_eq!(
            fork_point(&kept, &[Some(h(1)), Some(h(2))]),
            ForkSearch::TooDeep
        );
        assert_eq!(fork_point(&[], &[]), ForkSearch::TooDeep);
    }

    #[test]
    fn window_bounds_are_inclusive() {
        assert!(within_window(100, 36, 64));
        assert!(!within_window(100, 35, 64));
        assert!(within_window(5, 5, 0));
    }
}
