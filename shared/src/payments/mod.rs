//! What payment providers send us, authenticated and parsed at the boundary.
//!
//! Pure code only: a route hands in the raw body, the header and the clock, and gets back a typed
//! event or a typed reason to refuse. Nothing here reaches the network, so the same checks run in
//! both edge runtimes and in native tests.

pub mod stripe;
