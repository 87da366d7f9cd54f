//! The three clocks of one call: the Task's `TimeoutSeconds`, the function's own timeout and
//! the Task's `HeartbeatSeconds`. Whichever expires first decides the error, as on AWS: the
//! Task's clocks give `States.Timeout` (no cause), the function's gives `Sandbox.Timedout`.
//!
//! All three start when the call gets its process (or HTTP request), not while it waits for a
//! free one: on AWS every concurrent call gets its own execution environment, so time spent
//! queueing for local capacity must not turn into timeouts AWS would not report.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shared::asl::Failure;
use shared::asl::error_name::TIMEOUT;
use tokio::time::Instant;

use super::reply;

/// Far enough for "never" and still safe to add to an `Instant`.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

#[derive(Debug, Clone)]
pub struct Deadlines {
    task: Duration,
    function: Duration,
    function_seconds: u64,
    heartbeat: Option<Duration>,
    /// When the call started running, and when its last heartbeat arrived.
    started: Option<(Instant, Instant)>,
}

/// Which clock ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// `TimeoutSeconds` or `HeartbeatSeconds`: `States.Timeout`.
    Task,
    /// The function's `timeout_seconds`: `Sandbox.Timedout`.
    Function,
}

impl Deadlines {
    pub fn new(timeout_seconds: u64, heartbeat_seconds: Option<u64>, function_seconds: u64) -> Deadlines {
        Deadlines {
            task: Duration::from_secs(timeout_seconds),
            function: Duration::from_secs(function_seconds),
            function_seconds,
            heartbeat: heartbeat_seconds.map(Duration::from_secs),
            started: None,
        }
    }

    /// The call begins to run now: every clock starts.
    pub fn start(&mut self) {
        let now = Instant::now();
        self.started = Some((now, now));
    }

    /// A heartbeat arrived: `HeartbeatSeconds` counts again from now.
    pub fn beat(&mut self) {
        if let Some((_, last_beat)) = &mut self.started {
            *last_beat = Instant::now();
        }
    }

    /// The Task's deadline (`TimeoutSeconds` or the next heartbeat) and the function's.
    fn deadlines(&self) -> (Instant, Instant) {
        let (started, last_beat) = self.started.unwrap_or_else(|| (Instant::now(), Instant::now()));
        let task = later(started, self.task);
        let task = self.heartbeat.map_or(task, |h| later(last_beat, h).min(task));
        (task, later(started, self.function))
    }

    /// The earliest deadline, to wait with `tokio::time::timeout_at`; none before the start.
    pub fn next(&self) -> Instant {
        if self.started.is_none() {
            return later(Instant::now(), NEVER);
        }
        let (task, function) = self.deadlines();
        task.min(function)
    }

    /// Which clock ran out at [`Deadlines::next`]. On a tie the Task's wins: Step Functions
    /// starts its timer before Lambda starts the function's.
    pub fn expired(&self) -> Expired {
        let (task, function) = self.deadlines();
        if function < task { Expired::Function } else { Expired::Task }
    }

    /// The failure for [`Deadlines::expired`].
    pub fn failure(&self, request_id: &str) -> Failure {
        match self.expired() {
            Expired::Task => Failure::named(TIMEOUT),
            Expired::Function => reply::timed_out(request_id, self.function_seconds),
        }
    }

    /// The function's deadline in milliseconds since the epoch, for the Lambda context
    /// (`get_remaining_time_in_millis`): the earlier of its own timeout and `TimeoutSeconds`.
    pub fn deadline_epoch_ms(&self) -> u64 {
        let (started, _) = self.started.unwrap_or_else(|| (Instant::now(), Instant::now()));
        let deadline = later(started, self.task).min(later(started, self.function));
        let left = deadline.saturating_duration_since(Instant::now());
        let at = SystemTime::now() + left.min(NEVER);
        at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }
}

fn later(from: Instant, by: Duration) -> Instant {
    from.checked_add(by.min(NEVER)).unwrap_or(from + NEVER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_clock_decides() {
        let mut d = Deadlines::new(10, None, 5);
        assert!(d.next() > Instant::now() + Duration::from_secs(3600), "no deadline while queued");
        let before = Instant::now();
        d.start();
        assert_eq!(d.expired(), Expired::Function);
        assert!(d.next() >= before + Duration::from_secs(5) && d.next() < before + Duration::from_secs(10));

        let mut d = Deadlines::new(5, None, 5);
        d.start();
        assert_eq!(d.expired(), Expired::Task, "a tie goes to the Task");

        let mut d = Deadlines::new(100, Some(2), 50);
        d.start();
        let before = Instant::now();
        d.beat();
        assert!(d.next() >= before + Duration::from_secs(2) && d.next() < before + Duration::from_secs(50));
        assert_eq!(d.expired(), Expired::Task);
        assert_eq!(d.failure("r"), Failure::named(TIMEOUT));
    }

    #[test]
    fn huge_timeouts_do_not_overflow() {
        let mut d = Deadlines::new(u64::MAX, Some(u64::MAX), u64::MAX);
        d.start();
        assert!(d.next() > Instant::now());
        assert!(d.deadline_epoch_ms() > 0);
    }
}
