//! A seat in a venue's seat map: its unique label and the static attributes printed on the
//! ticket (section, row, number).

use super::text::{Lines, text_newtype};

/// The most seats one event's map may hold (one upload is one atomic batch; the limit keeps
/// that batch and the cached seat map a bounded size).
pub const MAX_SEATS: usize = 10_000;

text_newtype!(
    /// A seat's label, unique within its event (`A-12`, `Balcony 3/7`): one line of 1 to 32
    /// characters. Labels are compared exactly: `a1` and `A1` are two seats.
    SeatLabel,
    1,
    32,
    Lines::Single
);

text_newtype!(
    /// A printed attribute of a seat (section, row or number): one line of up to 32
    /// characters, possibly empty.
    SeatAttribute,
    0,
    32,
    Lines::Single
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short_single_lines() {
        assert_eq!(
            SeatLabel::parse(" A-12 ").map(|l| l.as_str().to_owned()),
            Ok("A-12".to_owned())
        );
        assert!(SeatLabel::parse("").is_err());
        assert!(SeatLabel::parse(&"x".repeat(33)).is_err());
        assert!(SeatAttribute::parse("").is_ok());
        assert!(SeatAttribute::parse("Row\n1").is_err());
    }
}
