//! Payments: what happens to an order when money arrives (card webhook or on-chain deposit),
//! fails to, or goes back. libSQL records each outcome in one atomic batch; Redis follows
//! (hold → sold, or seats back), and the reconcile step repairs Redis if that second step
//! was lost.

pub mod chain;
pub mod fulfil;
pub mod order;
pub mod stripe;
