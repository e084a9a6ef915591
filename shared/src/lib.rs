//! Pure core of OnlineTicket Edge.
//!
//! Everything here builds for native, `wasm32-unknown-unknown` (Cloudflare Workers) and
//! `wasm32-wasip2` (Spin) alike: no platform crate and no `cfg(target)`. The outside world is
//! reached only through the small traits in [`ports`]; the Upstash REST, Hrana-over-HTTP and
//! EVM JSON-RPC clients are written on the [`ports::HttpClient`] port, so the same code talks to
//! Redis, libSQL and the chain from either edge runtime and from native tools.

pub mod auth;
pub mod chain;
pub mod checkin;
pub mod config;
pub mod deadline;
pub mod domain;
pub mod error;
pub mod hrana;
pub mod http;
pub mod migrate;
pub mod payments;
pub mod ports;
pub mod redis;
pub mod rpc;
pub mod sale;
pub mod sql;
pub mod swap;
pub mod upstash;

#[cfg(test)]
pub(crate) mod testing;

pub use error::{Error, ErrorBody, Result};
