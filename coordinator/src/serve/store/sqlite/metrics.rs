//! What the writer counts for `/metrics`: groups and units committed, and a histogram of how
//! long each group's transaction took (from `BEGIN` to the end of `COMMIT`, its sync included).
//!
//! It owns the counters only; formatting them for Prometheus is the HTTP layer's business.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds, in seconds, of the commit latency buckets (a sync of the log costs from tens
/// of microseconds on a battery-backed disk to tens of milliseconds on a network volume).
pub const LATENCY_BOUNDS: [f64; 12] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

/// The commit latency histogram, Prometheus-style: `buckets[i]` counts the groups whose
/// transaction took at most `LATENCY_BOUNDS[i]` seconds (cumulative); `count` counts them all
/// (the `+Inf` bucket) and `sum_seconds` adds their durations.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitLatency {
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

/// The writer's counters, shared between the writer thread and the store's handle.
#[derive(Debug, Default)]
pub struct Stats {
    groups: AtomicU64,
    units: AtomicU64,
    /// Per bucket, not cumulative; the last one is `+Inf`.
    buckets: [AtomicU64; LATENCY_BOUNDS.len() + 1],
    sum_micros: AtomicU64,
}

impl Stats {
    /// Records one committed group of `units` units whose transaction took `took`.
    pub fn record(&self, units: usize, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = LATENCY_BOUNDS.iter().position(|bound| seconds <= *bound).unwrap_or(LATENCY_BOUNDS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.units.fetch_add(units as u64, Ordering::Relaxed);
        // Last, so that a reader that sees a group also sees its units.
        self.groups.fetch_add(1, Ordering::Release);
    }

    pub fn groups(&self) -> u64 {
        self.groups.load(Ordering::Acquire)
    }

    pub fn units(&self) -> u64 {
        self.units.load(Ordering::Acquire)
    }

    pub fn latency(&self) -> CommitLatency {
        let mut cumulative = 0;
        let buckets = LATENCY_BOUNDS
            .iter()
            .zip(&self.buckets)
            .map(|(bound, count)| {
                cumulative += count.load(Ordering::Relaxed);
                (*bound, cumulative)
            })
            .collect();
        let count = cumulative + self.buckets[LATENCY_BOUNDS.len()].load(Ordering::Relaxed);
        let sum_seconds = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        CommitLatency { buckets, count, sum_seconds }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_count_every_group() {
        let stats = Stats::default();
        stats.record(3, Duration::from_micros(80));
        stats.record(1, Duration::from_millis(3));
        stats.record(2, Duration::from_secs(2));
        let latency = stats.latency();
        assert_eq!(latency.buckets[0], (0.0001, 1));
        // 3 ms falls in the 5 ms bucket.
        assert_eq!(latency.buckets[5], (0.005, 2));
        assert_eq!(latency.buckets[11], (1.0, 2));
        assert_eq!(latency.count, 3);
        assert!((latency.sum_seconds - 2.00308).abs() < 1e-9);
        assert_eq!(stats.groups(), 3);
        assert_eq!(stats.units(), 6);
    }
}
