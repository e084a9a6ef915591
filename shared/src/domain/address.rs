//! Wallet addresses: accepted in any case, EIP-55 checksummed on output.

use alloy_primitives::Address;
use std::fmt;
use std::str::FromStr;

/// A 20-byte Ethereum address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WalletAddress(Address);

impl WalletAddress {
    /// Parses `0x` + 40 hex digits. All-lower and all-upper hex are accepted as is; mixed case
    /// must be a valid EIP-55 checksum (a typo in a checksummed address is caught).
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        let hex = s
            .strip_prefix("0x")
            .ok_or_else(|| "must start with 0x".to_owned())?;
        if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("must be 0x followed by 40 hex digits".to_owned());
        }
        let address = Address::from_str(s).map_err(|e| e.to_string())?;
        let mixed = hex.bytes().any(|b| b.is_ascii_lowercase())
            && hex.bytes().any(|b| b.is_ascii_uppercase());
        if mixed && address.to_checksum(None) != s {
            return Err("has an invalid EIP-55 checksum".to_owned());
        }
        Ok(WalletAddress(address))
    }

    /// Parses an address that must be written in its EIP-55 checksummed form (as EIP-4361
    /// requires in a sign-in message).
    ///
    /// # Errors
    /// When it is not exactly the checksummed form.
    pub fn parse_checksummed(s: &str) -> Result<Self, String> {
        let address = Self::parse(s)?;
        if address.checksummed() != s {
            return Err("must be EIP-55 checksummed".to_owned());
        }
        Ok(address)
    }

    /// The EIP-55 checksummed text.
    pub fn checksummed(&self) -> String {
        self.0.to_checksum(None)
    }

    /// The raw address.
    pub fn inner(&self) -> Address {
        self.0
    }
}

impl From<Address> for WalletAddress {
    fn from(address: Address) -> Self {
        WalletAddress(address)
    }
}

impl fmt::Display for WalletAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.checksummed())
    }
}

impl serde::Serialize for WalletAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.checksummed())
    }
}

impl<'de> serde::Deserialize<'de> for WalletAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        WalletAddress::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHECKSUMMED: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    #[test]
    fn accepts_any_case_and_prints_checksummed() {
        for input in [
            CHECKSUMMED.to_owned(),
            CHECKSUMMED.to_lowercase(),
            format!("0x{}", CHECKSUMMED[2..].to_uppercase()),
        ] {
            assert_eq!(
                WalletAddress::parse(&input).map(|a| a.checksummed()),
                Ok(CHECKSUMMED.to_owned())
            );
        }
    }

    #[test]
    fn rejects_bad_checksums_and_shapes() {
        assert!(WalletAddress::parse("0x70997970c51812dc3A010C7d01b50e0d17dc79C8").is_err());
        assert!(WalletAddress::parse("70997970C51812dc3A010C7d01b50e0d17dc79C8").is_err());
        assert!(WalletAddress::parse("0x1234").is_err());
        assert!(WalletAddress::parse("0xzz997970C51812dc3A010C7d01b50e0d17dc79C8").is_err());
        assert!(WalletAddress::parse_checksummed(&CHECKSUMMED.to_lowercase()).is_err());
    }

    proptest! {
        #[test]
        fn every_address_round_trips(bytes in proptest::array::uniform20(any::<u8>())) {
            let address = WalletAddress::from(Address::from(bytes));
            prop_assert_eq!(WalletAddress::parse(&address.checksummed()), Ok(address));
            prop_assert_eq!(WalletAddress::parse(&address.checksummed().to_lowercase()), Ok(address));
        }

        #[test]
        fn parser_never_panics(s in ".*") {
            let _ = WalletAddress::parse(&s);
        }
    }
}
