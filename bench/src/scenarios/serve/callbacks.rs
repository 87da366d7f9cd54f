//! `bench serve --only callbacks`: the latency from `SendTaskSuccess` to the next state, with
//! 1,000 callbacks pending.
//!
//! Each execution of [`DEFINITION`] enters `Hold`, a `lambda:invoke.waitForTaskToken` Task whose
//! function (`bench-hold`, served by the bench: [`super::hooks`]) is handed `$$.Task.Token` and
//! returns at once; the execution then waits for the callback. The bench starts
//! `pending + sequential + paced` executions, waits until every token has reached it and every
//! execution's history ends with `TaskSubmitted` (the call made, the wait begun), then:
//!
//! 1. **one at a time**: for each of `sequential` tokens, sends `SendTaskSuccess` and waits for
//!    the next state, `Mark` (a Lambda Task calling `bench-mark`, also served by the bench), to
//!    call in, before sending the next;
//! 2. **paced**: sends `paced` tokens at a fixed rate (open loop: each at its scheduled instant,
//!    whatever the answers before it), each timed the same way;
//! 3. releases the `pending` ones it kept waiting throughout (not timed), so that at least
//!    `pending` callbacks were pending during every timed one.
//!
//! Two measures per token, both from just before `SendTaskSuccess` is written:
//! - *to the next state's call*: until `bench-mark`'s call for that execution arrives at the bench
//!   — one monotonic clock in one process, µs resolution. It includes `Mark`'s entry, its
//!   `TaskScheduled`/`TaskStarted` and the loopback HTTP call, so it bounds "next state entered"
//!   from above;
//! - *to `TaskStateEntered`*: the timestamp of `Mark`'s `TaskStateEntered` event (the server's
//!   clock, read back through GetExecutionHistory) minus the bench's wall clock at sending. Same
//!   machine, same clock; but AWS's history timestamps carry milliseconds, so each value is low
//!   by less than 1 ms.
//!
//! Every round then checks its work: every execution SUCCEEDED with `{"n": n, "from":
//! "callback-<n>"}` — the output the callback gave `Hold`, passed through `Mark` (DescribeExecution
//! of each), and each timed execution's history holds one `TaskSubmitted` and `ExecutionSucceeded`
//! last.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use serde_json::{Value, json};

use super::client::Conn;
use super::hooks::Hooks;
use super::process::Server;
use super::standard;

/// The machine, literally. `Hold`'s Payload carries the token as AWS's callback pattern shows
/// (<https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token>);
/// the Task's result is the `output` of SendTaskSuccess, which `Mark` passes to its function and
/// keeps from Lambda's answer (`Payload`, <https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html>).
pub const DEFINITION: &str = r#"{
  "Comment": "bench serve: wait for a callback, then one more Task",
  "StartAt": "Hold",
  "States": {
    "Hold": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {"FunctionName": "bench-hold", "Payload": {"token.$": "$$.Task.Token", "n.$": "$.n"}},
      "TimeoutSeconds": 3600,
      "Next": "Mark"
    },
    "Mark": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "bench-mark", "Payload": {"n.$": "$.n", "from.$": "$.from"}},
      "ResultSelector": {"n.$": "$.Payload.n", "from.$": "$.Payload.from"},
      "End": true
    }
  }
}"#;

/// The `output` the bench sends for execution `n`.
pub fn callback_output(n: u64) -> Value {
    json!({"n": n, "from": format!("callback-{n}")})
}

/// What execution `n` must end with: the callback's output, through `Mark`'s ResultSelector.
pub fn expected_output(n: u64) -> Value {
    callback_output(n)
}

/// How many executions play each part of a round.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub pending: u64,
    pub sequential: u64,
    pub paced: u64,
    /// SendTaskSuccess per second in the paced part.
    pub rate: f64,
    /// Connections that start executions, send the paced callbacks and release the rest.
    pub connections: usize,
}

impl Plan {
    fn total(&self) -> u64 {
        self.pending + self.sequential + self.paced
    }
}

/// One timed callback.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub n: u64,
    /// SendTaskSuccess answered (µs).
    pub answered_us: u32,
    /// `bench-mark`'s call arrived (µs).
    pub next_call_us: u32,
    /// Wall clock at sending, epoch seconds, for the history measure.
    sent_epoch: f64,
    /// Mark's `TaskStateEntered` − `sent_epoch`, in ms (filled after the round).
    pub entered_ms: f64,
}

/// One round.
#[derive(Debug)]
pub struct CallbackRun {
    /// Executions whose callback was pending when the first timed one was sent.
    pub pending_at_start: u64,
    pub sequential: Vec<Sample>,
    pub paced: Vec<Sample>,
    /// The paced part's achieved send rate (callbacks/s).
    pub paced_rate: f64,
    /// dmap serve's CPU per callback over the two timed parts (µs).
    pub server_cpu_us: f64,
    /// Seconds from the first StartExecution until every token had reached the bench.
    pub all_pending_after: f64,
}

pub async fn round(
    plan: Plan,
    server: &Server,
    conn: &mut Conn,
    hooks: &Hooks,
    arn: &str,
    prefix: &str,
    timeout: Duration,
) -> anyhow::Result<CallbackRun> {
    let (addr, pid) = (server.addr, server.pid());
    hooks.clear();
    let until = Instant::now() + timeout;
    let total = plan.total();
    let t0 = Instant::now();
    start_many(addr, plan.connections, arn, prefix, 0..total).await?;
    hooks.wait_tokens(total as usize, until).await.context("waiting for every callback to be pending")?;
    let all_pending_after = t0.elapsed().as_secs_f64();
    for n in 0..total {
        waiting_for_callback(conn, &execution_arn(arn, prefix, n), until).await?;
    }

    // Timed callbacks come from the top of the range, so `0..pending` stay pending throughout.
    let cpu0 = crate::cpu::process_seconds(pid)?;
    let mut sequential = Vec::with_capacity(plan.sequential as usize);
    for n in plan.pending..plan.pending + plan.sequential {
        let (sent, sent_epoch) = (Instant::now(), epoch_now());
        send_success(conn, hooks, n).await?;
        let answered_us = micros(sent.elapsed());
        let next = hooks.wait_mark(n, until).await?;
        sequential.push(Sample { n, answered_us, next_call_us: micros(next - sent), sent_epoch, entered_ms: f64::NAN });
    }
    let paced_range = plan.pending + plan.sequential..total;
    let (sent, paced_rate) = pace(addr, plan, hooks, paced_range).await?;
    hooks.wait_marks((plan.sequential + plan.paced) as usize, until).await?;
    let server_cpu_us = (crate::cpu::process_seconds(pid)? - cpu0) * 1e6 / (plan.sequential + plan.paced) as f64;
    let mut paced = Vec::with_capacity(sent.len());
    for (mut s, at) in sent {
        let next = hooks.mark(s.n).context("seen")?;
        s.next_call_us = micros(next.saturating_duration_since(at));
        paced.push(s);
    }

    release(addr, plan.connections, hooks, 0..plan.pending).await?;
    standard::drain(conn, arn, timeout).await?;
    let (_, repeated, _) = hooks.counts();
    ensure!(repeated == 0, "bench-hold was called {repeated} times more than once for one execution");
    check_all(conn, arn, prefix, total).await?;
    for s in sequential.iter_mut().chain(paced.iter_mut()) {
        s.entered_ms = (mark_entered(conn, &execution_arn(arn, prefix, s.n)).await? - s.sent_epoch) * 1e3;
    }
    Ok(CallbackRun {
        pending_at_start: plan.pending + plan.sequential + plan.paced,
        sequential,
        paced,
        paced_rate,
        server_cpu_us,
        all_pending_after,
    })
}

/// Sends the callbacks of `range` at `plan.rate` per second from `plan.connections` connections,
/// each at its scheduled instant (or as soon as a connection is free, when all are busy).
async fn pace(
    addr: SocketAddr,
    plan: Plan,
    hooks: &Hooks,
    range: std::ops::Range<u64>,
) -> anyhow::Result<(Vec<(Sample, Instant)>, f64)> {
    let ns: Arc<Vec<u64>> = Arc::new(range.collect());
    let tokens: Arc<Vec<String>> =
        Arc::new(ns.iter().map(|n| hooks.token(*n).context("a token")).collect::<anyhow::Result<_>>()?);
    let next = Arc::new(AtomicUsize::new(0));
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let period = Duration::from_secs_f64(1.0 / plan.rate);
    let mut tasks = Vec::new();
    for _ in 0..plan.connections.max(1) {
        let (ns, tokens, next) = (ns.clone(), tokens.clone(), next.clone());
        let mut conn = Conn::open(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut out: Vec<(Sample, Instant)> = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ns.len() {
                    return Ok::<_, anyhow::Error>(out);
                }
                tokio::time::sleep_until(start + period * i as u32).await;
                let (sent, sent_epoch) = (Instant::now(), epoch_now());
                success(&mut conn, &tokens[i], ns[i]).await?;
                let answered_us = micros(sent.elapsed());
                let s = Sample { n: ns[i], answered_us, next_call_us: 0, sent_epoch, entered_ms: f64::NAN };
                out.push((s, sent));
            }
        }));
    }
    let mut sent = Vec::new();
    for t in tasks {
        sent.extend(t.await.context("a paced sender panicked")??);
    }
    let first = sent.iter().map(|s| s.1).min().context("nothing paced")?;
    let last = sent.iter().map(|s| s.1).max().context("nothing paced")?;
    let rate = if last > first { (sent.len() - 1) as f64 / (last - first).as_secs_f64() } else { f64::NAN };
    sent.sort_by_key(|s| s.0.n);
    Ok((sent, rate))
}

/// SendTaskSuccess for every token of `range`, as fast as `connections` connections go.
async fn release(
    addr: SocketAddr,
    connections: usize,
    hooks: &Hooks,
    range: std::ops::Range<u64>,
) -> anyhow::Result<()> {
    let work: Arc<Vec<(u64, String)>> =
        Arc::new(range.map(|n| Ok((n, hooks.token(n).context("a token")?))).collect::<anyhow::Result<_>>()?);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (work, next) = (work.clone(), next.clone());
        let mut conn = Conn::open(addr).await?;
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((n, token)) = work.get(i) else { return Ok::<_, anyhow::Error>(()) };
                success(&mut conn, token, *n).await?;
            }
        }));
    }
    for t in tasks {
        t.await.context("a sender panicked")??;
    }
    Ok(())
}

async fn send_success(conn: &mut Conn, hooks: &Hooks, n: u64) -> anyhow::Result<()> {
    let token = hooks.token(n).with_context(|| format!("no token for n = {n}"))?;
    success(conn, &token, n).await
}

/// SendTaskSuccess, whose answer AWS documents as an empty object
/// (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html>).
async fn success(conn: &mut Conn, token: &str, n: u64) -> anyhow::Result<()> {
    let body = json!({"taskToken": token, "output": callback_output(n).to_string()});
    let answer = conn.call("SendTaskSuccess", Bytes::from(body.to_string())).await?;
    ensure!(answer == json!({}), "SendTaskSuccess for n = {n} answered {answer}");
    Ok(())
}

/// Starts the executions `prefix-n` of `range` with input `{"n": n}` over `connections`
/// connections.
pub async fn start_many(
    addr: SocketAddr,
    connections: usize,
    arn: &str,
    prefix: &str,
    range: std::ops::Range<u64>,
) -> anyhow::Result<()> {
    let next = Arc::new(std::sync::atomic::AtomicU64::new(range.start));
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (next, arn, prefix, end) = (next.clone(), arn.to_string(), prefix.to_string(), range.end);
        let mut conn = Conn::open(addr).await?;
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= end {
                    return Ok::<_, anyhow::Error>(());
                }
                let body = json!({"stateMachineArn": arn, "name": format!("{prefix}-{n}"), "input": json!({"n": n}).to_string()});
                let answer = conn.call("StartExecution", Bytes::from(body.to_string())).await?;
                ensure!(answer["executionArn"].is_string(), "StartExecution answered {answer}");
            }
        }));
    }
    for t in tasks {
        t.await.context("a starter panicked")??;
    }
    Ok(())
}

/// `arn:…:stateMachine:NAME` → `arn:…:execution:NAME:EXEC`, as AWS forms execution ARNs.
pub fn execution_arn(state_machine_arn: &str, prefix: &str, n: u64) -> String {
    format!("{}-{n}", state_machine_arn.replacen(":stateMachine:", ":execution:", 1) + ":" + prefix)
}

/// Waits until the execution is RUNNING with `TaskSubmitted` as its last event: the callback's
/// function was called and the Task waits.
async fn waiting_for_callback(conn: &mut Conn, arn: &str, until: Instant) -> anyhow::Result<()> {
    loop {
        let body = json!({"executionArn": arn, "reverseOrder": true, "maxResults": 1});
        let page = conn.call("GetExecutionHistory", Bytes::from(body.to_string())).await?;
        let last = page["events"][0]["type"].as_str().unwrap_or_default().to_string();
        match last.as_str() {
            "TaskSubmitted" => return Ok(()),
            "TaskScheduled" | "TaskStarted" | "TaskStateEntered" if Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            _ => bail!("{arn}: last event {last}, TaskSubmitted expected (waiting for its callback)"),
        }
    }
}

/// Every execution SUCCEEDED with its expected output.
async fn check_all(conn: &mut Conn, arn: &str, prefix: &str, total: u64) -> anyhow::Result<()> {
    let tally = standard::tally(conn, arn, u64::MAX).await?;
    ensure!(
        tally.total() == total && tally.succeeded() == total,
        "{total} executions started; ListExecutions lists {:?}",
        tally.by_status
    );
    for n in 0..total {
        let e = execution_arn(arn, prefix, n);
        let d = conn.call("DescribeExecution", Bytes::from(json!({"executionArn": e}).to_string())).await?;
        let output = d["output"].as_str().and_then(|o| serde_json::from_str::<Value>(o).ok());
        ensure!(
            d["status"] == "SUCCEEDED" && output == Some(expected_output(n)),
            "{e}: {d}; SUCCEEDED with {} expected",
            expected_output(n)
        );
    }
    Ok(())
}

/// The timestamp (epoch seconds) of `Mark`'s `TaskStateEntered`, after checking the history's
/// shape: one TaskSubmitted (Hold's), ExecutionSucceeded last.
async fn mark_entered(conn: &mut Conn, arn: &str) -> anyhow::Result<f64> {
    let body = json!({"executionArn": arn, "maxResults": 1000});
    let page = conn.call("GetExecutionHistory", Bytes::from(body.to_string())).await?;
    let events = page["events"].as_array().context("GetExecutionHistory without events")?;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap_or("?")).collect();
    ensure!(
        types.iter().filter(|t| **t == "TaskSubmitted").count() == 1 && types.last() == Some(&"ExecutionSucceeded"),
        "history of {arn}: {types:?}"
    );
    events
        .iter()
        .find(|e| e["type"] == "TaskStateEntered" && e["stateEnteredEventDetails"]["name"] == "Mark")
        .and_then(|e| e["timestamp"].as_f64())
        .with_context(|| format!("history of {arn}: no TaskStateEntered of Mark: {types:?}"))
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u128::from(u32::MAX)) as u32
}

fn epoch_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_hands_the_token_to_bench_hold_and_calls_bench_mark_next() {
        let def: Value = serde_json::from_str(DEFINITION).unwrap();
        let hold = &def["States"]["Hold"];
        assert_eq!(hold["Resource"], "arn:aws:states:::lambda:invoke.waitForTaskToken");
        assert_eq!(hold["Parameters"]["Payload"]["token.$"], "$$.Task.Token");
        assert_eq!(hold["Next"], "Mark");
        assert_eq!(def["States"]["Mark"]["Parameters"]["FunctionName"], "bench-mark");
    }

    #[test]
    fn execution_arns_are_formed_as_aws_forms_them() {
        // https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
        let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:bench-callbacks-0";
        assert_eq!(
            execution_arn(sm, "cb0", 7),
            "arn:aws:states:us-east-1:123456789012:execution:bench-callbacks-0:cb0-7"
        );
    }
}
