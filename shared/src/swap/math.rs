//! The integer math of `UniswapV2Library` (v2-periphery), step for step: the same
//! multiplications, the same floor divisions and the same `+ 1` of `getAmountIn`, so a quote
//! equals `Router02.getAmountsOut` / `getAmountsIn` on the same reserves bit for bit.
//!
//! Where the router reverts (an empty pool, an output the pool cannot give) or gives nothing
//! (an input too small to buy one unit), these return a [`SwapError`] instead.

use alloy_primitives::U256;

/// Why an amount cannot be quoted on given reserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SwapError {
    /// A pool on the path is empty, or cannot give the output asked for (the router's
    /// `INSUFFICIENT_LIQUIDITY`, or its arithmetic underflow for `amountOut >= reserveOut`).
    #[error("the pool holds too little for this amount")]
    InsufficientLiquidity,
    /// The input is so small that the path gives nothing for it.
    #[error("the amount is too small: the pool would give nothing for it")]
    AmountTooSmall,
    /// An intermediate product does not fit in 256 bits (the router reverts with
    /// `ds-math-mul-overflow`); inputs bounded by [`MAX_AMOUNT`] never get here.
    #[error("the amount overflows 256-bit arithmetic")]
    Overflow,
}

/// The largest amount a pair can hold (`uint112` reserves): larger amounts are never sensible
/// and are refused before any math.
pub const MAX_AMOUNT: U256 = U256::from_limbs([u64::MAX, (1 << 48) - 1, 0, 0]);

/// The fee a Uniswap V2 pair keeps from each input, in basis points (0.30 %).
pub const FEE_BPS: u32 = 30;

const FEE_NUMERATOR: u64 = 997;
const FEE_DENOMINATOR: u64 = 1_000;

fn mul(a: U256, b: U256) -> Result<U256, SwapError> {
    a.checked_mul(b).ok_or(SwapError::Overflow)
}

/// `UniswapV2Library.getAmountOut`: what `amount_in` buys from a pool holding
/// (`reserve_in`, `reserve_out`).
///
/// # Errors
/// [`SwapError::AmountTooSmall`] for a zero input, [`SwapError::InsufficientLiquidity`] for an
/// empty pool, [`SwapError::Overflow`].
pub fn amount_out(amount_in: U256, reserve_in: U256, reserve_out: U256) -> Result<U256, SwapError> {
    if amount_in.is_zero() {
        return Err(SwapError::AmountTooSmall);
    }
    if reserve_in.is_zero() || reserve_out.is_zero() {
        return Err(SwapError::InsufficientLiquidity);
    }
    let with_fee = mul(amount_in, U256::from(FEE_NUMERATOR))?;
    let numerator = mul(with_fee, reserve_out)?;
    let denominator = mul(reserve_in, U256::from(FEE_DENOMINATOR))?
        .checked_add(with_fee)
        .ok_or(SwapError::Overflow)?;
    Ok(numerator / denominator)
}

/// `UniswapV2Library.getAmountIn`: what must go in to take `amount_out` from a pool holding
/// (`reserve_in`, `reserve_out`).
///
/// # Errors
/// [`SwapError::AmountTooSmall`] for a zero output, [`SwapError::InsufficientLiquidity`] for an
/// empty pool or an output of at least the whole reserve, [`SwapError::Overflow`].
pub fn amount_in(amount_out: U256, reserve_in: U256, reserve_out: U256) -> Result<U256, SwapError> {
    if amount_out.is_zero() {
        return Err(SwapError::AmountTooSmall);
    }
    if reserve_in.is_zero() || reserve_out.is_zero() || amount_out >= reserve_out {
        return Err(SwapError::InsufficientLiquidity);
    }
    let numerator = mul(mul(reserve_in, amount_out)?, U256::from(FEE_DENOMINATOR))?;
    let denominator = mul(reserve_out - amount_out, U256::from(FEE_NUMERATOR))?;
    Ok(numerator / denominator + U256::from(1))
}

/// `getAmountsOut` over a path given as its pools' `(reserve_in, reserve_out)`, in order.
/// Unlike the router, a path that ends in nothing is an error.
///
/// # Errors
/// As [`amount_out`].
pub fn amounts_out(amount_in: U256, pools: &[(U256, U256)]) -> Result<Vec<U256>, SwapError> {
    let mut amounts = Vec::with_capacity(pools.len() + 1);
    amounts.push(amount_in);
    let mut current = amount_in;
    for &(reserve_in, reserve_out) in pools {
        current = amount_out(current, reserve_in, reserve_out)?;
        amounts.push(current);
    }
    if current.is_zero() {
        return Err(SwapError::AmountTooSmall);
    }
    Ok(amounts)
}

/// `getAmountsIn` over a path given as its pools' `(reserve_in, reserve_out)`, in order.
///
/// # Errors
/// As [`amount_in`].
pub fn amounts_in(amount_out: U256, pools: &[(U256, U256)]) -> Result<Vec<U256>, SwapError> {
    let mut amounts = vec![U256::ZERO; pools.len() + 1];
    amounts[pools.len()] = amount_out;
    for (i, &(reserve_in, reserve_out)) in pools.iter().enumerate().rev() {
        amounts[i] = amount_in(amounts[i + 1], reserve_in, reserve_out)?;
    }
    Ok(amounts)
}

/// `amount_out × (10,000 − bps) / 10,000`, rounded down: the least a swap may give before it
/// should revert.
pub fn min_out(amount_out: U256, slippage_bps: u32) -> U256 {
    let bps = U256::from(10_000u32.saturating_sub(slippage_bps));
    amount_out.saturating_mul(bps) / U256::from(10_000)
}

/// `amount_in × (10,000 + bps) / 10,000`, rounded up: the most a swap may take.
pub fn max_in(amount_in: U256, slippage_bps: u32) -> U256 {
    let scaled = amount_in.saturating_mul(U256::from(10_000 + slippage_bps));
    scaled.div_ceil(U256::from(10_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(n: u128) -> U256 {
        U256::from(n)
    }

    #[test]
    fn amount_out_matches_the_library_formula() {
        // 1 in, pool 10:20 → 1*997*20 / (10*1000 + 997) = 19940 / 10997 = 1.
        assert_eq!(amount_out(u(1), u(10), u(20)), Ok(u(1)));
        let out = amount_out(u(10u128.pow(15)), u(10u128.pow(18)), u(2 * 10u128.pow(18)));
        let expected = (10u128.pow(15) * 997 * 2 * 10u128.pow(18))
            / (10u128.pow(18) * 1000 + 10u128.pow(15) * 997);
        assert_eq!(out, Ok(u(expected)));
    }

    #[test]
    fn amount_in_rounds_up_by_one_as_the_library_does() {
        // 10*5*1000 / ((20-5)*997) = 50000 / 14955 = 3, + 1.
        assert_eq!(amount_in(u(5), u(10), u(20)), Ok(u(4)));
    }

    #[test]
    fn the_router_s_reverts_are_errors() {
        assert_eq!(amount_out(u(0), u(1), u(1)), Err(SwapError::AmountTooSmall));
        assert_eq!(
            amount_out(u(1), u(0), u(1)),
            Err(SwapError::InsufficientLiquidity)
        );
        assert_eq!(
            amount_in(u(20), u(10), u(20)),
            Err(SwapError::InsufficientLiquidity)
        );
        assert_eq!(
            amount_in(u(21), u(10), u(20)),
            Err(SwapError::InsufficientLiquidity)
        );
        // A hop that gives nothing leaves the next hop no input.
        assert_eq!(
            amounts_out(u(1), &[(u(1_000_000), u(1)), (u(5), u(5))]),
            Err(SwapError::AmountTooSmall)
        );
        assert_eq!(
            amounts_out(u(1), &[(u(1_000), u(1))]),
            Err(SwapError::AmountTooSmall)
        );
    }

    #[test]
    fn bounded_inputs_never_overflow() {
        let max = MAX_AMOUNT;
        assert!(amounts_out(max, &[(max, max), (max, max)]).is_ok());
        assert!(amounts_in(max - u(1), &[(max, max), (max, max)]).is_err());
        assert!(amounts_in(u(1), &[(max, max), (max, max)]).is_ok());
        assert_eq!(MAX_AMOUNT, (U256::from(1) << 112) - U256::from(1));
    }

    #[test]
    fn slippage_bounds_round_against_the_trader() {
        assert_eq!(min_out(u(10_001), 50), u(9_950));
        assert_eq!(max_in(u(10_001), 50), u(10_052));
        assert_eq!(min_out(u(7), 0), u(7));
        assert_eq!(max_in(u(7), 0), u(7));
    }
}
