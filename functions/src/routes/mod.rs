//! Handlers, one module per area.

pub mod cron;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod ready;
