//! Swap quotes' configuration: which Uniswap V2 deployment to quote, through which base
//! tokens, where Multicall3 is, and how long reserves are cached.

use super::reader::Reader;
use crate::swap::{CANONICAL_MULTICALL3, UNISWAP_V2_INIT_CODE_HASH};
use alloy_primitives::{Address, B256};

/// At most this many base tokens: each adds two pairs to every quote's read.
pub const MAX_BASE_TOKENS: usize = 4;

/// A Uniswap V2 deployment to quote against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapConfig {
    /// The factory (`SWAP_FACTORY`); its pairs' addresses are computed, not looked up.
    pub factory: Address,
    /// `keccak256` of the pair's creation code (`SWAP_INIT_CODE_HASH`, default Uniswap V2's;
    /// forks such as SushiSwap have their own).
    pub init_code_hash: B256,
    /// Tokens a one-hop path may go through (`SWAP_BASE_TOKENS`, e.g. WETH and USDC).
    pub base_tokens: Vec<Address>,
    /// Multicall3 (`MULTICALL_ADDRESS`, default its canonical address).
    pub multicall: Address,
    /// How long reserves read from the chain are served from Redis (`SWAP_CACHE_TTL_MS`,
    /// 0 to 60,000, default 5,000; 0 turns the cache off).
    pub cache_ttl_ms: u64,
}

impl SwapConfig {
    /// Reads the swap keys; `None` (quotes disabled) when `SWAP_FACTORY` is unset.
    pub(super) fn read<F: Fn(&str) -> Option<String>>(r: &mut Reader<F>) -> Option<SwapConfig> {
        let factory = r.addresses("SWAP_FACTORY");
        let base_tokens: Vec<Address> = r
            .addresses("SWAP_BASE_TOKENS")
            .iter()
            .map(|a| a.inner())
            .collect();
        if base_tokens.len() > MAX_BASE_TOKENS {
            r.problem(
                "SWAP_BASE_TOKENS",
                &format!("lists more than {MAX_BASE_TOKENS} tokens"),
            );
        }
        let multicall = match r.addresses("MULTICALL_ADDRESS").as_slice() {
            [] => CANONICAL_MULTICALL3,
            [one] => one.inner(),
            _ => {
                r.problem("MULTICALL_ADDRESS", "must be one address");
                CANONICAL_MULTICALL3
            }
        };
        let init_code_hash = match r.optional("SWAP_INIT_CODE_HASH") {
            None => UNISWAP_V2_INIT_CODE_HASH,
            Some(hex) => hex.parse().unwrap_or_else(|_| {
                r.problem(
                    "SWAP_INIT_CODE_HASH",
                    "must be a 0x-prefixed 32-byte hex hash",
                );
                UNISWAP_V2_INIT_CODE_HASH
            }),
        };
        let cache_ttl_ms = r.number("SWAP_CACHE_TTL_MS", 5_000, 0..=60_000) as u64;
        match factory.as_slice() {
            [] => None,
            [one] => Some(SwapConfig {
                factory: one.inner(),
                init_code_hash,
                base_tokens,
                multicall,
                cache_ttl_ms,
            }),
            _ => {
                r.problem("SWAP_FACTORY", "must be one address");
                None
            }
        }
    }
}
