//! Pairs: which token is `token0`, where the factory put a pair (CREATE2, as
//! `UniswapV2Library.pairFor` computes it, so no `getPair` call is needed), and its reserves.

use alloy_primitives::{Address, B256, U256, b256, keccak256};

/// `keccak256` of `UniswapV2Pair`'s creation code: the init code hash Uniswap V2's factory
/// and Router02 use on every chain they are deployed on (forks have their own).
pub const UNISWAP_V2_INIT_CODE_HASH: B256 =
    b256!("96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f");

/// The two tokens of a pair, sorted as the factory sorts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PairKey {
    pub token0: Address,
    pub token1: Address,
}

impl PairKey {
    /// The pair of `a` and `b` (in either order); `None` when they are the same token.
    pub fn new(a: Address, b: Address) -> Option<PairKey> {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => Some(PairKey {
                token0: a,
                token1: b,
            }),
            std::cmp::Ordering::Greater => Some(PairKey {
                token0: b,
                token1: a,
            }),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// The pair contract's address: `CREATE2(factory, keccak256(token0 ‖ token1), init_code_hash)`.
    pub fn address(&self, factory: Address, init_code_hash: B256) -> Address {
        let mut packed = [0u8; 40];
        packed[..20].copy_from_slice(self.token0.as_slice());
        packed[20..].copy_from_slice(self.token1.as_slice());
        factory.create2(keccak256(packed), init_code_hash)
    }
}

/// A pair's reserves at some block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserves {
    pub reserve0: U256,
    pub reserve1: U256,
}

/// A pair that exists, with its address and reserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub key: PairKey,
    pub address: Address,
    pub reserves: Reserves,
}

impl Pool {
    /// `(reserve_in, reserve_out)` for a swap that puts `token_in` in.
    pub fn oriented(&self, token_in: Address) -> (U256, U256) {
        if token_in == self.key.token0 {
            (self.reserves.reserve0, self.reserves.reserve1)
        } else {
            (self.reserves.reserve1, self.reserves.reserve0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn pair_addresses_are_the_factory_s() {
        // Uniswap V2 on Ethereum: USDC/WETH is at 0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc.
        let factory = address!("5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f");
        let usdc = address!("A0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48");
        let weth = address!("C02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2");
        let key = PairKey::new(weth, usdc).expect("distinct");
        assert_eq!(key.token0, usdc);
        assert_eq!(
            key.address(factory, UNISWAP_V2_INIT_CODE_HASH),
            address!("B4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc")
        );
        assert_eq!(PairKey::new(weth, weth), None);
    }
}
