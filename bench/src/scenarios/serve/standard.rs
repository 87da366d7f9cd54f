//! What the server says about the Standard executions a timed run started, through the API
//! only (as a user would see them): waits until none of a state machine's executions is
//! RUNNING, counts them by status with their first start and last stop (ListExecutions,
//! paginated), and checks a sample's DescribeExecution and GetExecutionHistory.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use serde_json::{Value, json};

use super::client::Conn;
use super::workload::{expected_output, seq_of};

/// How often the drain is polled: often enough that the poll's granularity is small beside a
/// 10 s run, rarely enough to cost the server nothing measurable.
const POLL: Duration = Duration::from_millis(50);

/// Waits until `state_machine_arn` has no RUNNING execution; the instant it was first seen so.
pub async fn drain(conn: &mut Conn, state_machine_arn: &str, timeout: Duration) -> anyhow::Result<Instant> {
    let until = Instant::now() + timeout;
    let body = Bytes::from(
        json!({"stateMachineArn": state_machine_arn, "statusFilter": "RUNNING", "maxResults": 1}).to_string(),
    );
    loop {
        let page = conn.call("ListExecutions", body.clone()).await?;
        if page["executions"].as_array().is_some_and(Vec::is_empty) {
            return Ok(Instant::now());
        }
        ensure!(Instant::now() < until, "executions of {state_machine_arn} still RUNNING after {timeout:?}");
        tokio::time::sleep(POLL).await;
    }
}

/// Every execution of one state machine, as ListExecutions gives them.
#[derive(Debug, Default)]
pub struct Tally {
    pub by_status: BTreeMap<String, u64>,
    /// Epoch seconds: the earliest startDate and the latest stopDate.
    pub first_start: f64,
    pub last_stop: f64,
    /// (executionArn, name) of every `every`-th execution listed.
    pub sample: Vec<(String, String)>,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.by_status.values().sum()
    }

    pub fn succeeded(&self) -> u64 {
        self.by_status.get("SUCCEEDED").copied().unwrap_or(0)
    }

    /// From the first start to the last completion, by the server's clock.
    pub fn span(&self) -> f64 {
        self.last_stop - self.first_start
    }
}

/// Lists every execution of `state_machine_arn` (1,000 a page, AWS's largest), keeping one in
/// `every` for [`verify`].
pub async fn tally(conn: &mut Conn, state_machine_arn: &str, every: u64) -> anyhow::Result<Tally> {
    let mut t = Tally { first_start: f64::INFINITY, last_stop: f64::NEG_INFINITY, ..Tally::default() };
    let mut token: Option<String> = None;
    let mut seen = 0u64;
    loop {
        let mut req = json!({"stateMachineArn": state_machine_arn, "maxResults": 1000});
        if let Some(tok) = &token {
            req["nextToken"] = json!(tok);
        }
        let page = conn.call("ListExecutions", Bytes::from(req.to_string())).await?;
        for e in page["executions"].as_array().context("ListExecutions without executions")? {
            let status = e["status"].as_str().unwrap_or("?").to_string();
            *t.by_status.entry(status).or_insert(0) += 1;
            if let Some(s) = e["startDate"].as_f64() {
                t.first_start = t.first_start.min(s);
            }
            if let Some(s) = e["stopDate"].as_f64() {
                t.last_stop = t.last_stop.max(s);
            }
            if seen.is_multiple_of(every.max(1)) {
                let field = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                t.sample.push((field("executionArn"), field("name")));
            }
            seen += 1;
        }
        match page["nextToken"].as_str() {
            Some(tok) if !tok.is_empty() => token = Some(tok.to_string()),
            _ => return Ok(t),
        }
    }
}

/// What the sample's histories look like.
#[derive(Debug, Default)]
pub struct Verified {
    pub executions: usize,
    /// Events per execution: (fewest, most).
    pub events: (usize, usize),
    /// The event types of the first execution checked, in order.
    pub types: Vec<String>,
}

/// Each sampled execution is SUCCEEDED with the output its input implies (DescribeExecution),
/// and its history (GetExecutionHistory, with data) starts with ExecutionStarted as event 1
/// and ends with ExecutionSucceeded, event ids rising by one, each event's previousEventId
/// earlier than itself.
pub async fn verify(conn: &mut Conn, sample: &[(String, String)]) -> anyhow::Result<Verified> {
    let mut v = Verified { events: (usize::MAX, 0), ..Verified::default() };
    for (arn, name) in sample {
        let seq = seq_of(name).with_context(|| format!("execution {name} is not one the bench named"))?;
        let d = conn.call("DescribeExecution", Bytes::from(json!({"executionArn": arn}).to_string())).await?;
        let output = d["output"].as_str().and_then(|o| serde_json::from_str::<Value>(o).ok());
        ensure!(
            d["status"] == "SUCCEEDED" && output == Some(expected_output(seq)),
            "DescribeExecution of {name}: {d}; SUCCEEDED with output {} expected",
            expected_output(seq)
        );
        let events = history(conn, arn).await?;
        let types: Vec<String> = events.iter().map(|e| e["type"].as_str().unwrap_or("?").to_string()).collect();
        ensure!(
            types.first().map(String::as_str) == Some("ExecutionStarted")
                && types.last().map(String::as_str) == Some("ExecutionSucceeded"),
            "history of {name}: {types:?}; ExecutionStarted … ExecutionSucceeded expected"
        );
        for (i, e) in events.iter().enumerate() {
            let id = e["id"].as_u64();
            ensure!(id == Some(i as u64 + 1), "history of {name}: event {i} has id {:?}", e["id"]);
            if let Some(prev) = e["previousEventId"].as_u64() {
                ensure!(prev < i as u64 + 1, "history of {name}: event {} follows event {prev}", i + 1);
            }
        }
        v.events = (v.events.0.min(events.len()), v.events.1.max(events.len()));
        if v.types.is_empty() {
            v.types = types;
        }
        v.executions += 1;
    }
    if v.executions == 0 {
        bail!("no execution to verify");
    }
    Ok(v)
}

async fn history(conn: &mut Conn, arn: &str) -> anyhow::Result<Vec<Value>> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"executionArn": arn, "maxResults": 1000, "includeExecutionData": true});
        if let Some(tok) = &token {
            req["nextToken"] = json!(tok);
        }
        let page = conn.call("GetExecutionHistory", Bytes::from(req.to_string())).await?;
        events.extend(page["events"].as_array().context("GetExecutionHistory without events")?.iter().cloned());
        match page["nextToken"].as_str() {
            Some(tok) if !tok.is_empty() => token = Some(tok.to_string()),
            _ => return Ok(events),
        }
    }
}

/// The samples of a Prometheus text page (`name{labels} value`), by their full name with labels.
pub fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.trim().to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

/// What the server's own counters say happened between two scrapes of `/metrics`.
#[derive(Debug, Default, Clone)]
pub struct StoreWork {
    /// Store transactions (one sync each) and the units they carried.
    pub groups: f64,
    pub units: f64,
    /// History events the engine wrote.
    pub events: f64,
    /// Seconds spent in group commits.
    pub commit_seconds: f64,
}

impl StoreWork {
    pub fn between(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> StoreWork {
        let d = |k: &str| after.get(k).copied().unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0);
        StoreWork {
            groups: d("dmap_store_groups_total"),
            units: d("dmap_store_units_total"),
            events: d("dmap_transitions_total"),
            commit_seconds: d("dmap_store_commit_seconds_sum"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_samples_and_their_differences() {
        let before = samples("# HELP x y\ndmap_store_groups_total 10\ndmap_store_units_total 100\n");
        let after = samples(
            "dmap_store_groups_total 30\ndmap_store_units_total 2100\ndmap_transitions_total 50\n\
             dmap_store_commit_seconds_sum 0.5\ndmap_executions_ended_total{status=\"SUCCEEDED\"} 7\n",
        );
        assert_eq!(after["dmap_executions_ended_total{status=\"SUCCEEDED\"}"], 7.0);
        let w = StoreWork::between(&before, &after);
        assert_eq!((w.groups, w.units, w.events, w.commit_seconds), (20.0, 2000.0, 50.0, 0.5));
    }
}
