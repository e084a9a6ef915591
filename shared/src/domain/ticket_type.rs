//! A ticket type's own values: its name, how many exist, and how many one wallet may buy.

use super::text::{Lines, text_newtype};

text_newtype!(
    /// A ticket type's name (`General admission`, `VIP`): one line of 1 to 100 characters.
    TicketTypeName,
    1,
    100,
    Lines::Single
);

/// The most tickets of one type. Far above any venue; a larger number is a typo (an extra
/// zero or a price pasted into the wrong field), and holds/queues size their keys by it.
pub const MAX_SUPPLY: u32 = 10_000_000;

/// How many tickets of a type exist: `0..=MAX_SUPPLY` (0 is a type announced but not yet
/// released).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Supply(u32);

impl Supply {
    /// Checks a client-sent count.
    ///
    /// # Errors
    /// When it is negative or above [`MAX_SUPPLY`].
    pub fn new(n: i64) -> Result<Self, String> {
        u32::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_SUPPLY)
            .map(Supply)
            .ok_or_else(|| format!("must be between 0 and {MAX_SUPPLY}"))
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// How many tickets of a type one wallet may buy: `1..=MAX_SUPPLY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct PerWalletLimit(u32);

impl PerWalletLimit {
    /// Checks a client-sent limit.
    ///
    /// # Errors
    /// When it is below 1 or above [`MAX_SUPPLY`].
    pub fn new(n: i64) -> Result<Self, String> {
        u32::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_SUPPLY).contains(n))
            .map(PerWalletLimit)
            .ok_or_else(|| format!("must be between 1 and {MAX_SUPPLY}"))
    }

    /// The limit.
    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supply_is_zero_or_more_and_bounded() {
        assert_eq!(Supply::new(0).map(Supply::get), Ok(0));
        assert_eq!(Supply::new(500).map(Supply::get), Ok(500));
        assert!(Supply::new(i64::from(MAX_SUPPLY)).is_ok());
        assert!(Supply::new(-1).is_err());
        assert!(Supply::new(i64::from(MAX_SUPPLY) + 1).is_err());
        assert!(Supply::new(i64::MAX).is_err());
    }

    #[test]
    fn per_wallet_limit_is_one_or_more() {
        assert_eq!(PerWalletLimit::new(1).map(PerWalletLimit::get), Ok(1));
        assert!(PerWalletLimit::new(0).is_err());
        assert!(PerWalletLimit::new(-4).is_err());
    }

    #[test]
    fn names_are_one_line() {
        assert!(TicketTypeName::parse("VIP").is_ok());
        assert!(TicketTypeName::parse("").is_err());
        assert!(TicketTypeName::parse(&"x".repeat(101)).is_err());
    }
}
