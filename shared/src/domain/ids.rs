//! Catalog identifiers: a type prefix plus 20 random lower-case hex digits (`evt_…`, `tt_…`).
//!
//! The prefix makes an id say what it names in logs and support tickets (Stripe's style), and
//! parsing checks it, so a ticket-type id can never be used where an event id is expected.

use crate::ports::Rng;
use std::fmt;

/// Random bytes per id: 80 bits, so collisions stay negligible far beyond any catalog size.
const RANDOM_BYTES: usize = 10;

fn parse_prefixed(s: &str, prefix: &str) -> Result<String, String> {
    let hex = s
        .strip_prefix(prefix)
        .ok_or_else(|| format!("must start with {prefix}"))?;
    if hex.len() != RANDOM_BYTES * 2
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "must be {prefix} followed by {} lower-case hex digits",
            RANDOM_BYTES * 2
        ));
    }
    Ok(s.to_owned())
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh random id.
            ///
            /// # Errors
            /// As [`Rng::fill`]: the platform's generator failed.
            pub fn generate(rng: &impl Rng) -> Result<Self, crate::error::Error> {
                Ok($name(format!("{}{}", Self::PREFIX, rng.hex(RANDOM_BYTES)?)))
            }

            /// Parses an id as this API prints it.
            ///
            /// # Errors
            /// A message saying what is wrong.
            pub fn parse(s: &str) -> Result<Self, String> {
                parse_prefixed(s, Self::PREFIX).map($name)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// An event's id (`evt_` + 20 hex digits).
    EventId,
    "evt_"
);

prefixed_id!(
    /// A ticket type's id (`tt_` + 20 hex digits).
    TicketTypeId,
    "tt_"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Rng;
    use proptest::prelude::*;

    struct Counting;
    impl Rng for Counting {
        fn fill(&self, buf: &mut [u8]) -> Result<(), crate::error::Error> {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = i as u8;
            }
            Ok(())
        }
    }

    #[test]
    fn generated_ids_parse_and_carry_their_prefix() {
        let id = EventId::generate(&Counting).expect("the fake never fails");
        assert_eq!(id.as_str(), "evt_00010203040506070809");
        assert_eq!(EventId::parse(id.as_str()), Ok(id));
        let tt = TicketTypeId::generate(&Counting).expect("the fake never fails");
        assert_eq!(tt.as_str(), "tt_00010203040506070809");
        assert_eq!(TicketTypeId::parse(tt.as_str()), Ok(tt));
    }

    #[test]
    fn rejects_other_kinds_and_shapes() {
        assert!(EventId::parse("tt_00010203040506070809").is_err());
        assert!(TicketTypeId::parse("evt_00010203040506070809").is_err());
        assert!(EventId::parse("evt_0001020304050607080").is_err());
        assert!(EventId::parse("evt_000102030405060708090").is_err());
        assert!(EventId::parse("evt_0001020304050607080A").is_err());
        assert!(EventId::parse("evt_0001020304050607080g").is_err());
        assert!(EventId::parse("").is_err());
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in ".*") {
            let _ = EventId::parse(&s);
            let _ = TicketTypeId::parse(&s);
        }
    }
}
