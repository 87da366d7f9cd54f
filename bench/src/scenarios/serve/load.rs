//! The closed-loop load generator: N connections, each a tokio task that sends its next request
//! as soon as the previous answer arrived, for a fixed time. The rate is then what the server
//! sustains at N requests in flight, not a rate the generator chose (an open-loop generator
//! would measure its own schedule when the server falls behind).
//!
//! A [`Workload`] says what to send and whether an answer is right; this module only times and
//! counts. Latency is from just before the request is written to the last byte of the answer,
//! recorded per task in microseconds and merged at the end (a few hundred thousand numbers).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use super::client::{CallError, Conn};

/// What one run of the generator sends.
pub trait Workload: Send + Sync + 'static {
    /// The API action, e.g. `StartExecution`.
    fn action(&self) -> &'static str;
    /// The body of request number `seq` on connection `conn` (unique per pair).
    fn body(&self, conn: usize, seq: u64) -> Bytes;
    /// Whether the answer to that request is the one expected; why not otherwise.
    fn check(&self, conn: usize, seq: u64, answer: &Value) -> Result<(), String>;
}

/// What one run of the generator saw.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Requests answered as expected.
    pub ok: u64,
    /// Requests answered otherwise (an API error, a wrong answer, a broken connection).
    pub failed: u64,
    /// The first failure, for the message.
    pub first_failure: Option<String>,
    /// Latency of every answered request, in µs, unsorted.
    pub latencies_us: Vec<u32>,
    /// From the first request to the last answer, in seconds.
    pub elapsed: f64,
}

impl Outcome {
    /// Answered-as-expected requests per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed
    }

    /// The `q`-quantile (0..=1) of the latencies, in milliseconds; NaN without any.
    pub fn latency_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies_us, q)
    }
}

/// The `q`-quantile of µs values in ms, by the nearest rank (sorting a copy).
pub fn quantile_ms(us: &[u32], q: f64) -> f64 {
    if us.is_empty() {
        return f64::NAN;
    }
    let mut v = us.to_vec();
    v.sort_unstable();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    f64::from(v[rank - 1]) / 1000.0
}

/// Runs `conns` connections against `addr` for `duration`, then waits for the requests in flight.
/// A connection that breaks counts one failure and stops (the others go on).
pub async fn drive(addr: SocketAddr, conns: usize, duration: Duration, work: Arc<dyn Workload>) -> Outcome {
    // Open every connection before the clock starts, so that connecting is not timed.
    let mut opened = Vec::with_capacity(conns);
    let mut out = Outcome::default();
    for _ in 0..conns {
        match Conn::open(addr).await {
            Ok(c) => opened.push(c),
            Err(e) => {
                out.failed += 1;
                out.first_failure.get_or_insert_with(|| e.to_string());
            }
        }
    }
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = opened
        .into_iter()
        .enumerate()
        .map(|(i, conn)| tokio::spawn(one_connection(i, conn, deadline, work.clone())))
        .collect();
    for t in tasks {
        let Ok(part) = t.await else {
            out.failed += 1;
            out.first_failure.get_or_insert_with(|| "a load task panicked".into());
            continue;
        };
        out.ok += part.ok;
        out.failed += part.failed;
        if out.first_failure.is_none() {
            out.first_failure = part.first_failure;
        }
        out.latencies_us.extend(part.latencies_us);
    }
    out.elapsed = start.elapsed().as_secs_f64();
    out
}

async fn one_connection(i: usize, mut conn: Conn, deadline: Instant, work: Arc<dyn Workload>) -> Outcome {
    let mut out = Outcome { latencies_us: Vec::with_capacity(64 * 1024), ..Outcome::default() };
    let action = work.action();
    let mut seq = 0u64;
    while Instant::now() < deadline {
        let body = work.body(i, seq);
        let t0 = Instant::now();
        let answer = conn.call(action, body).await;
        let us = t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        let verdict = match answer {
            Ok(v) => {
                out.latencies_us.push(us);
                work.check(i, seq, &v)
            }
            Err(e @ CallError::Api { .. }) => {
                out.latencies_us.push(us);
                Err(e.to_string())
            }
            Err(e) => {
                out.failed += 1;
                out.first_failure.get_or_insert_with(|| format!("connection {i}: {e}"));
                break;
            }
        };
        match verdict {
            Ok(()) => out.ok += 1,
            Err(why) => {
                out.failed += 1;
                out.first_failure.get_or_insert(why);
            }
        }
        seq += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let us: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(quantile_ms(&us, 0.5), 50.0);
        assert_eq!(quantile_ms(&us, 0.99), 99.0);
        assert_eq!(quantile_ms(&us, 1.0), 100.0);
        assert_eq!(quantile_ms(&[7000], 0.99), 7.0);
        assert!(quantile_ms(&[], 0.5).is_nan());
    }
}
