//! The AWS CLI v1 (`aws stepfunctions …`) against `dmap serve`: the commands a shell user types,
//! its automatic pagination over nextToken, and its error text for AWS's error codes.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::serve;

const ROLE: &str = "arn:aws:iam::123456789012:role/service-role/StepFunctions-dmap";
const ARN: &str = "arn:aws:states:us-east-1:123456789012";

#[test]
fn aws_cli_drives_machines_executions_and_history() {
    let s = serve();
    let definition = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.p", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
    .to_string();
    let created = s.aws(&["create-state-machine", "--name", "cli", "--definition", &definition, "--role-arn", ROLE]);
    let sm = format!("{ARN}:stateMachine:cli");
    assert_eq!(created["stateMachineArn"], sm.as_str(), "{created}");

    let listed = s.aws(&["list-state-machines"]);
    let names: Vec<&str> = listed["stateMachines"]
        .as_array()
        .expect("stateMachines")
        .iter()
        .map(|m| m["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["cli"], "{listed}");

    let started = s.aws(&["start-execution", "--state-machine-arn", &sm, "--name", "first", "--input", r#"{"x": 1}"#]);
    let ex = format!("{ARN}:execution:cli:first");
    assert_eq!(started["executionArn"], ex.as_str(), "{started}");

    let deadline = Instant::now() + Duration::from_secs(60);
    let described = loop {
        let d = s.aws(&["describe-execution", "--execution-arn", &ex]);
        if d["status"] != "RUNNING" {
            break d;
        }
        assert!(Instant::now() < deadline, "{ex} still RUNNING after 60 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let output: Value = serde_json::from_str(described["output"].as_str().expect("output")).expect("JSON output");
    assert_eq!(output, json!({"x": 1, "p": {"a": 1}}));

    // --page-size makes the CLI ask for 3 events a page and follow nextToken to the end.
    let history = s.aws(&["get-execution-history", "--execution-arn", &ex, "--reverse-order", "--page-size", "3"]);
    let types: Vec<&str> =
        history["events"].as_array().expect("events").iter().map(|e| e["type"].as_str().unwrap_or("")).collect();
    assert_eq!(
        types,
        [
            "ExecutionSucceeded",
            "SucceedStateExited",
            "SucceedStateEntered",
            "WaitStateExited",
            "WaitStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "ExecutionStarted"
        ]
    );

    let succeeded = s.aws(&["list-executions", "--state-machine-arn", &sm, "--status-filter", "SUCCEEDED"]);
    assert_eq!(succeeded["executions"].as_array().map(Vec::len), Some(1), "{succeeded}");

    s.aws(&["tag-resource", "--resource-arn", &sm, "--tags", "key=team,value=data"]);
    let tags = s.aws(&["list-tags-for-resource", "--resource-arn", &sm]);
    assert_eq!(tags["tags"], json!([{"key": "team", "value": "data"}]));

    let validated = s.aws(&["validate-state-machine-definition", "--definition", "{"]);
    assert_eq!(validated["result"], "FAIL", "{validated}");
}

#[test]
fn aws_cli_runs_express_synchronously_and_reports_errors() {
    let s = serve();
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": true}}}).to_string();
    let created = s.aws(&[
        "create-state-machine",
        "--name",
        "adder",
        "--type",
        "EXPRESS",
        "--definition",
        &definition,
        "--role-arn",
        ROLE,
        "--publish",
    ]);
    assert_eq!(created["stateMachineVersionArn"], format!("{ARN}:stateMachine:adder:1").as_str(), "{created}");
    let sm = format!("{ARN}:stateMachine:adder");
    let r = s.aws(&["start-sync-execution", "--state-machine-arn", &sm, "--input", r#"{"a": 40, "b": 2}"#]);
    assert_eq!(r["status"], "SUCCEEDED", "{r}");
    assert_eq!(serde_json::from_str::<Value>(r["output"].as_str().expect("output")).expect("JSON"), json!({"sum": 42}));

    // The CLI prints AWS's error code and the action's name.
    let err = s.aws_fails(&["describe-execution", "--execution-arn", &format!("{ARN}:execution:adder:missing")]);
    assert!(err.contains("(ExecutionDoesNotExist) when calling the DescribeExecution operation"), "{err}");
    let err = s.aws_fails(&["describe-state-machine", "--state-machine-arn", "not-an-arn"]);
    assert!(err.contains("(InvalidArn) when calling the DescribeStateMachine operation"), "{err}");
    let err = s.aws_fails(&["describe-state-machine", "--state-machine-arn", &format!("{ARN}:stateMachine:missing")]);
    assert!(err.contains("(StateMachineDoesNotExist)"), "{err}");
    let err = s.aws_fails(&["start-sync-execution", "--state-machine-arn", &sm, "--input", "{not json"]);
    assert!(err.contains("(InvalidExecutionInput)"), "{err}");

    s.aws(&["delete-state-machine", "--state-machine-arn", &sm]);
}

/// The README's Distributed Map commands: list-map-runs, update-map-run and describe-map-run on
/// a running Map Run, by the CLI.
#[test]
fn aws_cli_lists_updates_and_describes_a_map_run() {
    let s = serve();
    let definition = json!({"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": true,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 2, "End": true}}}}}})
    .to_string();
    let sm = format!("{ARN}:stateMachine:fan");
    s.aws(&["create-state-machine", "--name", "fan", "--definition", &definition, "--role-arn", ROLE]);
    let input = json!({"items": [1, 2, 3, 4]}).to_string();
    s.aws(&["start-execution", "--state-machine-arn", &sm, "--name", "f1", "--input", &input]);
    let ex = format!("{ARN}:execution:fan:f1");

    let deadline = Instant::now() + Duration::from_secs(60);
    let map_run = loop {
        let runs = s.aws(&["list-map-runs", "--execution-arn", &ex]);
        if let Some(arn) = runs["mapRuns"][0]["mapRunArn"].as_str() {
            break arn.to_string();
        }
        assert!(Instant::now() < deadline, "no Map Run listed within 60 s: {runs}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(map_run.starts_with(&format!("{ARN}:mapRun:fan/Fan:")), "{map_run}");
    s.aws(&["update-map-run", "--map-run-arn", &map_run, "--max-concurrency", "4", "--tolerated-failure-count", "1"]);
    let described = loop {
        let d = s.aws(&["describe-map-run", "--map-run-arn", &map_run]);
        if d["status"] != "RUNNING" {
            break d;
        }
        assert!(Instant::now() < deadline, "the Map Run still RUNNING after 60 s: {d}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    assert_eq!(
        (&described["maxConcurrency"], &described["toleratedFailureCount"]),
        (&json!(4), &json!(1)),
        "{described}"
    );
    assert_eq!(described["itemCounts"]["succeeded"], 4, "{described}");
}
