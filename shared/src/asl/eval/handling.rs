//! Retry and Catch decisions as pure functions: given a failure and what has been tried,
//! what happens next.

use crate::asl::error_name::Failure;
use crate::asl::model::{Catcher, JitterStrategy, Retrier};

/// What to do with a failure of a state with Retry/Catch.
#[derive(Debug)]
pub(crate) enum Decision<'m> {
    /// Try again after this many milliseconds (before jitter).
    Retry {
        retrier: usize,
        delay_millis: u64,
        jitter: JitterStrategy,
    },
    Catch(&'m Catcher),
    Fail,
}

/// `attempts[i]` counts the retries already made by retrier `i` during this state visit.
pub(crate) fn decide<'m>(failure: &Failure, retry: &[Retrier], catch: &'m [Catcher], attempts: &[u64]) -> Decision<'m> {
    if failure.is_terminal() {
        return Decision::Fail;
    }
    // The first retrier that matches owns the error; when it is exhausted, later retriers are
    // not consulted and the catchers decide.
    if let Some(i) = retry.iter().position(|r| failure.matches(&r.error_equals)) {
        let r = &retry[i];
        let done = attempts[i];
        if done < r.max_attempts {
            return Decision::Retry { retrier: i, delay_millis: delay_millis(r, done), jitter: r.jitter };
        }
    }
    match catch.iter().find(|c| failure.matches(&c.error_equals)) {
        Some(c) => Decision::Catch(c),
        None => Decision::Fail,
    }
}

/// `IntervalSeconds × BackoffRate^done`, capped by `MaxDelaySeconds`.
fn delay_millis(r: &Retrier, done: u64) -> u64 {
    let secs = r.interval_seconds as f64 * r.backoff_rate.powi(done.min(i32::MAX as u64) as i32);
    let capped = match r.max_delay_seconds {
        Some(max) => secs.min(max as f64),
        None => secs,
    };
    (capped * 1000.0).min(u64::MAX as f64 / 2.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retrier(names: &[&str], interval: u64, max: u64, rate: f64, cap: Option<u64>) -> Retrier {
        Retrier {
            error_equals: names.iter().map(|s| s.to_string()).collect(),
            interval_seconds: interval,
            max_attempts: max,
            backoff_rate: rate,
            max_delay_seconds: cap,
            jitter: JitterStrategy::None,
        }
    }

    fn check(err: &str, retry: &[Retrier], attempts: &[u64], expected: Option<(usize, u64)>) {
        let d = decide(&Failure::named(err), retry, &[], attempts);
        let got = match d {
            Decision::Retry { retrier, delay_millis, .. } => Some((retrier, delay_millis)),
            _ => None,
        };
        assert_eq!(got, expected, "{err} after {attempts:?}");
    }

    #[test]
    fn backoff_and_exhaustion() {
        let r = [retrier(&["A"], 2, 3, 2.0, None), retrier(&["States.ALL"], 1, 5, 1.0, None)];
        check("A", &r, &[0, 0], Some((0, 2000)));
        check("A", &r, &[1, 0], Some((0, 4000)));
        check("A", &r, &[2, 0], Some((0, 8000)));
        // The first matching retrier is exhausted: the later States.ALL is not consulted.
        check("A", &r, &[3, 0], None);
        check("B", &r, &[3, 0], Some((1, 1000)));
        check("States.Runtime", &r, &[0, 0], None);
    }

    #[test]
    fn max_delay_caps_backoff() {
        let r = [retrier(&["A"], 10, 10, 3.0, Some(25))];
        check("A", &r, &[0], Some((0, 10_000)));
        check("A", &r, &[1], Some((0, 25_000)));
        check("A", &r, &[0], Some((0, 10_000)));
    }

    #[test]
    fn zero_attempts_never_retries() {
        let r = [retrier(&["A"], 1, 0, 2.0, None)];
        check("A", &r, &[0], None);
    }
}
