//! The instance's aggregate of HTTP samples not yet flushed to Redis.
//!
//! Module-level state is per instance: a Workers isolate or a reused Wasm instance keeps it
//! between requests, a fresh instance starts empty. Wasm runs one thread, and every borrow here
//! ends before the caller awaits, so concurrent requests interleaving in one instance (workerd,
//! wasi:http p3) never see it borrowed.

use super::{Sample, increments};
use shared::config::MetricsConfig;
use std::cell::RefCell;
use std::collections::BTreeMap;

thread_local! {
    static PENDING: RefCell<Batch> = RefCell::default();
}

/// Aggregated hash increments and how many samples they hold.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    fields: BTreeMap<String, i64>,
    samples: u32,
    /// When the oldest sample in the batch was taken (ms).
    oldest_ms: Option<u64>,
}

impl Batch {
    /// Adds one sample taken at `now_ms`.
    pub fn add(&mut self, sample: &Sample, now_ms: u64) {
        for (field, by) in increments(sample) {
            let total = self.fields.entry(field).or_default();
            *total = total.saturating_add(by);
        }
        self.samples = self.samples.saturating_add(1);
        self.oldest_ms = Some(self.oldest_ms.map_or(now_ms, |t| t.min(now_ms)));
    }

    /// Adds another batch (a flush that failed, given back).
    pub fn merge(&mut self, other: Batch) {
        for (field, by) in other.fields {
            let total = self.fields.entry(field).or_default();
            *total = total.saturating_add(by);
        }
        self.samples = self.samples.saturating_add(other.samples);
        self.oldest_ms = match (self.oldest_ms, other.oldest_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Field → increment.
    pub fn fields(&self) -> &BTreeMap<String, i64> {
        &self.fields
    }

    /// How many samples the batch holds.
    #[cfg(test)]
    pub fn samples(&self) -> u32 {
        self.samples
    }

    fn is_due(&self, now_ms: u64, policy: FlushPolicy) -> bool {
        if self.samples == 0 {
            return false;
        }
        policy.every_request
            || self.samples >= policy.max_samples
            || self
                .oldest_ms
                .is_some_and(|t| now_ms.saturating_sub(t) >= policy.max_age_ms)
    }
}

/// When the aggregate is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushPolicy {
    pub max_age_ms: u64,
    pub max_samples: u32,
    /// The host makes a fresh instance per request: whatever is pending is lost at its end.
    pub every_request: bool,
}

impl FlushPolicy {
    /// The configured thresholds; `every_request` on hosts without instance reuse.
    pub fn new(config: &MetricsConfig, every_request: bool) -> Self {
        FlushPolicy {
            max_age_ms: config.flush_secs.saturating_mul(1_000),
            max_samples: config.flush_samples,
            every_request,
        }
    }
}

/// Adds a request's sample and, when `may_flush` and the aggregate is due, takes it for
/// flushing. A request that may not flush, on a host that makes an instance per request, is not
/// counted at all: its sample could only be lost with the instance, or be carried by a later
/// request only when the host happens to reuse the instance, which would make the counter
/// depend on the host's mood.
pub fn record(sample: &Sample, now_ms: u64, policy: FlushPolicy, may_flush: bool) -> Option<Batch> {
    if !may_flush && policy.every_request {
        return None;
    }
    PENDING.with_borrow_mut(|pending| {
        pending.add(sample, now_ms);
        (may_flush && pending.is_due(now_ms, policy)).then(|| std::mem::take(pending))
    })
}

/// Adds `by` to counter `field` (an event that is not a request, e.g. a Redis error the rate
/// limiter rode over); it is flushed with the request samples.
pub fn count(field: String, by: i64) {
    PENDING.with_borrow_mut(|pending| {
        let total = pending.fields.entry(field).or_default();
        *total = total.saturating_add(by);
    });
}

/// Takes whatever is pending (for `/metrics`), if anything.
pub fn take() -> Option<Batch> {
    PENDING.with_borrow_mut(|pending| {
        (pending.samples > 0 || !pending.fields.is_empty()).then(|| std::mem::take(pending))
    })
}

/// Gives back a batch whose flush surely did not reach Redis, for the next flush.
pub fn restore(batch: Batch) {
    PENDING.with_borrow_mut(|pending| pending.merge(batch));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(route: &'static str, duration_ms: u64) -> Sample {
        Sample {
            method: "GET",
            route,
            status: 200,
            duration_ms,
        }
    }

    const POLICY: FlushPolicy = FlushPolicy {
        max_age_ms: 10_000,
        max_samples: 3,
        every_request: false,
    };

    #[test]
    fn flushes_after_enough_samples_with_their_sum() {
        let _ = take();
        assert_eq!(record(&sample("/a", 4), 0, POLICY, true), None);
        assert_eq!(record(&sample("/a", 30), 1, POLICY, true), None);
        let batch = record(&sample("/b", 1), 2, POLICY, true).expect("third sample is due");
        assert_eq!(batch.samples(), 3);
        assert_eq!(batch.fields()["req|GET|/a|200"], 2);
        assert_eq!(batch.fields()["sum_ms|GET|/a"], 34);
        assert_eq!(batch.fields()["bucket|GET|/a|0"], 1);
        assert_eq!(batch.fields()["bucket|GET|/a|3"], 1);
        assert_eq!(take(), None, "the aggregate was emptied");
    }

    #[test]
    fn flushes_when_the_oldest_sample_is_old_enough() {
        let _ = take();
        assert_eq!(record(&sample("/a", 1), 1_000, POLICY, true), None);
        assert_eq!(record(&sample("/a", 1), 10_999, POLICY, true), None);
        assert!(record(&sample("/a", 1), 11_000, POLICY, true).is_some());
    }

    #[test]
    fn a_request_that_may_not_flush_only_adds_its_sample() {
        let _ = take();
        for t in 0..5 {
            assert_eq!(
                record(&sample("/health", 1), t * 60_000, POLICY, false),
                None
            );
        }
        let batch = record(&sample("/a", 1), 300_000, POLICY, true).expect("due");
        assert_eq!(batch.fields()["req|GET|/health|200"], 5);
    }

    #[test]
    fn per_request_hosts_flush_every_request_and_restored_batches_come_back() {
        let _ = take();
        let every = FlushPolicy {
            every_request: true,
            ..POLICY
        };
        assert_eq!(record(&sample("/health", 1), 0, every, false), None);
        let batch = record(&sample("/a", 1), 0, every, true).expect("flushed at once");
        assert!(!batch.fields().contains_key("req|GET|/health|200"));
        restore(batch.clone());
        restore(batch);
        let again = take().expect("given back");
        assert_eq!((again.samples(), again.fields()["req|GET|/a|200"]), (2, 2));
        assert_eq!(again.oldest_ms, Some(0));
    }
}
