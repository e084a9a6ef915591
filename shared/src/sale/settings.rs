//! Per-event sale settings, validated once.

use serde::{Deserialize, Serialize};

/// How arrivals before the start are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueMode {
    /// First come, first served, also before the start.
    Fifo,
    /// Arrivals before the start get a random order, fixed once at the start (a lottery, so
    /// refreshing at 09:59:59.999 buys nothing); FIFO after the start.
    Random,
}

/// An event's sale settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleSettings {
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    /// New shoppers admitted per minute.
    pub admission_per_minute: u32,
    /// Shoppers inside at once (bounds the admission rate over one session length).
    pub max_active: u32,
    pub queue_mode: QueueMode,
    /// How long a hold lasts, 30–1800 s.
    pub hold_ttl_secs: u32,
    pub per_wallet_limit: u32,
    /// How long an order may wait for payment.
    pub payment_window_secs: u32,
    /// How long an admission lasts (the shopping session).
    pub session_secs: u32,
    /// Whether holds and orders need an admission token from the waiting room.
    pub waiting_room: bool,
    /// How long after paying a ticket holder may refund their own order (0: only the
    /// organizer or an admin may refund).
    pub refund_window_secs: u32,
    /// How long a seat freed by a refund stays reserved for the next waitlisted wallet.
    pub waitlist_offer_secs: u32,
}

/// A setting out of range, with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SaleSettingsError {
    pub field: &'static str,
    pub message: String,
}

fn check(ok: bool, field: &'static str, message: &str) -> Result<(), SaleSettingsError> {
    if ok {
        Ok(())
    } else {
        Err(SaleSettingsError {
            field,
            message: message.to_owned(),
        })
    }
}

impl SaleSettings {
    /// Defaults of the issue: hold 120 s, payment window 15 min, session 10 min.
    pub const DEFAULT_HOLD_TTL_SECS: u32 = 120;
    pub const DEFAULT_PAYMENT_WINDOW_SECS: u32 = 15 * 60;
    pub const DEFAULT_SESSION_SECS: u32 = 10 * 60;
    pub const DEFAULT_REFUND_WINDOW_SECS: u32 = 24 * 3600;
    pub const DEFAULT_WAITLIST_OFFER_SECS: u32 = 30 * 60;

    /// Checks every rule.
    ///
    /// # Errors
    /// The first setting out of range.
    pub fn validate(self) -> Result<SaleSettings, SaleSettingsError> {
        check(
            self.starts_at_ms < self.ends_at_ms,
            "endsAt",
            "must be after startsAt",
        )?;
        check(
            self.admission_per_minute >= 1,
            "admissionPerMinute",
            "must be at least 1",
        )?;
        check(self.max_active >= 1, "maxActive", "must be at least 1")?;
        check(
            (30..=1800).contains(&self.hold_ttl_secs),
            "holdTtlSecs",
            "must be between 30 and 1800",
        )?;
        check(
            self.per_wallet_limit >= 1,
            "perWalletLimit",
            "must be at least 1",
        )?;
        check(
            (60..=24 * 3600).contains(&self.payment_window_secs),
            "paymentWindowSecs",
            "must be between 60 and 86400",
        )?;
        check(
            (60..=4 * 3600).contains(&self.session_secs),
            "sessionSecs",
            "must be between 60 and 14400",
        )?;
        check(
            self.refund_window_secs <= 365 * 86_400,
            "refundWindowSecs",
            "must be at most 31536000",
        )?;
        check(
            (60..=7 * 86_400).contains(&self.waitlist_offer_secs),
            "waitlistOfferSecs",
            "must be between 60 and 604800",
        )?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> SaleSettings {
        SaleSettings {
            starts_at_ms: 1_000_000,
            ends_at_ms: 9_000_000,
            admission_per_minute: 600,
            max_active: 1_000,
            queue_mode: QueueMode::Fifo,
            hold_ttl_secs: SaleSettings::DEFAULT_HOLD_TTL_SECS,
            per_wallet_limit: 4,
            payment_window_secs: SaleSettings::DEFAULT_PAYMENT_WINDOW_SECS,
            session_secs: SaleSettings::DEFAULT_SESSION_SECS,
            waiting_room: true,
            refund_window_secs: SaleSettings::DEFAULT_REFUND_WINDOW_SECS,
            waitlist_offer_secs: SaleSettings::DEFAULT_WAITLIST_OFFER_SECS,
        }
    }

    #[test]
    fn validates_each_rule_and_names_the_field() {
        assert_eq!(sample().validate(), Ok(sample()));
        let field = |s: SaleSettings| s.validate().map_err(|e| e.field).err();
        assert_eq!(
            field(SaleSettings {
                ends_at_ms: 1_000_000,
                ..sample()
            }),
            Some("endsAt")
        );
        assert_eq!(
            field(SaleSettings {
                hold_ttl_secs: 29,
                ..sample()
            }),
            Some("holdTtlSecs")
        );
        assert_eq!(
            field(SaleSettings {
                hold_ttl_secs: 1801,
                ..sample()
            }),
            Some("holdTtlSecs")
        );
        assert_eq!(
            field(SaleSettings {
                admission_per_minute: 0,
                ..sample()
            }),
            Some("admissionPerMinute")
        );
        assert_eq!(
            field(SaleSettings {
                per_wallet_limit: 0,
                ..sample()
            }),
            Some("perWalletLimit")
        );
        assert_eq!(
            field(SaleSettings {
                max_active: 0,
                ..sample()
            }),
            Some("maxActive")
        );
    }

    #[test]
    fn serialises_in_camel_case() {
        let json = serde_json::to_value(sample()).expect("json");
        assert_eq!(json["queueMode"], "fifo");
        assert_eq!(json["holdTtlSecs"], 120);
    }
}
