//! Domain newtypes: parsed once at the edge of a handler, so the rest of the code cannot hold
//! a bad value.

mod address;
mod chain;
mod event;
mod ids;
mod money;
mod role;
mod schedule;
mod seat;
mod text;
mod ticket_type;
mod timezone;

pub use address::WalletAddress;
pub use chain::{BlockNumber, ChainId};
pub use event::{ChainEventId, EventDescription, EventMetadata, EventStatus, EventTitle, Venue};
pub use ids::{EventId, TicketTypeId};
pub use money::{Amount, Currency, MAX_AMOUNT_DIGITS};
pub use role::Role;
pub use schedule::{SaleWindow, TimeWindow, Timestamp};
pub use seat::{MAX_SEATS, SeatAttribute, SeatLabel};
pub use ticket_type::{MAX_SUPPLY, PerWalletLimit, Supply, TicketTypeName};
pub use timezone::TimeZone;
