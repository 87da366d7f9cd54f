//! Time arithmetic that cannot panic. chrono's `DateTime + TimeDelta` panics on overflow and
//! `TimeDelta::seconds`/`milliseconds` panic on large arguments; a definition reaches both
//! (a Retry with `BackoffRate: 1e13`, a long Wait in a loop under `dmap test`'s manual clock).
//! Every instant the engine computes goes through here and saturates at the latest instant
//! chrono can hold, which is as good as "never" for a sleep or a deadline.

use chrono::{DateTime, TimeDelta, Utc};

/// The instant every saturating sum stops at (year 262143).
pub const LATEST: DateTime<Utc> = DateTime::<Utc>::MAX_UTC;

/// `t` plus `millis` milliseconds, or [`LATEST`] when that is not representable.
pub fn after_millis(t: DateTime<Utc>, millis: u64) -> DateTime<Utc> {
    i64::try_from(millis)
        .ok()
        .and_then(TimeDelta::try_milliseconds)
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(LATEST)
}

/// `t` plus `seconds` seconds, or [`LATEST`] when that is not representable.
pub fn after_seconds(t: DateTime<Utc>, seconds: u64) -> DateTime<Utc> {
    i64::try_from(seconds).ok().and_then(TimeDelta::try_seconds).and_then(|d| t.checked_add_signed(d)).unwrap_or(LATEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_saturate_instead_of_panicking() {
        let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("instant");
        assert_eq!(after_millis(t, 1_500), DateTime::<Utc>::from_timestamp(1_700_000_001, 500_000_000).expect("t"));
        assert_eq!(after_seconds(t, 60), DateTime::<Utc>::from_timestamp(1_700_000_060, 0).expect("t"));
        for huge in [u64::MAX, i64::MAX as u64, 10_000_000_000_000_000] {
            assert_eq!(after_millis(t, huge), LATEST);
            assert_eq!(after_seconds(t, huge), LATEST);
        }
        assert_eq!(after_seconds(LATEST, 1), LATEST);
        assert_eq!(after_millis(LATEST, 1), LATEST);
    }
}
