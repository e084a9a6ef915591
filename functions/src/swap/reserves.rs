//! The reserves a request needs, all from one block.
//!
//! Budget: a cache hit is one Redis round trip and one command (the read runs inside the
//! gate's script, with the rate limit). A miss adds one RPC round trip (one `eth_call` to
//! Multicall3, however many pairs) and one deferred `EVAL` that caches every pair it read,
//! sent after the response.
//!
//! Each pair is cached under its own key, with the block it was read at and when, for
//! `SWAP_CACHE_TTL_MS`. The cache answers only when every pair the request needs is there and
//! all were read at the same block, so a quote never mixes blocks; otherwise all are read
//! again.

use crate::call::Call;
use crate::gate::Gate;
use crate::keys;
use crate::redis_errors::{self, Path};
use crate::services::Services;
use alloy_primitives::{Address, U256};
use shared::config::SwapConfig;
use shared::error::{Dependency, Error};
use shared::ports::{ChainRpc, Clock};
use shared::redis::{Command, Script, Value};
use shared::swap::multicall;
use shared::swap::{Market, PairKey, Pool, Reserves};
use std::sync::LazyLock;

/// The cache read behind the read group's rate limit, in one script call.
static GATED_READ: LazyLock<Script> = crate::gated_script!("swap_read.lua");
/// The cache write, sent as plain `EVAL` after the response.
const STORE: &str = include_str!("../scripts/swap_store.lua");

/// Where a snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cache,
    Chain,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cache => "cache",
            Source::Chain => "chain",
        }
    }
}

/// The pairs a request asked for, at one block.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub block: u64,
    pub source: Source,
    /// When the reserves were read from the chain (ms since the epoch).
    pub read_at_ms: u64,
    /// Until when they are served from the cache (ms since the epoch).
    pub valid_until_ms: u64,
    pub market: Market,
}

/// The reserves of `pairs`, from the cache when it holds all of them at one block.
///
/// # Errors
/// The gate's (429, …); 503 `RPC_UNAVAILABLE`; 503 `REDIS_UNAVAILABLE` when the read group
/// fails closed and Redis is down; 500 when the multicall's answer is not Multicall3's.
pub async fn read<S: Services>(
    services: &S,
    call: &Call<'_>,
    swap: &SwapConfig,
    pairs: &[PairKey],
) -> Result<Snapshot, Error> {
    let located: Vec<(PairKey, Address)> = pairs
        .iter()
        .map(|key| (*key, key.address(swap.factory, swap.init_code_hash)))
        .collect();
    let cache_keys: Vec<String> = located
        .iter()
        .map(|(_, pair)| keys::swap_reserves(services, &swap.factory, pair))
        .collect();
    let ttl = swap.cache_ttl_ms;
    let asked: &[String] = if ttl == 0 { &[] } else { &cache_keys };
    let key_refs: Vec<&str> = asked.iter().map(String::as_str).collect();
    let gate = Gate::new(services, call, None);
    let now = services.clock().now_ms();
    let cache_up = match gate
        .eval(
            services,
            call,
            &GATED_READ,
            &key_refs,
            &[&key_refs.len().to_string()],
        )
        .await
    {
        Ok(reply) => {
            if let Some(hit) = from_cache(&located, &reply, now, ttl) {
                return Ok(hit);
            }
            true
        }
        // The cache is only a saving: with Redis down the read group's policy decides
        // whether the request goes on to the chain.
        Err(
            e @ Error::Unavailable {
                dependency: Dependency::Redis,
                ..
            },
        ) => {
            redis_errors::ride_over(services, Path::Gate, call.rate.group, &e)?;
            false
        }
        Err(e) => return Err(e),
    };
    let answer = services
        .chain()
        .eth_call(swap.multicall, multicall::encode(swap.multicall, &located))
        .await?;
    let read = multicall::decode(&located, &answer).map_err(|e| {
        Error::Internal(format!(
            "MULTICALL_ADDRESS {} did not answer as Multicall3: {e}",
            swap.multicall
        ))
    })?;
    let now = services.clock().now_ms();
    if ttl > 0 && cache_up {
        services.defer(
            Command::new("EVAL")
                .arg(STORE)
                .arg(cache_keys.len())
                .args(&cache_keys)
                .arg(ttl)
                .args(
                    read.pairs
                        .iter()
                        .map(|(_, _, r)| encode(read.block, now, r)),
                ),
        );
    }
    let market = read
        .pairs
        .iter()
        .map(|&(key, address, reserves)| {
            (
                key,
                reserves.map(|reserves| Pool {
                    key,
                    address,
                    reserves,
                }),
            )
        })
        .collect();
    Ok(Snapshot {
        block: read.block,
        source: Source::Chain,
        read_at_ms: now,
        valid_until_ms: now + ttl,
        market,
    })
}

/// `block:read_at:reserve0:reserve1`, or `block:read_at:-` for a pair that does not exist.
fn encode(block: u64, read_at_ms: u64, reserves: &Option<Reserves>) -> String {
    match reserves {
        Some(r) => format!("{block}:{read_at_ms}:{}:{}", r.reserve0, r.reserve1),
        None => format!("{block}:{read_at_ms}:-"),
    }
}

/// One cached entry: its block, when it was read, and its reserves.
fn decode(entry: &str) -> Option<(u64, u64, Option<Reserves>)> {
    let mut parts = entry.split(':');
    let block = parts.next()?.parse().ok()?;
    let read_at = parts.next()?.parse().ok()?;
    let reserves = match (parts.next()?, parts.next()) {
        ("-", None) => None,
        (r0, Some(r1)) => Some(Reserves {
            reserve0: U256::from_str_radix(r0, 10).ok()?,
            reserve1: U256::from_str_radix(r1, 10).ok()?,
        }),
        _ => return None,
    };
    Some((block, read_at, reserves))
}

/// A snapshot from the cache's reply, when it holds every pair, all at one block and still
/// inside the TTL.
fn from_cache(
    located: &[(PairKey, Address)],
    reply: &Value,
    now: u64,
    ttl: u64,
) -> Option<Snapshot> {
    let Value::Array(values) = reply else {
        return None;
    };
    if ttl == 0 || values.len() != located.len() || located.is_empty() {
        return None;
    }
    let mut block = None;
    let mut read_at_ms = u64::MAX;
    let mut market = Market::new();
    for (&(key, address), value) in located.iter().zip(values) {
        let (at_block, read_at, reserves) = decode(value.as_str()?)?;
        if *block.get_or_insert(at_block) != at_block {
            return None;
        }
        read_at_ms = read_at_ms.min(read_at);
        market.insert(
            key,
            reserves.map(|reserves| Pool {
                key,
                address,
                reserves,
            }),
        );
    }
    let valid_until_ms = read_at_ms.saturating_add(ttl);
    (valid_until_ms > now).then_some(Snapshot {
        block: block?,
        source: Source::Cache,
        read_at_ms,
        valid_until_ms,
        market,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located() -> Vec<(PairKey, Address)> {
        let a = PairKey::new(Address::repeat_byte(1), Address::repeat_byte(2)).expect("two");
        let b = PairKey::new(Address::repeat_byte(1), Address::repeat_byte(3)).expect("two");
        vec![(a, Address::repeat_byte(7)), (b, Address::repeat_byte(8))]
    }

    fn reply(entries: &[Option<&str>]) -> Value {
        Value::Array(
            entries
                .iter()
                .map(|e| e.map_or(Value::Nil, |s| Value::Bytes(s.as_bytes().to_vec())))
                .collect(),
        )
    }

    #[test]
    fn the_cache_answers_only_with_every_pair_at_one_block_inside_the_ttl() {
        let hit = from_cache(
            &located(),
            &reply(&[Some("9:1000:5:7"), Some("9:1200:-")]),
            5_000,
            5_000,
        )
        .expect("hit");
        assert_eq!(
            (hit.block, hit.valid_until_ms, hit.source),
            (9, 6_000, Source::Cache)
        );
        assert_eq!(hit.market.values().filter(|p| p.is_some()).count(), 1);
        let mixed = reply(&[Some("9:1000:5:7"), Some("10:1200:-")]);
        assert!(from_cache(&located(), &mixed, 5_000, 5_000).is_none());
        let partial = reply(&[Some("9:1000:5:7"), None]);
        assert!(from_cache(&located(), &partial, 5_000, 5_000).is_none());
        let stale = reply(&[Some("9:1000:5:7"), Some("9:1000:-")]);
        assert!(from_cache(&located(), &stale, 6_000, 5_000).is_none());
        let garbled = reply(&[Some("9:1000:5"), Some("9:1000:-")]);
        assert!(from_cache(&located(), &garbled, 5_000, 5_000).is_none());
    }

    #[test]
    fn entries_round_trip() {
        let r = Some(Reserves {
            reserve0: U256::from(5),
            reserve1: U256::MAX,
        });
        assert_eq!(decode(&encode(3, 4, &r)), Some((3, 4, r)));
        assert_eq!(decode(&encode(3, 4, &None)), Some((3, 4, None)));
    }
}
