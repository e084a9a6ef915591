//! One `eth_call` for many pairs: `Multicall3.aggregate3` with the multicall's own
//! `getBlockNumber()` first and every pair's `getReserves()` after it, so all reserves come
//! from one block and the answer says which.
//!
//! A pair that was never created has no code: calling it succeeds with no return data, which
//! is how a missing pair is told apart without a `getPair` call.

use super::pair::{PairKey, Reserves};
use alloy_primitives::{Address, Bytes, U256, address};
use alloy_sol_types::{SolCall, sol};

/// Where Multicall3 is deployed on nearly every EVM chain (the same address everywhere).
pub const CANONICAL_MULTICALL3: Address = address!("cA11bde05977b3631167028862bE2a173976CA11");

sol! {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result3 {
        bool success;
        bytes returnData;
    }

    function aggregate3(Call3[] calls) external payable returns (Result3[] returnData);
    function getBlockNumber() external view returns (uint256 blockNumber);
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
}

/// The reserves of the asked pairs at one block; `None` for a pair that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservesAt {
    pub block: u64,
    pub pairs: Vec<(PairKey, Address, Option<Reserves>)>,
}

/// The calldata of one `aggregate3` reading `pairs` (given as their keys and addresses).
pub fn encode(multicall: Address, pairs: &[(PairKey, Address)]) -> Bytes {
    let mut calls = Vec::with_capacity(pairs.len() + 1);
    calls.push(Call3 {
        target: multicall,
        allowFailure: false,
        callData: getBlockNumberCall {}.abi_encode().into(),
    });
    calls.extend(pairs.iter().map(|(_, address)| Call3 {
        target: *address,
        allowFailure: true,
        callData: getReservesCall {}.abi_encode().into(),
    }));
    aggregate3Call { calls }.abi_encode().into()
}

/// Reads the answer of [`encode`]'s call for the same `pairs`.
///
/// # Errors
/// A description when the answer is not what a Multicall3 returns for that call (no contract
/// at the multicall address answers `0x`).
pub fn decode(pairs: &[(PairKey, Address)], answer: &[u8]) -> Result<ReservesAt, String> {
    let results = aggregate3Call::abi_decode_returns(answer).map_err(|e| {
        format!(
            "aggregate3 returned {} bytes that do not decode: {e}",
            answer.len()
        )
    })?;
    if results.len() != pairs.len() + 1 {
        return Err(format!(
            "aggregate3 returned {} results for {} calls",
            results.len(),
            pairs.len() + 1
        ));
    }
    let block = getBlockNumberCall::abi_decode_returns(&results[0].returnData)
        .map_err(|e| format!("getBlockNumber() did not decode: {e}"))?;
    let block = u64::try_from(block).map_err(|_| format!("block number {block} is too large"))?;
    let pairs = pairs
        .iter()
        .zip(&results[1..])
        .map(|(&(key, address), result)| {
            let reserves = if result.success && !result.returnData.is_empty() {
                let r = getReservesCall::abi_decode_returns(&result.returnData)
                    .map_err(|e| format!("getReserves() of {address} did not decode: {e}"))?;
                Some(Reserves {
                    reserve0: U256::from(r.reserve0),
                    reserve1: U256::from(r.reserve1),
                })
            } else {
                None
            };
            Ok((key, address, reserves))
        })
        .collect::<Result<_, String>>()?;
    Ok(ReservesAt { block, pairs })
}

/// The selector of `aggregate3((address,bool,bytes)[])`, for tests and logs.
pub fn aggregate3_selector() -> [u8; 4] {
    aggregate3Call::SELECTOR
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolValue;

    #[test]
    fn selectors_are_multicall3_s() {
        assert_eq!(aggregate3_selector(), [0x82, 0xad, 0x56, 0xcb]);
        assert_eq!(getBlockNumberCall::SELECTOR, [0x42, 0xcb, 0xb1, 0x5c]);
        assert_eq!(getReservesCall::SELECTOR, [0x09, 0x02, 0xf1, 0xac]);
    }

    #[test]
    fn a_missing_pair_answers_empty_data() {
        let a = PairKey::new(Address::repeat_byte(1), Address::repeat_byte(2)).expect("two");
        let pairs = [(a, Address::repeat_byte(9)), (a, Address::repeat_byte(8))];
        let reserves = (U256::from(5), U256::from(7), 3u32).abi_encode_params();
        let answer = vec![
            Result3 {
                success: true,
                returnData: U256::from(42).abi_encode().into(),
            },
            Result3 {
                success: true,
                returnData: reserves.into(),
            },
            Result3 {
                success: true,
                returnData: Bytes::new(),
            },
        ]
        .abi_encode();
        let read = decode(&pairs, &answer).expect("decodes");
        assert_eq!(read.block, 42);
        assert_eq!(
            read.pairs[0].2,
            Some(Reserves {
                reserve0: U256::from(5),
                reserve1: U256::from(7)
            })
        );
        assert_eq!(read.pairs[1].2, None);
        assert!(decode(&pairs, &[]).is_err());
    }
}
