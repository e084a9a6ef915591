//! When things happen: instants in ms since the Unix epoch, an event's time window (start
//! strictly before end) and an optional sale window, with the rules that tie them together.

use std::fmt;

/// An instant in ms since the Unix epoch, between 1970 and the end of year 9999 (what every
/// client date library can print; anything else is a unit mix-up such as seconds or µs).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// 9999-12-31T23:59:59.999Z.
    pub const MAX_MS: i64 = 253_402_300_799_999;

    /// Checks a client-sent instant.
    ///
    /// # Errors
    /// When it is negative or after year 9999.
    pub fn from_ms(ms: i64) -> Result<Self, String> {
        if (0..=Self::MAX_MS).contains(&ms) {
            Ok(Timestamp(ms))
        } else {
            Err(format!(
                "must be milliseconds since 1970-01-01T00:00:00Z, between 0 and {}",
                Self::MAX_MS
            ))
        }
    }

    /// Milliseconds since the epoch.
    pub fn ms(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// When an event takes place: `start < end`, always.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    start: Timestamp,
    end: Timestamp,
}

impl TimeWindow {
    /// A window from `start` to `end`.
    ///
    /// # Errors
    /// When `end` is not after `start` (the message speaks about the end).
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Self, String> {
        if start < end {
            Ok(TimeWindow { start, end })
        } else {
            Err("must be after the start".to_owned())
        }
    }

    /// The first instant.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The end (exclusive).
    pub fn end(&self) -> Timestamp {
        self.end
    }
}

/// When tickets are on sale. Either bound may be open: no start means "once published", no
/// end means "until the enclosing window ends". When both are set, `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaleWindow {
    start: Option<Timestamp>,
    end: Option<Timestamp>,
}

impl SaleWindow {
    /// A window with optional bounds.
    ///
    /// # Errors
    /// When both bounds are set and `end` is not after `start`.
    pub fn new(start: Option<Timestamp>, end: Option<Timestamp>) -> Result<Self, String> {
        match (start, end) {
            (Some(s), Some(e)) if s >= e => Err("must be after the sale start".to_owned()),
            _ => Ok(SaleWindow { start, end }),
        }
    }

    /// The sale start, if any.
    pub fn start(&self) -> Option<Timestamp> {
        self.start
    }

    /// The sale end, if any.
    pub fn end(&self) -> Option<Timestamp> {
        self.end
    }

    /// Whether this, as an event's sale window, fits the event: selling must stop by the time
    /// the event ends, and a sale that starts at or after the end would sell nothing.
    pub fn fits_event(&self, event: &TimeWindow) -> bool {
        self.end.is_none_or(|e| e <= event.end) && self.start.is_none_or(|s| s < event.end)
    }

    /// Whether this, as a ticket type's sale window, lies within `outer` (the event's sale
    /// window) for an event held during `event`. An open bound inherits the outer one, so only
    /// the bounds that are set are compared.
    pub fn within(&self, outer: &SaleWindow, event: &TimeWindow) -> bool {
        let outer_end = outer.end.unwrap_or(event.end);
        let start_ok = self
            .start
            .is_none_or(|s| outer.start.is_none_or(|os| s >= os) && s < outer_end);
        let end_ok = self
            .end
            .is_none_or(|e| e <= outer_end && outer.start.is_none_or(|os| e > os));
        start_ok && end_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_ms(ms).expect("valid")
    }

    fn sale(start: Option<i64>, end: Option<i64>) -> SaleWindow {
        SaleWindow::new(start.map(t), end.map(t)).expect("valid")
    }

    #[test]
    fn timestamps_are_bounded() {
        assert_eq!(t(0).ms(), 0);
        assert_eq!(t(Timestamp::MAX_MS).ms(), Timestamp::MAX_MS);
        assert!(Timestamp::from_ms(-1).is_err());
        assert!(Timestamp::from_ms(Timestamp::MAX_MS + 1).is_err());
    }

    #[test]
    fn windows_need_start_before_end() {
        assert!(TimeWindow::new(t(1), t(2)).is_ok());
        assert!(TimeWindow::new(t(2), t(2)).is_err());
        assert!(TimeWindow::new(t(3), t(2)).is_err());
        assert!(SaleWindow::new(Some(t(2)), Some(t(2))).is_err());
        assert!(SaleWindow::new(Some(t(2)), None).is_ok());
        assert!(SaleWindow::new(None, Some(t(2))).is_ok());
    }

    #[test]
    fn an_event_sale_must_end_by_the_event_end() {
        let event = TimeWindow::new(t(100), t(200)).expect("valid");
        assert!(sale(None, None).fits_event(&event));
        assert!(sale(Some(10), Some(200)).fits_event(&event));
        assert!(sale(Some(150), None).fits_event(&event));
        assert!(!sale(Some(10), Some(201)).fits_event(&event));
        assert!(!sale(Some(200), None).fits_event(&event));
    }

    #[test]
    fn a_ticket_sale_lies_within_the_event_sale() {
        let event = TimeWindow::new(t(100), t(200)).expect("valid");
        let outer = sale(Some(10), Some(90));
        assert!(sale(None, None).within(&outer, &event));
        assert!(sale(Some(10), Some(90)).within(&outer, &event));
        assert!(sale(Some(20), None).within(&outer, &event));
        assert!(sale(None, Some(50)).within(&outer, &event));
        assert!(!sale(Some(9), Some(50)).within(&outer, &event));
        assert!(!sale(Some(20), Some(91)).within(&outer, &event));
        assert!(!sale(Some(90), None).within(&outer, &event));
        assert!(!sale(None, Some(10)).within(&outer, &event));
        // No event sale window: the ticket sale is bounded by the event's end only.
        let open = SaleWindow::default();
        assert!(sale(Some(0), Some(200)).within(&open, &event));
        assert!(!sale(Some(0), Some(201)).within(&open, &event));
    }

    proptest! {
        #[test]
        fn within_agrees_with_the_effective_interval(
            a in 0i64..50, b in 0i64..50, c in 0i64..50, d in 0i64..50,
            ia in any::<bool>(), ib in any::<bool>(), oa in any::<bool>(), ob in any::<bool>(),
        ) {
            let event = TimeWindow::new(t(0), t(40)).expect("valid");
            let (Ok(inner), Ok(outer)) = (
                SaleWindow::new(ia.then(|| t(a)), ib.then(|| t(b))),
                SaleWindow::new(oa.then(|| t(c)), ob.then(|| t(d))),
            ) else {
                return Ok(());
            };
            if !outer.fits_event(&event) {
                return Ok(());
            }
            // The effective half-open intervals; a ticket sale must be a non-empty sub-interval.
            let (os, oe) = (outer.start.map_or(i64::MIN, Timestamp::ms), outer.end.map_or(40, Timestamp::ms));
            let (is, ie) = (inner.start.map_or(os, Timestamp::ms), inner.end.map_or(oe, Timestamp::ms));
            let expected = is >= os && ie <= oe && is < ie;
            prop_assert_eq!(inner.within(&outer, &event), expected);
        }
    }
}
