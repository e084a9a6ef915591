//! Domain newtypes: parsed once at the edge of a handler, so the rest of the code cannot hold
//! a bad value.

mod chain;

pub use chain::{BlockNumber, ChainId};
