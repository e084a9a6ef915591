//! Check-in at the door: what a scan of a holder's code decides, made durable.
//!
//! Exactly one `ok` per ticket, ever: a Redis one-time lock (`SET NX`) turns the stampede of
//! duplicate scans away in one round trip, and the unique `checkins(ticket_id)` row in libSQL is
//! the truth when Redis was flushed or is down. Every scan, accepted or not, is a `scans` row;
//! a scan's `nonce` makes retries (and re-uploads of offline scans) return the first answer.

pub mod decide;
pub mod metrics;
pub mod passes;
pub mod scan;
pub mod ticket;

pub use scan::{Mode, ScanInput};
