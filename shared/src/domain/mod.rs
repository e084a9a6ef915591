//! Domain newtypes: parsed once at the edge of a handler, so the rest of the code cannot hold
//! a bad value.

mod address;
mod chain;
mod role;

pub use address::WalletAddress;
pub use chain::{BlockNumber, ChainId};
pub use role::Role;
