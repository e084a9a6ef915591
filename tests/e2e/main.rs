//! End-to-end tests, one module per area (workers-rs / ripgrep layout). They need the release
//! Wasm builds (`scripts/build-wasm.sh`) and the tools from `scripts/setup.sh`; `make test`
//! does both first.

mod accounts;
mod bodies;
mod catalog;
mod chain_read;
mod checkin;
mod clients;
mod contract;
mod cost;
mod cron;
mod deadlines;
mod durable;
mod fronts_js;
mod gate;
mod hold_catalog;
mod holds;
mod indexer;
mod indexer_reorg;
mod lapsed_payment;
mod live_cdn;
mod live_log;
mod live_stream;
mod login_rules;
mod logs;
mod metrics_cost;
mod migrations;
mod platform;
mod prometheus;
mod reconcile;
mod redis_policy;
mod sale;
mod sale_window;
mod spin_config;
mod swap_batch;
mod swap_cache;
mod swap_input;
mod swap_quotes;
