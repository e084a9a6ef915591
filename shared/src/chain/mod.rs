//! The project's published contract interface (`tests/contracts/`), as alloy `sol!` event
//! declarations, and the decoding of raw logs into [`ChainEvent`]s.

mod events;

pub use events::{ChainEvent, DecodeError, RawLog, decode, topic0s};
