//! The sale rules every flash-sale route applies: an event's sale settings and pause state
//! (read from libSQL in one round trip), the sale window, and the waiting room's passes.

mod passes;
mod state;

pub use passes::{AdmissionPass, QueueTicket, check_admission};
pub use state::{SaleState, load_state};
