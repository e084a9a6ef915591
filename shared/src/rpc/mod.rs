//! Minimal EVM JSON-RPC client on the [`crate::ports::HttpClient`] port, with `alloy-primitives`
//! quantities. Later issues add `eth_getLogs`, `eth_getBlockByNumber`, `eth_call`.

mod client;

pub use client::{BlockHeader, ChainRpc, RpcClient, RpcError, classify_logs_error};
