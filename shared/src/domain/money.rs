//! Prices: an [`Amount`] of minor units or wei, and the [`Currency`] it is counted in.
//!
//! Amounts travel as decimal strings, never JSON numbers: wei values overflow an `f64` (and
//! JavaScript's numbers) long before they get large, and one rounding is one wrong charge.
//! The canonical form (no sign, no leading zeros, no spaces) is the only one accepted, so two
//! equal amounts are always equal strings, in SQL comparisons too.

use super::WalletAddress;
use alloy_primitives::U256;
use std::fmt;

/// Digits of `2^256 - 1`: no uint256 has more.
pub const MAX_AMOUNT_DIGITS: usize = 78;

/// Parses a canonical decimal uint256. Shared by [`Amount`] and on-chain ids.
pub(crate) fn parse_u256_decimal(s: &str) -> Result<U256, String> {
    if s.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a decimal integer string (digits only, no sign or point)".to_owned());
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err("must not have leading zeros".to_owned());
    }
    if s.len() > MAX_AMOUNT_DIGITS {
        return Err(format!("must have at most {MAX_AMOUNT_DIGITS} digits"));
    }
    U256::from_str_radix(s, 10).map_err(|_| "must fit in 256 bits".to_owned())
}

/// A non-negative amount in the currency's smallest unit (cents, wei, token base units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Amount(U256);

impl Amount {
    /// Zero (free tickets are legitimate).
    pub const ZERO: Amount = Amount(U256::ZERO);

    /// Parses the canonical decimal form: `0`, or digits without a leading zero, at most 78 of
    /// them, at most `2^256 - 1`.
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_u256_decimal(s).map(Amount)
    }

    /// The value.
    pub fn value(&self) -> U256 {
        self.0
    }
}

impl From<u128> for Amount {
    fn from(v: u128) -> Self {
        Amount(U256::from(v))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a price is counted in: a currency or token symbol for off-chain prices, or an ERC-20
/// token contract for on-chain ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Currency {
    /// A symbol such as `USD`, `EUR`, `ETH`, `USDC`: 3 to 10 upper-case letters or digits,
    /// starting with a letter.
    Symbol(String),
    /// An ERC-20 token, by contract address.
    Token(WalletAddress),
}

impl Currency {
    /// Parses a symbol or a `0x…` token address (any case; printed EIP-55).
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.starts_with("0x") {
            return WalletAddress::parse(s)
                .map(Currency::Token)
                .map_err(|e| format!("token address {e}"));
        }
        let symbol_ok = (3..=10).contains(&s.len())
            && s.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if symbol_ok {
            Ok(Currency::Symbol(s.to_owned()))
        } else {
            Err("must be a symbol of 3 to 10 upper-case letters or digits (USD, ETH, USDC) or a 0x token address".to_owned())
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Currency::Symbol(s) => f.write_str(s),
            Currency::Token(address) => f.write_str(&address.checksummed()),
        }
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: &str =
        "115792089237316195423570985008687907853269984665640564039457584007913129639935";

    #[test]
    fn accepts_canonical_amounts() {
        assert_eq!(Amount::parse("0"), Ok(Amount::ZERO));
        assert_eq!(
            Amount::parse("1500").map(|a| a.to_string()),
            Ok("1500".into())
        );
        assert_eq!(MAX.len(), MAX_AMOUNT_DIGITS);
        assert_eq!(Amount::parse(MAX).map(|a| a.value()), Ok(U256::MAX));
    }

    #[test]
    fn rejects_other_spellings() {
        for bad in [
            "", "00", "01", "-1", "+1", "1.5", "1e18", " 1", "1 ", "0x10", "١٢", "1_000",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad:?}");
        }
        // 2^256 has 78 digits but does not fit; 79 digits never do.
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert_eq!(Amount::parse(over), Err("must fit in 256 bits".to_owned()));
        assert!(Amount::parse(&"9".repeat(79)).is_err());
    }

    #[test]
    fn currencies_are_symbols_or_tokens() {
        let token = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
        assert_eq!(
            Currency::parse(token).map(|c| c.to_string()),
            Ok("0x70997970C51812dc3A010C7d01b50e0d17dc79C8".to_owned())
        );
        for good in ["USD", "ETH", "USDC", "EURC2"] {
            assert_eq!(Currency::parse(good), Ok(Currency::Symbol(good.into())));
        }
        for bad in ["usd", "US", "1USD", "USDOLLARSXX", "", "0x12", "U-S"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn every_u128_round_trips(v in any::<u128>()) {
            let amount = Amount::parse(&v.to_string());
            prop_assert_eq!(amount, Ok(Amount::from(v)));
        }

        #[test]
        fn every_u256_round_trips(limbs in proptest::array::uniform4(any::<u64>())) {
            let value = U256::from_limbs(limbs);
            let text = value.to_string();
            prop_assert_eq!(Amount::parse(&text).map(|a| a.to_string()), Ok(text));
        }

        #[test]
        fn leading_zeros_are_rejected(v in any::<u64>(), zeros in 1usize..5) {
            let text = format!("{}{v}", "0".repeat(zeros));
            prop_assert!(Amount::parse(&text).is_err());
        }

        #[test]
        fn accepted_text_is_exactly_what_is_printed(s in "[0-9]{0,80}|.{0,20}") {
            if let Ok(amount) = Amount::parse(&s) {
                prop_assert_eq!(amount.to_string(), s);
            }
        }
    }
}
