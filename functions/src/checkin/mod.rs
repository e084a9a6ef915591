//! Check-in at the door: what a scan of a holder's code decides, made durable.
//!
//! Exactly one `ok` per ticket, ever: a Redis one-time lock turns the stampede of duplicate
//! scans away inside the one script call a live scan makes, and the unique `checkins(ticket_id)`
//! row in libSQL is the truth when Redis was flushed or is down. Every scan, accepted or not, is
//! a `scans` row — written with the admission, or buffered in Redis and drained to libSQL by
//! the scheduled upkeep; a scan's `nonce` makes retries (and re-uploads of offline scans)
//! return the first answer.
//!
//! Stages: [`input`] → [`decide`] (the code) → [`live`] ([`begin`]: the script;
//! [`admit`]: the first admission's one Hrana request, [`settle`]: its after-response
//! Redis command; [`fallback`]: Redis down) or
//! [`offline`] → [`answer`] (the body), with the [`lock`], the [`buffer`] and its
//! [`audit_drain`], the [`record`] rows and the [`verifier_key`] cache.

pub mod admit;
pub mod answer;
pub mod audit_drain;
pub mod begin;
pub mod buffer;
pub mod decide;
pub mod fallback;
pub mod input;
pub mod live;
pub mod lock;
pub mod metrics;
pub mod offline;
pub mod passes;
pub mod record;
pub mod settle;
pub mod ticket;
pub mod upload;
pub mod verifier_key;

pub use input::ScanInput;
