//! An event's own values: its lifecycle status, the texts organizers write, free-form
//! metadata, and the id of its on-chain twin.

use super::money::parse_u256_decimal;
use super::text::{Lines, text_newtype};
use std::fmt;

/// Where an event is in its life. `draft → published → cancelled`, or `draft → cancelled`;
/// nothing leaves `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    /// Being prepared; invisible to the public.
    Draft,
    /// On the public catalog.
    Published,
    /// Called off; visible with this status, read-only.
    Cancelled,
}

impl EventStatus {
    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(EventStatus::Draft),
            "published" => Some(EventStatus::Published),
            "cancelled" => Some(EventStatus::Cancelled),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Draft => "draft",
            EventStatus::Published => "published",
            EventStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the event, its ticket types and its seats may still change.
    pub fn is_editable(self) -> bool {
        matches!(self, EventStatus::Draft | EventStatus::Published)
    }

    /// Whether the public may see the event.
    pub fn is_public(self) -> bool {
        !matches!(self, EventStatus::Draft)
    }

    /// The status after publishing, if publishing is allowed from here.
    pub fn publish(self) -> Option<Self> {
        (self == EventStatus::Draft).then_some(EventStatus::Published)
    }

    /// The status after cancelling, if cancelling is allowed from here.
    pub fn cancel(self) -> Option<Self> {
        self.is_editable().then_some(EventStatus::Cancelled)
    }
}

impl fmt::Display for EventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_newtype!(
    /// An event's title: one line of 1 to 200 characters.
    EventTitle,
    1,
    200,
    Lines::Single
);

text_newtype!(
    /// An event's description: up to 10,000 characters, line breaks allowed.
    EventDescription,
    0,
    10_000,
    Lines::Multi
);

text_newtype!(
    /// Where an event takes place: one line of up to 200 characters (may be empty while the
    /// event is a draft).
    Venue,
    0,
    200,
    Lines::Single
);

/// Free-form JSON the organizer attaches to an event (artwork URLs, genre, …): always an
/// object, at most [`EventMetadata::MAX_BYTES`] serialised, so one event cannot bloat every
/// cached catalog page.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(transparent)]
pub struct EventMetadata(serde_json::Map<String, serde_json::Value>);

impl EventMetadata {
    /// Largest serialised size.
    pub const MAX_BYTES: usize = 16 * 1024;

    /// Checks a client-sent value.
    ///
    /// # Errors
    /// When it is not an object or too large.
    pub fn parse(value: serde_json::Value) -> Result<Self, String> {
        let serde_json::Value::Object(map) = value else {
            return Err("must be a JSON object".to_owned());
        };
        let metadata = EventMetadata(map);
        if metadata.to_json_text().len() > Self::MAX_BYTES {
            return Err(format!("must be at most {} bytes as JSON", Self::MAX_BYTES));
        }
        Ok(metadata)
    }

    /// The compact JSON text (as stored).
    pub fn to_json_text(&self) -> String {
        serde_json::Value::Object(self.0.clone()).to_string()
    }

    /// Reads the stored JSON text back; `None` when it is not an object.
    pub fn from_stored(text: &str) -> Option<Self> {
        match serde_json::from_str(text) {
            Ok(serde_json::Value::Object(map)) => Some(EventMetadata(map)),
            _ => None,
        }
    }
}

/// The event's id in the ticketing contract: a uint256, as a canonical decimal string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ChainEventId(String);

impl ChainEventId {
    /// Parses the canonical decimal form (no leading zeros, at most `2^256 - 1`).
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_u256_decimal(s).map(|_| ChainEventId(s.to_owned()))
    }

    /// The decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_transitions() {
        use EventStatus::*;
        assert_eq!(Draft.publish(), Some(Published));
        assert_eq!(Published.publish(), None);
        assert_eq!(Cancelled.publish(), None);
        assert_eq!(Draft.cancel(), Some(Cancelled));
        assert_eq!(Published.cancel(), Some(Cancelled));
        assert_eq!(Cancelled.cancel(), None);
        assert!(!Cancelled.is_editable());
        assert!(!Draft.is_public() && Published.is_public() && Cancelled.is_public());
        for status in [Draft, Published, Cancelled] {
            assert_eq!(EventStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(EventStatus::parse("Draft"), None);
    }

    #[test]
    fn titles_are_one_line_of_1_to_200_chars() {
        assert_eq!(
            EventTitle::parse("  Rust Conf ").map(|t| t.as_str().to_owned()),
            Ok("Rust Conf".to_owned())
        );
        assert!(EventTitle::parse("").is_err());
        assert!(EventTitle::parse(" \t ").is_err());
        assert!(EventTitle::parse("a\nb").is_err());
        assert!(EventTitle::parse(&"é".repeat(200)).is_ok());
        assert!(EventTitle::parse(&"é".repeat(201)).is_err());
    }

    #[test]
    fn descriptions_and_venues() {
        assert!(EventDescription::parse("").is_ok());
        assert!(EventDescription::parse("line 1\nline 2").is_ok());
        assert!(EventDescription::parse(&"x".repeat(10_001)).is_err());
        assert!(Venue::parse("").is_ok());
        assert!(Venue::parse("Hall\nB").is_err());
    }

    #[test]
    fn metadata_is_a_bounded_object() {
        let metadata = EventMetadata::parse(json!({"genre": "jazz", "n": [1, 2]})).expect("ok");
        assert_eq!(metadata.to_json_text(), r#"{"genre":"jazz","n":[1,2]}"#);
        assert_eq!(
            EventMetadata::from_stored(&metadata.to_json_text()),
            Some(metadata)
        );
        for bad in [json!([]), json!("x"), json!(null), json!(1)] {
            assert!(EventMetadata::parse(bad).is_err());
        }
        let big = json!({"x": "y".repeat(EventMetadata::MAX_BYTES)});
        assert!(EventMetadata::parse(big).is_err());
        assert_eq!(EventMetadata::from_stored("[]"), None);
    }

    #[test]
    fn chain_event_ids_are_canonical_uint256() {
        assert_eq!(
            ChainEventId::parse("42").map(|c| c.as_str().to_owned()),
            Ok("42".into())
        );
        assert!(ChainEventId::parse("042").is_err());
        assert!(ChainEventId::parse("0x2a").is_err());
    }
}
