//! The waiting room's admission cursor, computed from time and settings alone, so admitting
//! needs no scheduler and is O(1) per request (Cloudflare Waiting Room works the same way).
//!
//! Positions are 0-based places in line. Since the start, `rate × minutes` places have been
//! admitted; the rate is capped at `max_active` per session length, so at most `max_active`
//! shoppers are inside at once (each admission lasts one session).

use super::SaleSettings;

/// The admission state at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Admission {
    /// Places `0..cursor` are admitted.
    pub cursor: u64,
    /// Admissions per minute actually applied.
    pub effective_per_minute: f64,
}

/// Where one place stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueStanding {
    pub admitted: bool,
    pub ahead: u64,
    pub estimated_wait_secs: u64,
    /// When to poll again (short near the front, longer further back; at least 1 s).
    pub poll_after_secs: u64,
}

impl Admission {
    /// The cursor at `now_ms`.
    pub fn at(settings: &SaleSettings, now_ms: i64) -> Admission {
        let session_minutes = f64::from(settings.session_secs) / 60.0;
        let capped = f64::from(settings.max_active) / session_minutes;
        let effective_per_minute = f64::from(settings.admission_per_minute).min(capped);
        let elapsed_minutes = (now_ms - settings.starts_at_ms).max(0) as f64 / 60_000.0;
        let cursor = if now_ms < settings.starts_at_ms {
            0
        } else {
            (effective_per_minute * elapsed_minutes).floor() as u64
        };
        Admission {
            cursor,
            effective_per_minute,
        }
    }

    /// When place `position` is (or was) admitted: the first instant the cursor passes it.
    pub fn admitted_at_ms(settings: &SaleSettings, position: u64) -> i64 {
        let per_minute = Admission::at(settings, settings.starts_at_ms).effective_per_minute;
        let minutes = (position + 1) as f64 / per_minute;
        settings.starts_at_ms + (minutes * 60_000.0).ceil() as i64
    }

    /// The standing of `position`.
    pub fn standing(&self, position: u64) -> QueueStanding {
        if position < self.cursor {
            return QueueStanding {
                admitted: true,
                ahead: 0,
                estimated_wait_secs: 0,
                poll_after_secs: 0,
            };
        }
        let ahead = position - self.cursor;
        let estimated_wait_secs =
            ((ahead + 1) as f64 / self.effective_per_minute * 60.0).ceil() as u64;
        QueueStanding {
            admitted: false,
            ahead,
            estimated_wait_secs,
            poll_after_secs: (estimated_wait_secs / 4).clamp(1, 30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sale::QueueMode;

    fn settings(rate: u32, max_active: u32) -> SaleSettings {
        SaleSettings {
            starts_at_ms: 60_000,
            ends_at_ms: 10_000_000,
            admission_per_minute: rate,
            max_active,
            queue_mode: QueueMode::Fifo,
            hold_ttl_secs: 120,
            per_wallet_limit: 4,
            payment_window_secs: 900,
            session_secs: 600,
            waiting_room: true,
            refund_window_secs: 0,
            waitlist_offer_secs: 1800,
        }
    }

    #[test]
    fn nobody_is_admitted_before_the_start() {
        let admission = Admission::at(&settings(100, 10_000), 59_999);
        assert_eq!(admission.cursor, 0);
        assert!(!admission.standing(0).admitted);
    }

    #[test]
    fn admits_rate_times_minutes() {
        let s = settings(100, 10_000);
        assert_eq!(Admission::at(&s, 60_000).cursor, 0);
        assert_eq!(Admission::at(&s, 60_000 + 30_000).cursor, 50);
        assert_eq!(Admission::at(&s, 60_000 + 3 * 60_000).cursor, 300);
        let at = Admission::at(&s, 60_000 + 60_000);
        assert!(at.standing(99).admitted);
        let next = at.standing(100);
        assert_eq!(
            (next.admitted, next.ahead, next.estimated_wait_secs),
            (false, 0, 1)
        );
        assert_eq!(at.standing(399).estimated_wait_secs, 180);
    }

    #[test]
    fn admitted_at_is_when_the_cursor_passes_the_place() {
        let s = settings(100, 10_000);
        for position in [0, 1, 99, 100, 12_345] {
            let at = Admission::admitted_at_ms(&s, position);
            assert!(
                Admission::at(&s, at).standing(position).admitted,
                "{position}"
            );
            assert!(
                !Admission::at(&s, at - 1).standing(position).admitted,
                "{position}"
            );
        }
    }

    #[test]
    fn max_active_caps_the_rate_per_session() {
        // 1,000 a minute but only 500 inside per 10-minute session: 50 a minute.
        let s = settings(1_000, 500);
        let at = Admission::at(&s, 60_000 + 10 * 60_000);
        assert_eq!(at.effective_per_minute, 50.0);
        assert_eq!(at.cursor, 500);
    }

    #[test]
    fn the_cursor_never_goes_back() {
        let s = settings(37, 1_000);
        let mut last = 0;
        for t in (60_000..3_600_000).step_by(7_919) {
            let cursor = Admission::at(&s, t).cursor;
            assert!(cursor >= last);
            last = cursor;
        }
    }
}
