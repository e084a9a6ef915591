//! Swap quotes on Uniswap V2 pairs: the router's exact integer math ([`math`]), pair
//! addresses and reserves ([`pair`]), the best of the direct and one-hop paths ([`quote`]),
//! and the single `Multicall3.aggregate3` call that reads many pairs at one block
//! ([`multicall`]). Pure: the edge routes fetch and cache the reserves.

pub mod math;
pub mod multicall;
pub mod pair;
pub mod quote;

pub use math::{MAX_AMOUNT, SwapError};
pub use multicall::{CANONICAL_MULTICALL3, ReservesAt};
pub use pair::{PairKey, Pool, Reserves, UNISWAP_V2_INIT_CODE_HASH};
pub use quote::{Amount, Market, Quote, QuoteError, QuoteRequest};
