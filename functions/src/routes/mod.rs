//! Handlers, one module per area.

pub mod admin;
pub mod auth;
pub mod bench;
pub mod catalog;
pub mod chain;
pub mod cron;
pub mod health;
pub mod holds;
pub mod metrics;
pub mod openapi;
pub mod orders;
pub mod payments;
pub mod ready;
pub mod sales;
pub mod verifier;
