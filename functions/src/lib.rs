//! The edge API of OnlineTicket Edge: platform-neutral router and handlers.
//!
//! Host shells (`hosts/cloudflare` for Workers, `hosts/spin` for Spin) translate their
//! platform's request into [`Request`], call [`serve`] (or [`run_scheduled`] for a cron
//! trigger), and translate the [`Response`] back. Nothing in this crate knows which platform it
//! runs on: it reaches Redis, libSQL and the chain through the `shared` ports.

mod after;
mod app;
mod audit;
pub mod body;
mod cache;
mod call;
mod checkin;
pub mod client_ip;
mod cors;
mod extract;
mod gate;
pub mod http;
mod indexer;
pub mod inventory;
mod keys;
mod live;
pub mod logs;
mod metrics;
mod payments;
mod rate_limit;
mod reconcile;
mod redis_errors;
mod router;
mod routes;
mod sale;
mod services;
mod swap;
#[cfg(test)]
mod testing;
pub mod upkeep;

pub use after::{AfterResponse, Instances};
pub use app::{Platform, Served, run_scheduled, serve};
pub use http::{BodyStream, Request, Response};
pub use live::edge_cache::EdgeCache;
pub use services::{EdgeServices, Services};
