//! `dmap serve` killed with SIGKILL while Standard executions wait and a Map Run runs on NATS
//! workers, then restarted on the same data directory: every execution finishes with the
//! right result and a history without gaps or repeats, no child that had finished runs
//! again, and every item is accounted for exactly once. And (issue 15) killed while callbacks
//! are pending, an activity task is handed out and nested `.sync:2` children run: every token
//! is still accepted after the restart, and no child is started twice.

#[path = "serve_durability/integrations.rs"]
mod integrations;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::nats::{
    Cluster, Proc, assert_all_succeeded_once, fixture, free_addr, http_get, recorded_outcomes, wait_for,
    write_functions,
};

const TEST_DEADLINE: Duration = Duration::from_secs(90);

/// One call of the Step Functions API (AWS JSON 1.0) over plain HTTP on loopback: the status
/// and the parsed body.
fn call(addr: &str, action: &str, body: &Value) -> Option<(u16, Value)> {
    call_within(addr, action, body, Duration::from_secs(10))
}

/// [`call`] waiting up to `read` for the answer (GetActivityTask long-polls for 60 s).
fn call_within(addr: &str, action: &str, body: &Value, read: Duration) -> Option<(u16, Value)> {
    let sock: std::net::SocketAddr = addr.parse().ok()?;
    let mut s = std::net::TcpStream::connect_timeout(&sock, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(read)).ok()?;
    let body = body.to_string();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: AWSStepFunctions.{action}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    // A chunked body is not expected from a JSON API answer of known length.
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

fn ok(addr: &str, action: &str, body: Value) -> Value {
    match call(addr, action, &body) {
        Some((200, v)) => v,
        other => panic!("{action} {body}: {other:?}"),
    }
}

fn serve(c: &Cluster, addr: &str, data: &Path, name: &str) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmap"));
    cmd.arg("serve").arg("--listen").arg(addr).arg("--data").arg(data).arg("--nats").arg(c.nats.url());
    cmd.arg("--bucket").arg(format!("data={}", c.path("data").display()));
    cmd.arg("--bucket").arg(format!("results={}", c.path("results").display()));
    Proc::spawn(name, cmd, &c.logs())
}

fn wait_ready(addr: &str, server: &Proc, deadline: Instant) {
    wait_for(
        "dmap serve's /healthz to answer 200",
        deadline,
        || http_get(addr, "/healthz").filter(|(s, _)| *s == 200),
        || server.tail(),
    );
}

/// The ids and types of an execution's whole history, read page by page.
fn history(addr: &str, arn: &str) -> Vec<(u64, u64, String)> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"executionArn": arn, "maxResults": 100});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = ok(addr, "GetExecutionHistory", req);
        for e in page["events"].as_array().expect("events") {
            out.push((
                e["id"].as_u64().expect("id"),
                e["previousEventId"].as_u64().unwrap_or(0),
                e["type"].as_str().expect("type").to_string(),
            ));
        }
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => return out,
        }
    }
}

#[test]
fn a_killed_server_resumes_waiting_executions_and_its_map_run_without_losing_or_repeating_anything() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let mut c = Cluster::new(&[]);
    let (functions, log) = (c.path("functions.toml"), c.path("executions.log"));
    write_functions(&functions, &log);
    c = c.with_worker_args(&["--ack-wait-seconds", "5", "--functions", functions.to_str().expect("utf-8")]);
    let (n, batch, concurrency) = (600u64, 20u64, 4u64);
    c.write_items(n, |i| json!({"id": i, "v": i}));
    c.start_worker();
    c.start_worker();
    c.wait_workers_ready(deadline);

    let (addr, data) = (free_addr(), c.path("serve-data"));
    let mut first = serve(&c, &addr, &data, "serve-first");
    wait_ready(&addr, &first, deadline);
    let role = "arn:aws:iam::123456789012:role/dmap";
    let waits = ok(
        &addr,
        "CreateStateMachine",
        json!({
            "name": "waits", "roleArn": role,
            "definition": json!({"StartAt": "Hold", "States": {
                "Hold": {"Type": "Wait", "Seconds": 4, "Next": "Done"},
                "Done": {"Type": "Pass", "Parameters": {"got.$": "$.n", "ok": true}, "End": true}}}).to_string()
        }),
    )["stateMachineArn"]
        .as_str()
        .expect("arn")
        .to_string();
    let definition = std::fs::read_to_string(fixture("record.asl.json")).expect("fixture");
    let maps = ok(&addr, "CreateStateMachine", json!({"name": "records", "roleArn": role, "definition": definition}))
        ["stateMachineArn"]
        .as_str()
        .expect("arn")
        .to_string();
    let waiting: Vec<String> = (0..10)
        .map(|i| {
            let input = json!({"n": i}).to_string();
            ok(&addr, "StartExecution", json!({"stateMachineArn": waits, "name": format!("w{i}"), "input": input}))
                ["executionArn"]
                .as_str()
                .expect("arn")
                .to_string()
        })
        .collect();
    let input = json!({"batch": batch, "concurrency": concurrency, "seconds": 1, "tolerated": 0}).to_string();
    let map_exec =
        ok(&addr, "StartExecution", json!({"stateMachineArn": maps, "name": "map", "input": input}))["executionArn"]
            .as_str()
            .expect("arn")
            .to_string();

    // Kill the server once some of the Map Run's batches have finished.
    let map_run_arn = wait_for(
        "the Map Run to start",
        deadline,
        || {
            let runs = ok(&addr, "ListMapRuns", json!({"executionArn": map_exec}));
            runs["mapRuns"].get(0).and_then(|r| r["mapRunArn"].as_str()).map(str::to_string)
        },
        || first.tail(),
    );
    let map_run_id = map_run_arn.rsplit(':').next().expect("id").to_string();
    let finished: BTreeSet<u64> = wait_for(
        "some batches to finish",
        deadline,
        || {
            let done: BTreeSet<u64> = recorded_outcomes(&c.nats.url(), &map_run_id).into_iter().collect();
            (done.len() >= 3).then_some(done)
        },
        || first.tail(),
    );
    first.kill();
    assert!((finished.len() as u64) < n / batch, "the Map Run had finished before the kill");

    let second = serve(&c, &addr, &data, "serve-second");
    wait_ready(&addr, &second, deadline);
    let describe = |arn: &str| ok(&addr, "DescribeExecution", json!({"executionArn": arn}));
    for (i, arn) in waiting.iter().chain([&map_exec]).enumerate() {
        let d = wait_for(
            "the execution to end",
            deadline,
            || Some(describe(arn)).filter(|d| d["status"] != "RUNNING"),
            || format!("{}\n{}", second.tail(), c.diagnostic(&[])),
        );
        assert_eq!(d["status"], "SUCCEEDED", "{arn}: {d}");
        if i < waiting.len() {
            let output: Value = serde_json::from_str(d["output"].as_str().expect("output")).expect("JSON output");
            assert_eq!(output, json!({"got": i, "ok": true}));
        }
        // One history, without gaps or repeats: ids 1..=N, each event once.
        let events = history(&addr, arn);
        let ids: Vec<u64> = events.iter().map(|e| e.0).collect();
        assert_eq!(ids, (1..=events.len() as u64).collect::<Vec<_>>(), "{arn}: {events:?}");
        assert_eq!(events.first().map(|e| e.2.as_str()), Some("ExecutionStarted"));
        assert_eq!(events.last().map(|e| e.2.as_str()), Some("ExecutionSucceeded"));
        let mut seen = BTreeMap::new();
        for e in &events {
            *seen.entry(e.2.as_str()).or_insert(0) += 1;
        }
        if i < waiting.len() {
            for kind in ["WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited"] {
                assert_eq!(seen.get(kind), Some(&1), "{arn}: {events:?}");
            }
        } else {
            for kind in ["MapStateEntered", "MapRunStarted", "MapRunSucceeded", "MapStateExited"] {
                assert_eq!(seen.get(kind), Some(&1), "{arn}: {events:?}");
            }
        }
    }

    // Every item once in the results; batches finished before the kill ran once.
    assert_all_succeeded_once(&c, &map_run_id, n);
    let mut runs: BTreeMap<u64, u32> = BTreeMap::new();
    for line in std::fs::read_to_string(&log).expect("the executions log").lines() {
        *runs.entry(line.parse::<u64>().expect("an item id") / batch).or_default() += 1;
    }
    assert_eq!(runs.keys().copied().collect::<Vec<u64>>(), (0..n / batch).collect::<Vec<u64>>(), "every batch ran");
    for b in &finished {
        assert_eq!(runs[b], 1, "batch {b} had finished before the kill and ran again");
    }
    let run = ok(&addr, "DescribeMapRun", json!({"mapRunArn": map_run_arn}));
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["itemCounts"]["succeeded"], n, "{run}");
    assert_eq!(run["itemCounts"]["total"], n, "{run}");
}

/// Without NATS: a Map Run on the in-process pool, interrupted by SIGKILL, resumes from the
/// outcomes the server recorded; children that had finished (well before the kill) do not run
/// again, and every item is accounted for once.
#[test]
fn an_in_process_map_run_resumes_without_running_finished_children_again() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let c = Cluster::new(&[]);
    let (functions, log) = (c.path("functions.toml"), c.path("executions.log"));
    write_functions(&functions, &log);
    let (n, batch) = (300u64, 10u64);
    c.write_items(n, |i| json!({"id": i, "v": i}));
    let (addr, data) = (free_addr(), c.path("serve-data"));
    let start = |name: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmap"));
        cmd.arg("serve").arg("--listen").arg(&addr).arg("--data").arg(&data);
        cmd.arg("--functions").arg(&functions);
        cmd.arg("--bucket").arg(format!("data={}", c.path("data").display()));
        cmd.arg("--bucket").arg(format!("results={}", c.path("results").display()));
        Proc::spawn(name, cmd, &c.logs())
    };
    let mut first = start("serve-first");
    wait_ready(&addr, &first, deadline);
    let definition = std::fs::read_to_string(fixture("record.asl.json")).expect("fixture");
    let role = "arn:aws:iam::123456789012:role/dmap";
    let sm = ok(&addr, "CreateStateMachine", json!({"name": "records", "roleArn": role, "definition": definition}))
        ["stateMachineArn"]
        .as_str()
        .expect("arn")
        .to_string();
    let input = json!({"batch": batch, "concurrency": 3, "seconds": 1, "tolerated": 0}).to_string();
    let exec =
        ok(&addr, "StartExecution", json!({"stateMachineArn": sm, "name": "map", "input": input}))["executionArn"]
            .as_str()
            .expect("arn")
            .to_string();
    let ran = || -> BTreeSet<u64> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.parse::<u64>().ok())
            .map(|id| id / batch)
            .collect()
    };
    let finished =
        wait_for("some children to finish", deadline, || Some(ran()).filter(|r| r.len() >= 6), || first.tail());
    // Their outcomes reach the store within a group commit; a running child takes a second.
    std::thread::sleep(Duration::from_millis(400));
    first.kill();
    let total = n / batch;
    assert!((finished.len() as u64) < total, "the Map Run had finished before the kill");

    let second = start("serve-second");
    wait_ready(&addr, &second, deadline);
    let d = wait_for(
        "the execution to end",
        deadline,
        || Some(ok(&addr, "DescribeExecution", json!({"executionArn": exec}))).filter(|d| d["status"] != "RUNNING"),
        || second.tail(),
    );
    assert_eq!(d["status"], "SUCCEEDED", "{d}\n{}", second.tail());
    let mut runs: BTreeMap<u64, u32> = BTreeMap::new();
    for line in std::fs::read_to_string(&log).expect("the executions log").lines() {
        *runs.entry(line.parse::<u64>().expect("an item id") / batch).or_default() += 1;
    }
    assert_eq!(runs.keys().copied().collect::<Vec<u64>>(), (0..total).collect::<Vec<u64>>(), "every batch ran");
    for b in &finished {
        assert_eq!(runs[b], 1, "batch {b} had finished before the kill and ran again: {runs:?}");
    }
    let map_run_arn = ok(&addr, "ListMapRuns", json!({"executionArn": exec}))["mapRuns"][0]["mapRunArn"]
        .as_str()
        .expect("a Map Run")
        .to_string();
    assert_all_succeeded_once(&c, map_run_arn.rsplit(':').next().expect("id"), n);
}
