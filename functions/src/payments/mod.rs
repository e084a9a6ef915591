//! Payments: what happens to an order when money arrives (card webhook or on-chain deposit),
//! fails to, or goes back. libSQL records each outcome in one atomic batch; Redis follows
//! (hold → sold, or seats back), and the reconcile step repairs Redis if that second step
//! was lost. Whether a payment is in time is asked of Redis's clock, which set the hold's
//! expiry and the order's deadline (`standing`); a payment whose seat went to another order
//! after its hold lapsed ends the order `failed` with a refund record.

pub mod chain;
pub mod fulfil;
pub mod order;
pub mod standing;
pub mod stripe;
