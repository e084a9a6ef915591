//! A quote: the candidate paths (the direct pair, and one hop through each base token), the
//! router's amounts on each, and the best of them, with the slippage bound and price impact.

use super::math::{self, FEE_BPS, SwapError};
use super::pair::{PairKey, Pool};
use alloy_primitives::{Address, U256, U512};
use std::collections::HashMap;

/// What the trader fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// Sell exactly this much of `token_in`.
    ExactIn(U256),
    /// Buy exactly this much of `token_out`.
    ExactOut(U256),
}

/// One quote to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteRequest {
    pub token_in: Address,
    pub token_out: Address,
    pub amount: Amount,
    /// Tolerance for the slippage bound, 0..=5,000 basis points.
    pub slippage_bps: u32,
}

/// The pairs a quote may use: the direct one, then `token_in`/base and base/`token_out` for
/// each base token that is neither of them.
pub fn candidate_paths(request: &QuoteRequest, bases: &[Address]) -> Vec<Vec<Address>> {
    let (a, b) = (request.token_in, request.token_out);
    let mut paths = vec![vec![a, b]];
    for &base in bases {
        let hop = vec![a, base, b];
        if base != a && base != b && !paths.contains(&hop) {
            paths.push(hop);
        }
    }
    paths
}

/// Every pair the candidate paths of `request` touch.
pub fn pairs_needed(request: &QuoteRequest, bases: &[Address]) -> Vec<PairKey> {
    let mut keys = Vec::new();
    for path in candidate_paths(request, bases) {
        for hop in path.windows(2) {
            if let Some(key) = PairKey::new(hop[0], hop[1])
                && !keys.contains(&key)
            {
                keys.push(key);
            }
        }
    }
    keys
}

/// The pairs known at one block: `None` for a pair that does not exist.
pub type Market = HashMap<PairKey, Option<Pool>>;

/// The best quote found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub path: Vec<Address>,
    /// The amount at each token of the path (the router's `amounts`).
    pub amounts: Vec<U256>,
    pub pools: Vec<Pool>,
    /// The least the swap may give (exact-in) or the most it may take (exact-out).
    pub limit: U256,
    pub price_impact_bps: u32,
    pub fee_bps: u32,
}

impl Quote {
    pub fn amount_in(&self) -> U256 {
        self.amounts[0]
    }
    pub fn amount_out(&self) -> U256 {
        self.amounts[self.amounts.len() - 1]
    }
}

/// Why there is no quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// No candidate path has all its pairs.
    #[error("no pair connects the tokens, directly or through a base token")]
    PairNotFound,
    #[error(transparent)]
    Swap(#[from] SwapError),
}

/// The best path for `request` in `market`: the most out for an exact input, the least in for
/// an exact output; on a tie, the shorter path.
///
/// # Errors
/// [`QuoteError::PairNotFound`] when no path exists; otherwise the worst reason a path failed
/// (insufficient liquidity before a too small amount).
pub fn best(
    request: &QuoteRequest,
    bases: &[Address],
    market: &Market,
) -> Result<Quote, QuoteError> {
    let mut best: Option<Quote> = None;
    let mut failure: Option<SwapError> = None;
    for path in candidate_paths(request, bases) {
        let Some(pools) = pools_of(&path, market) else {
            continue;
        };
        let oriented: Vec<(U256, U256)> = path
            .windows(2)
            .zip(&pools)
            .map(|(hop, pool)| pool.oriented(hop[0]))
            .collect();
        let amounts = match request.amount {
            Amount::ExactIn(amount) => math::amounts_out(amount, &oriented),
            Amount::ExactOut(amount) => math::amounts_in(amount, &oriented),
        };
        let amounts = match amounts {
            Ok(amounts) => amounts,
            Err(e) => {
                failure = Some(match (failure, e) {
                    (Some(SwapError::InsufficientLiquidity), _) => SwapError::InsufficientLiquidity,
                    (Some(SwapError::Overflow), _) => SwapError::Overflow,
                    (_, e) => e,
                });
                continue;
            }
        };
        let candidate = Quote {
            limit: match request.amount {
                Amount::ExactIn(_) => {
                    math::min_out(amounts[amounts.len() - 1], request.slippage_bps)
                }
                Amount::ExactOut(_) => math::max_in(amounts[0], request.slippage_bps),
            },
            price_impact_bps: price_impact_bps(&amounts, &oriented),
            fee_bps: FEE_BPS * pools.len() as u32,
            path,
            amounts,
            pools,
        };
        let better = match (&best, request.amount) {
            (None, _) => true,
            (Some(b), Amount::ExactIn(_)) => candidate.amount_out() > b.amount_out(),
            (Some(b), Amount::ExactOut(_)) => candidate.amount_in() < b.amount_in(),
        };
        if better {
            best = Some(candidate);
        }
    }
    match (best, failure) {
        (Some(quote), _) => Ok(quote),
        (None, Some(e)) => Err(e.into()),
        (None, None) => Err(QuoteError::PairNotFound),
    }
}

fn pools_of(path: &[Address], market: &Market) -> Option<Vec<Pool>> {
    path.windows(2)
        .map(|hop| PairKey::new(hop[0], hop[1]).and_then(|key| market.get(&key).copied().flatten()))
        .collect()
}

/// How much worse than the pools' mid price the trade is, beyond the LP fee, in basis points
/// (rounded down): `1 − out / (in × Π(reserve_out / reserve_in) × 0.997^hops)`.
fn price_impact_bps(amounts: &[U256], pools: &[(U256, U256)]) -> u32 {
    let wide = |v: U256| U512::from(v);
    let (mut ideal, mut scale) = (wide(amounts[0]), U512::from(1));
    for &(reserve_in, reserve_out) in pools {
        ideal *= wide(reserve_out) * U512::from(997);
        scale *= wide(reserve_in) * U512::from(1_000);
    }
    let actual = wide(amounts[amounts.len() - 1]) * scale;
    if ideal.is_zero() || actual >= ideal {
        return 0;
    }
    let bps = (ideal - actual) * U512::from(10_000) / ideal;
    u32::try_from(bps).unwrap_or(10_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::swap::pair::Reserves;

    fn token(n: u8) -> Address {
        Address::repeat_byte(n)
    }

    fn market(pools: &[(u8, u8, u128, u128)]) -> Market {
        let mut market = Market::new();
        for &(a, b, ra, rb) in pools {
            let key = PairKey::new(token(a), token(b)).expect("distinct");
            let (reserve0, reserve1) = if key.token0 == token(a) {
                (ra, rb)
            } else {
                (rb, ra)
            };
            let reserves = Reserves {
                reserve0: U256::from(reserve0),
                reserve1: U256::from(reserve1),
            };
            market.insert(
                key,
                Some(Pool {
                    key,
                    address: token(100 + a + b),
                    reserves,
                }),
            );
        }
        market
    }

    fn request(amount: Amount) -> QuoteRequest {
        QuoteRequest {
            token_in: token(1),
            token_out: token(2),
            amount,
            slippage_bps: 50,
        }
    }

    const E18: u128 = 1_000_000_000_000_000_000;

    #[test]
    fn a_deep_hop_beats_a_shallow_direct_pair_for_large_amounts_only() {
        let bases = [token(9)];
        let m = market(&[
            (1, 2, 10 * E18, 20 * E18),
            (1, 9, 1_000_000 * E18, 1_000 * E18),
            (9, 2, 1_000 * E18, 2_000_000 * E18),
        ]);
        let small =
            best(&request(Amount::ExactIn(U256::from(1_000u32))), &bases, &m).expect("quote");
        assert_eq!(small.path, vec![token(1), token(2)]);
        let large =
            best(&request(Amount::ExactIn(U256::from(5 * E18))), &bases, &m).expect("quote");
        assert_eq!(large.path, vec![token(1), token(9), token(2)]);
        assert_eq!(large.fee_bps, 60);
        let out =
            best(&request(Amount::ExactOut(U256::from(15 * E18))), &bases, &m).expect("quote");
        assert_eq!(out.path.len(), 3);
        assert_eq!(out.limit, math::max_in(out.amount_in(), 50));
    }

    #[test]
    fn missing_pairs_and_thin_pools_are_told_apart() {
        let none = Market::new();
        assert_eq!(
            best(&request(Amount::ExactIn(U256::from(1))), &[], &none),
            Err(QuoteError::PairNotFound)
        );
        let thin = market(&[(1, 2, 1_000, 1_000)]);
        assert_eq!(
            best(&request(Amount::ExactOut(U256::from(1_000))), &[], &thin),
            Err(QuoteError::Swap(SwapError::InsufficientLiquidity))
        );
        assert_eq!(
            best(&request(Amount::ExactIn(U256::from(1))), &[], &thin),
            Err(QuoteError::Swap(SwapError::AmountTooSmall))
        );
    }

    #[test]
    fn price_impact_grows_with_size_and_excludes_the_fee() {
        let m = market(&[(1, 2, 1_000 * E18, 1_000 * E18)]);
        let tiny =
            best(&request(Amount::ExactIn(U256::from(E18 / 1_000))), &[], &m).expect("quote");
        assert_eq!(tiny.price_impact_bps, 0);
        // 10 % of the pool moves the price by about 9 %.
        let big = best(&request(Amount::ExactIn(U256::from(100 * E18))), &[], &m).expect("quote");
        assert!(
            (880..=920).contains(&big.price_impact_bps),
            "{}",
            big.price_impact_bps
        );
    }

    #[test]
    fn bases_equal_to_either_token_are_skipped() {
        let r = request(Amount::ExactIn(U256::from(1)));
        assert_eq!(
            candidate_paths(&r, &[token(1), token(2), token(3), token(3)]).len(),
            2
        );
        assert_eq!(pairs_needed(&r, &[token(3)]).len(), 3);
    }
}
