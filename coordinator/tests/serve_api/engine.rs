//! Executions on dmap's engine (the embedded host): what a client sees over HTTP while they
//! run, stop and fan out.

use serde_json::json;

use crate::harness::{Api, PASS_B, arn};

#[tokio::test]
async fn on_the_engine_an_execution_runs_and_its_history_is_read_back() {
    let api = Api::with_engine().await;
    let sm = api.create("HelloWorld", PASS_B, json!({})).await;
    let started = api.ok("StartExecution", json!({"stateMachineArn": sm, "name": "run-1", "input": "{}"})).await;
    let execution = started["executionArn"].as_str().expect("an ARN").to_string();
    // AWS: the same name and input while it runs, or after, with the same input, is the same
    // execution; another input is ExecutionAlreadyExists.
    let (code, _) = api.fails("StartExecution", json!({"stateMachineArn": sm, "name": "run-1", "input": "[]"})).await;
    assert_eq!(code, "ExecutionAlreadyExists");
    // A client polls DescribeExecution as it would on AWS; the deadline bounds the test.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let described = loop {
        let d = api.ok("DescribeExecution", json!({"executionArn": execution})).await;
        if d["status"] != "RUNNING" || std::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!((described["status"].as_str(), described["output"].as_str()), (Some("SUCCEEDED"), Some("1")));
    let history = api.ok("GetExecutionHistory", json!({"executionArn": execution})).await;
    let types: Vec<&str> =
        history["events"].as_array().expect("events").iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);
    let express = api.create("Fast", PASS_B, json!({"type": "EXPRESS"})).await;
    let out = api.ok("StartSyncExecution", json!({"stateMachineArn": express, "input": "{}"})).await;
    assert_eq!((out["status"].as_str(), out["output"].as_str()), (Some("SUCCEEDED"), Some("1")));
    api.stop().await;
}

/// Calls `probe` until it answers, or panics after `seconds`: a client polls the API the same
/// way (there is no push).
async fn poll<T>(seconds: u64, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "no answer within {seconds} s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn on_the_engine_a_running_map_run_is_listed_described_and_updated() {
    let api = Api::with_engine().await;
    let child = json!({"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                       "StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 1, "End": true}}});
    let definition = json!({"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "ItemProcessor": child, "MaxConcurrency": 2, "Label": "Fan", "End": true}}});
    let sm = api.create("Fanout", &definition.to_string(), json!({})).await;
    let items: Vec<u64> = (0..6).collect();
    let started = api.ok("StartExecution", json!({"stateMachineArn": sm, "input": json!(items).to_string()})).await;
    let execution = started["executionArn"].as_str().expect("an ARN").to_string();
    let map_run = poll(20, async || {
        let runs = api.ok("ListMapRuns", json!({"executionArn": execution})).await;
        runs["mapRuns"].get(0).and_then(|r| r["mapRunArn"].as_str()).map(str::to_string)
    })
    .await;
    // AWS's form: mapRun:<state machine>/<label>:<id>.
    assert!(map_run.starts_with(&arn("mapRun:Fanout/Fan:")), "{map_run}");
    let described = api.ok("DescribeMapRun", json!({"mapRunArn": map_run})).await;
    assert_eq!(
        (described["maxConcurrency"].as_u64(), described["executionArn"].as_str()),
        (Some(2), Some(&*execution))
    );
    let (status, answer) = api.call("UpdateMapRun", json!({"mapRunArn": map_run, "maxConcurrency": 6})).await;
    if status == 200 {
        // AWS documents DescribeMapRun as eventually consistent, so a client polls; dmap answers
        // a running Map Run from its live view, so the first answer already shows it.
        let after = poll(10, async || {
            let d = api.ok("DescribeMapRun", json!({"mapRunArn": map_run})).await;
            (d["maxConcurrency"] == 6 || d["status"] != "RUNNING").then_some(d)
        })
        .await;
        assert_eq!(after["maxConcurrency"], 6, "{after}");
    } else {
        // The run may have ended between the two calls; AWS answers that so.
        assert_eq!(answer["reason"], "CANNOT_UPDATE_COMPLETED_MAP_RUN", "{answer}");
    }
    let done = poll(30, async || {
        let d = api.ok("DescribeExecution", json!({"executionArn": execution})).await;
        (d["status"] != "RUNNING").then_some(d)
    })
    .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    api.stop().await;
}

#[tokio::test]
async fn on_the_engine_a_stopped_execution_ends_aborted_with_its_error_and_cause() {
    let api = Api::with_engine().await;
    let hold = r#"{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":3600,"End":true}}}"#;
    let sm = api.create("Holds", hold, json!({})).await;
    let started = api.ok("StartExecution", json!({"stateMachineArn": sm, "name": "held"})).await;
    let execution = started["executionArn"].as_str().expect("an ARN").to_string();
    let stopped = api
        .ok("StopExecution", json!({"executionArn": execution, "error": "Operator", "cause": "no longer needed"}))
        .await;
    assert!(stopped["stopDate"].is_number(), "{stopped}");
    let d = api.ok("DescribeExecution", json!({"executionArn": execution})).await;
    assert_eq!(
        (d["status"].as_str(), d["error"].as_str(), d["cause"].as_str()),
        (Some("ABORTED"), Some("Operator"), Some("no longer needed"))
    );
    assert_eq!(d["stopDate"], stopped["stopDate"]);
    let history =
        api.ok("GetExecutionHistory", json!({"executionArn": execution, "reverseOrder": true, "maxResults": 1})).await;
    assert_eq!(history["events"][0]["type"], "ExecutionAborted");
    assert_eq!(history["events"][0]["executionAbortedEventDetails"]["error"], "Operator");
    let (code, _) = api.fails("StopExecution", json!({"executionArn": arn("execution:Holds:never-started")})).await;
    assert_eq!(code, "ExecutionDoesNotExist");
    api.stop().await;
}
