//! Client for Hrana over HTTP (the protocol of Turso's `sqld`), written on the
//! [`crate::ports::HttpClient`] port with the official `libsql-hrana` protocol types.
//!
//! Every call is one stateless `POST /v2/pipeline` that ends with `close`, so no baton has to
//! survive between edge invocations. Atomic writes use a *conditional* batch (BEGIN, each step
//! conditioned on the previous one, COMMIT, ROLLBACK unless COMMIT succeeded): a plain
//! BEGIN…COMMIT batch would keep the statements that succeeded.

mod client;
mod convert;

pub use client::HranaClient;
