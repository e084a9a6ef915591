//! Chain identifiers and block heights.

use std::fmt;
use std::str::FromStr;

/// An EIP-155 chain id (1 mainnet, 31337 anvil, …). Never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ChainId(u64);

impl ChainId {
    /// Wraps a chain id read from a trusted source (a node's `eth_chainId`).
    pub fn new(id: u64) -> Option<ChainId> {
        (id != 0).then_some(ChainId(id))
    }

    /// The numeric id.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl FromStr for ChainId {
    type Err = String;

    /// Parses a decimal chain id.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let id: u64 = s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a decimal chain id"))?;
        ChainId::new(id).ok_or_else(|| "chain id must not be 0".to_owned())
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A block height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct BlockNumber(pub u64);

impl fmt::Display for BlockNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_decimal_ids_and_rejects_zero() {
        assert_eq!("31337".parse::<ChainId>().map(ChainId::get), Ok(31337));
        assert!("0".parse::<ChainId>().is_err());
        assert!("0x1".parse::<ChainId>().is_err());
        assert!("".parse::<ChainId>().is_err());
    }

    proptest! {
        #[test]
        fn every_nonzero_id_round_trips(id in 1u64..) {
            prop_assert_eq!(id.to_string().parse::<ChainId>().map(ChainId::get), Ok(id));
        }

        #[test]
        fn parser_never_panics(s in ".*") {
            let _ = s.parse::<ChainId>();
        }
    }
}
