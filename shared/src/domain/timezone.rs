//! An event's IANA time zone name, for clients that render its local times.
//!
//! We store times as UTC instants and never convert with the zone ourselves (no tz database in
//! a Wasm bundle that must stay small), so the name is checked for shape, not looked up: `UTC`
//! or an IANA area followed by one or two location segments (`Europe/Paris`,
//! `America/Argentina/Buenos_Aires`, `Etc/GMT+5`).

use std::fmt;

/// The areas of the IANA tz database (its top-level directories, stable for decades).
const AREAS: &[&str] = &[
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "Etc",
];

/// Longest accepted name (the longest IANA name has 32 characters).
const MAX_LEN: usize = 64;

/// An IANA-like time zone name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct TimeZone(String);

impl TimeZone {
    /// Parses `UTC` or `Area/Location[/Sub]`.
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "UTC" {
            return Ok(TimeZone(s.to_owned()));
        }
        let bad = || format!("must be UTC or an IANA name such as Europe/Paris, not {s:?}");
        if s.len() > MAX_LEN {
            return Err(bad());
        }
        let mut segments = s.split('/');
        let area = segments.next().unwrap_or_default();
        let rest: Vec<&str> = segments.collect();
        let location_ok = |segment: &&str| {
            segment
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_uppercase())
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
        };
        if AREAS.contains(&area) && (1..=2).contains(&rest.len()) && rest.iter().all(location_ok) {
            Ok(TimeZone(s.to_owned()))
        } else {
            Err(bad())
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone("UTC".to_owned())
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_utc_and_iana_names() {
        for good in [
            "UTC",
            "Europe/Paris",
            "America/Argentina/Buenos_Aires",
            "America/Port-au-Prince",
            "Etc/GMT+5",
            "Asia/Ho_Chi_Minh",
        ] {
            assert_eq!(
                TimeZone::parse(good).map(|z| z.to_string()),
                Ok(good.into())
            );
        }
        assert_eq!(TimeZone::default().as_str(), "UTC");
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "utc",
            "Paris",
            "Mars/Olympus",
            "Europe/",
            "Europe/paris",
            "Europe//Paris",
            "Europe/Paris/Left/Bank",
            "Europe/Pa ris",
            "Europe/Paris ",
            "+02:00",
        ] {
            assert!(TimeZone::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in ".*") {
            let _ = TimeZone::parse(&s);
        }
    }
}
