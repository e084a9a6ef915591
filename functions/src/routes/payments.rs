//! Payment provider callbacks.

pub use crate::payments::stripe::webhook as stripe_webhook;
