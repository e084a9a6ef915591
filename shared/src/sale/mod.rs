//! Flash-sale rules, pure: sale settings, the waiting room's admission arithmetic, and the
//! signed queue and admission tokens. The HTTP routes and Redis state build on these.

pub mod admission;
pub mod settings;
pub mod token;

pub use admission::{Admission, QueueStanding};
pub use settings::{QueueMode, SaleSettings, SaleSettingsError};
pub use token::{SignedToken, TokenError};
