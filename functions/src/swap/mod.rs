//! Swap quotes at the edge: the pairs' reserves from the Redis cache or, on a miss, from one
//! `Multicall3.aggregate3` `eth_call` ([`reserves`]); the math is `shared::swap`'s.

pub mod reserves;

pub use reserves::Snapshot;
