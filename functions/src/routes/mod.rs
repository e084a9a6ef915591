//! Handlers, one module per area.

pub mod admin;
pub mod auth;
pub mod bench;
pub mod catalog;
pub mod chain;
pub mod checkin;
pub mod cron;
pub mod health;
pub mod holds;
pub mod live_page;
pub mod metrics;
pub mod openapi;
pub mod orders;
mod page_files;
pub mod payments;
pub mod ready;
mod ready_cache;
pub mod sales;
pub mod scanner;
pub mod swap;
pub mod ticket_codes;
pub mod verifier;
