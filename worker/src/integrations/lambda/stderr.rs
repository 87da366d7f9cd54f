//! A function process's stderr, copied to dmap's stderr: each line prefixed with the function's
//! name, cut at 16 KiB, and within a byte budget per process — 1 MiB at once, then 256 KiB per
//! second — so that a function writing without end cannot flood dmap's own output (or the
//! disk of whatever collects it). Lines over the budget are dropped and counted; one note line,
//! `[name] … N bytes of stderr dropped`, stands for them when copying resumes or stderr ends.
//!
//! The last lines are kept for a failure's cause whether they were copied or not. Nothing here
//! parses what a function writes.

use std::collections::VecDeque;
use std::io::Write;

use tokio::io::BufReader;
use tokio::process::ChildStderr;
use tokio::time::Instant;

use super::process::{LineError, read_line, skip_line};

/// Longest stderr line copied; the rest of the line is dropped.
const LINE_LIMIT: usize = 16 * 1024;

/// Bytes of stderr a process may have copied at once…
const BURST: u64 = 1 << 20;

/// …and per second after that.
const RATE: u64 = 256 << 10;

/// Copies `stderr` until it ends, and returns its last `tail` lines.
pub async fn copy(name: String, stderr: ChildStderr, tail: usize) -> Vec<String> {
    let mut reader = BufReader::new(stderr);
    let mut last = VecDeque::with_capacity(tail);
    let mut line = Vec::new();
    let mut budget = Budget::new(Instant::now());
    loop {
        // The line's size on the function's side, newline included.
        let size = match read_line(&mut reader, &mut line, LINE_LIMIT).await {
            Ok(true) => line.len() + 1,
            Err(LineError::TooLong) => match skip_line(&mut reader).await {
                Ok(skipped) => line.len() + skipped,
                Err(_) => break,
            },
            Ok(false) | Err(LineError::Io(_)) => break,
        };
        let text = String::from_utf8_lossy(&line);
        if budget.allows(size as u64, Instant::now()) {
            let mut out = std::io::stderr().lock();
            // One write per line, so that lines of concurrent processes do not interleave.
            if let Some(dropped) = budget.take_dropped() {
                let _ = writeln!(out, "[{name}] … {dropped} bytes of stderr dropped");
            }
            let _ = writeln!(out, "[{name}] {text}");
        }
        if tail > 0 {
            if last.len() == tail {
                last.pop_front();
            }
            last.push_back(text.into_owned());
        }
    }
    if let Some(dropped) = budget.take_dropped() {
        let _ = writeln!(std::io::stderr().lock(), "[{name}] … {dropped} bytes of stderr dropped");
    }
    last.into()
}

/// A token bucket of bytes: [`BURST`] at most, refilled at [`RATE`] per second.
#[derive(Debug)]
struct Budget {
    left: u64,
    /// When `left` was last refilled.
    at: Instant,
    /// Bytes refused since the last note.
    dropped: u64,
}

impl Budget {
    fn new(now: Instant) -> Budget {
        Budget { left: BURST, at: now, dropped: 0 }
    }

    /// Whether `bytes` may be copied at `now`; if not, they are counted as dropped.
    fn allows(&mut self, bytes: u64, now: Instant) -> bool {
        let micros = now.saturating_duration_since(self.at).as_micros();
        let earned = u64::try_from(micros.saturating_mul(u128::from(RATE)) / 1_000_000).unwrap_or(u64::MAX);
        // `at` moves only when something was earned, so that frequent small steps still add up.
        if earned > 0 {
            self.left = self.left.saturating_add(earned).min(BURST);
            self.at = now;
        }
        if bytes <= self.left {
            self.left -= bytes;
            true
        } else {
            self.dropped += bytes;
            false
        }
    }

    /// The bytes dropped since the last call, if any.
    fn take_dropped(&mut self) -> Option<u64> {
        (self.dropped > 0).then(|| std::mem::take(&mut self.dropped))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_then_a_rate_per_second() {
        let start = Instant::now();
        let mut b = Budget::new(start);
        assert!(b.allows(1 << 20, start));
        assert!(!b.allows(1, start));
        assert!(!b.allows(99, start + Duration::from_micros(1)));
        assert_eq!(b.take_dropped(), Some(100));
        assert_eq!(b.take_dropped(), None);
        let later = start + Duration::from_secs(1);
        assert!(b.allows(256 << 10, later));
        assert!(!b.allows(1, later));
        // Never more than the burst, however long it was quiet.
        let much_later = later + Duration::from_secs(3600);
        assert!(!b.allows((1 << 20) + 1, much_later));
        assert!(b.allows(1 << 20, much_later));
    }
}
