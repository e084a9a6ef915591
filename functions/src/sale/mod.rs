//! The sale rules every flash-sale route applies: an event's sale settings and pause state
//! (read from libSQL in one round trip), the sale window, and the waiting room's passes.

pub mod catalog;
pub mod deny_cache;
pub mod live;
mod passes;
mod state;
mod window;

pub use passes::{AdmissionPass, QueueTicket, admitted_event, check_admission, issued_elsewhere};
pub use state::load_state;
