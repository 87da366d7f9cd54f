//! RedriveExecution with boto3 and the AWS CLI. Expected behaviour from AWS's API reference
//! (RedriveExecution, DescribeExecution's `redriveStatus`/`redriveStatusReason`, ListExecutions'
//! `redriveFilter`, `ExecutionRedrivenEventDetails`, `MapRunRedrivenEventDetails`,
//! DescribeMapRun's `redriveCount`) and the Developer Guide ("Redriving executions",
//! "Redriving Map Runs"): a redrive continues from the unsuccessful step with the same input
//! and doesn't rerun successful steps; Parallel and Map redrive only what failed or did not
//! run.
//!
//! The Tasks are local functions (`--functions`): one Python handler that logs every call to
//! a file and fails (`errorType` `Flaky`) while a marker file exists, so a test fails a step,
//! removes the marker and redrives, and counts the calls each step got.

use std::path::{Path, PathBuf};

use serde_json::json;
use testkit::Serve;

use crate::{check, serve_with};

const HANDLER: &str = r#"
import json, os, sys
where, name = sys.argv[1], sys.argv[2]
event = json.load(sys.stdin)
with open(os.path.join(where, f"calls-{name}"), "a") as f:
    f.write(json.dumps(event) + "\n")
n = event.get("n") if isinstance(event, dict) else None
if os.path.exists(os.path.join(where, f"broken-{name}")) or os.path.exists(os.path.join(where, f"broken-{name}-{n}")):
    print(json.dumps({"errorType": "Flaky", "errorMessage": f"{name} is broken"}))
    sys.exit(1)
print(json.dumps({"fn": name, "n": n}))
"#;

/// A server with functions `first`, `flaky`, `good`, `item`, each the handler above, whose
/// calls and markers live in the returned directory.
fn server() -> (Serve, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let handler = dir.path().join("handler.py");
    std::fs::write(&handler, HANDLER).expect("the handler");
    let mut functions = String::new();
    for name in ["first", "flaky", "good", "item"] {
        functions.push_str(&format!(
            "[functions.{name}]\ncommand = [\"python3\", {:?}, {:?}, {name:?}]\nper_invocation = true\n",
            handler.to_string_lossy(),
            dir.path().to_string_lossy()
        ));
    }
    let file = dir.path().join("functions.toml");
    std::fs::write(&file, functions).expect("the functions file");
    (serve_with(&["--functions", &file.to_string_lossy()]), dir)
}

/// The Python prelude of these tests: where the markers and call logs are.
fn prelude(dir: &Path) -> String {
    format!(
        r#"
import os
DIR = {dir:?}
def fn(name):
    return f"arn:aws:lambda:us-east-1:123456789012:function:{{name}}"
def calls(name):
    p = os.path.join(DIR, f"calls-{{name}}")
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []
def broken(name, on=True):
    p = os.path.join(DIR, f"broken-{{name}}")
    if on:
        open(p, "w").close()
    else:
        os.remove(p)
"#,
        dir = dir.to_string_lossy()
    )
}

fn marker(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(format!("broken-{name}"));
    std::fs::write(&p, "").expect("a marker");
    p
}

#[test]
fn boto3_redrives_a_failed_task_and_runs_only_it_again() {
    let (s, dir) = server();
    marker(dir.path(), "flaky");
    check(
        &s,
        &(prelude(dir.path())
            + r#"
TWO = {"StartAt": "First", "States": {
    "First": {"Type": "Task", "Resource": fn("first"), "Next": "Second"},
    "Second": {"Type": "Task", "Resource": fn("flaky"), "End": True,
               "Parameters": {"input.$": "$", "redriveCount.$": "$$.Execution.RedriveCount"}}}}
sm = machine("two", TWO)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, name="r1", input=json.dumps({"n": 7}))["executionArn"]
d = wait_done(ex)
eq((d["status"], d["error"]), ("FAILED", "Flaky"), "the first attempt")
eq((d["redriveCount"], d["redriveStatus"]), (0, "REDRIVABLE"), "redrive fields before a redrive")
assert "redriveDate" not in d, d
eq([e["executionArn"] for e in sfn.list_executions(stateMachineArn=sm, redriveFilter="NOT_REDRIVEN")["executions"]],
   [ex], "NOT_REDRIVEN before")
eq(sfn.list_executions(stateMachineArn=sm, redriveFilter="REDRIVEN")["executions"], [], "REDRIVEN before")
before = history(ex)

broken("flaky", on=False)
answer = sfn.redrive_execution(executionArn=ex)
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"fn": "flaky", "n": None}), "after the redrive")
eq(d["redriveCount"], 1, "redriveCount")
eq(d["redriveDate"], answer["redriveDate"], "redriveDate is the redrive's")
eq(d["startDate"] < d["redriveDate"] <= d["stopDate"], True, "dates in order")
eq((d["redriveStatus"], d["redriveStatusReason"]),
   ("NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"), "a succeeded execution")
# AWS: successful steps are not rerun; the failed step runs again with its input.
eq(len(calls("first")), 1, "calls of the successful step")
eq(len(calls("flaky")), 2, "calls of the failed step")
# The failed step's own input, and the context object's Execution.RedriveCount (0, then 1).
eq(calls("flaky"), [{"input": {"fn": "first", "n": 7}, "redriveCount": n} for n in (0, 1)], "the failed step's input")

# AWS: redriven executions append to the existing history.
h = history(ex)
eq([e["type"] for e in h[:len(before)]], [e["type"] for e in before], "the first attempt's events stay")
eq([e["type"] for e in h[len(before):]], [
    "ExecutionRedriven", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
    "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"], "the redriven run's events (a function ARN's)")
eq(h[len(before)]["executionRedrivenEventDetails"], {"redriveCount": 1}, "executionRedrivenEventDetails")
eq([e["id"] for e in h], list(range(1, len(h) + 1)), "ids without gaps")

listed = sfn.list_executions(stateMachineArn=sm, redriveFilter="REDRIVEN")["executions"]
eq([(e["executionArn"], e["redriveCount"]) for e in listed], [(ex, 1)], "REDRIVEN after")
eq(listed[0]["redriveDate"], answer["redriveDate"], "ListExecutions' redriveDate")
eq(sfn.list_executions(stateMachineArn=sm, redriveFilter="NOT_REDRIVEN")["executions"], [], "NOT_REDRIVEN after")

# AWS's errors.
eq(code(sfn.redrive_execution, executionArn=ex), "ExecutionNotRedrivable", "a succeeded execution")
eq(error_of(sfn.redrive_execution, executionArn=ex)["message"], "Execution is SUCCEEDED and cannot be redriven",
   "its reason")
eq(code(sfn.redrive_execution, executionArn=f"{ARN}:execution:two:nope"), "ExecutionDoesNotExist", "unknown")
eq(code(sfn.redrive_execution, executionArn="arn:aws:states:us-east-1:123456789012:nope"), "InvalidArn", "not an ARN")
express = machine("quick", PASS, type="EXPRESS")["stateMachineArn"]
quick = sfn.start_execution(stateMachineArn=express)["executionArn"]
eq(code(sfn.redrive_execution, executionArn=quick), "InvalidArn", "an Express execution")
eq(code(sfn.redrive_execution, executionArn=ex, clientToken="has space"), "ValidationException", "clientToken pattern")
# AWS: a PENDING_REDRIVE statusFilter with a stateMachineArn is a validation exception.
eq(code(sfn.list_executions, stateMachineArn=sm, statusFilter="PENDING_REDRIVE"), "ValidationException",
   "PENDING_REDRIVE without mapRunArn")

# A running execution cannot be redriven; a stopped (ABORTED) one can.
waits = machine("waits", WAIT_LONG)["stateMachineArn"]
w = sfn.start_execution(stateMachineArn=waits, name="w")["executionArn"]
e = error_of(sfn.redrive_execution, executionArn=w)
eq((e["code"], e["message"]), ("ExecutionNotRedrivable", "Execution is RUNNING and cannot be redriven"), "running")
sfn.stop_execution(executionArn=w)
eq(sfn.describe_execution(executionArn=w)["redriveStatus"], "REDRIVABLE", "an aborted execution")
# The same clientToken is the same redrive (AWS: idempotent for 15 minutes).
first = sfn.redrive_execution(executionArn=w, clientToken="again-1")
eq(sfn.redrive_execution(executionArn=w, clientToken="again-1")["redriveDate"], first["redriveDate"], "the same clientToken")
d = sfn.describe_execution(executionArn=w)
eq((d["status"], d["redriveCount"]), ("RUNNING", 1), "redriven once")
deadline = time.monotonic() + 30
while [e["type"] for e in history(w)][-1] != "WaitStateEntered":
    assert time.monotonic() < deadline, "the redriven execution did not enter its Wait again within 30 s"
    time.sleep(0.05)
eq([e["type"] for e in history(w)][-2:], ["ExecutionRedriven", "WaitStateEntered"], "the Wait entered again")
"#),
    );
}

#[test]
fn boto3_redrives_only_the_failed_branch_of_a_parallel() {
    let (s, dir) = server();
    marker(dir.path(), "flaky");
    check(
        &s,
        &(prelude(dir.path())
            + r#"
PAR = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "Good", "States": {"Good": {"Type": "Task", "Resource": fn("good"), "End": True}}},
    {"StartAt": "Before", "States": {
        "Before": {"Type": "Task", "Resource": fn("first"), "Next": "Bad"},
        "Bad": {"Type": "Task", "Resource": fn("flaky"), "End": True}}}]}}}
sm = machine("par", PAR)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
eq(wait_done(ex)["status"], "FAILED", "one branch failed")
broken("flaky", on=False)
sfn.redrive_execution(executionArn=ex)
d = wait_done(ex)
eq(d["status"], "SUCCEEDED", "after the redrive")
eq(json.loads(d["output"]), [{"fn": "good", "n": None}, {"fn": "flaky", "n": None}], "both branches' outputs")
eq((len(calls("good")), len(calls("first")), len(calls("flaky"))), (1, 1, 2), "only the failed step ran again")
types = [e["type"] for e in history(ex)]
after = types[types.index("ExecutionRedriven"):]
eq(after.count("LambdaFunctionScheduled"), 1, "one function scheduled after the redrive")
eq((after.count("ParallelStateEntered"), after[-1]), (1, "ExecutionSucceeded"), "the Parallel entered again")
"#),
    );
}

/// AWS ("Redriving Map Runs"): redriving the parent redrives its failed Map Run, which runs
/// only the failed and pending items again (the Map Run keeps its ARN; DescribeMapRun counts
/// the redrive; the history has `MapRunRedriven`).
#[test]
fn boto3_redrives_a_distributed_map_s_failed_and_pending_items_only() {
    let (s, dir) = server();
    for n in [2, 5] {
        marker(dir.path(), &format!("item-{n}"));
    }
    check(
        &s,
        &(prelude(dir.path())
            + r#"
# One item at a time; the second failure breaks the tolerance of 1: items 1, 3, 4 succeed,
# 2 and 5 fail, 6 never starts (PENDING).
FAN = {"StartAt": "Fan", "States": {"Fan": {
    "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "ToleratedFailureCount": 1, "End": True,
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": fn("item"), "End": True}}}}}}
sm = machine("fan", FAN)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, input=json.dumps({"items": [{"n": n} for n in range(1, 7)]}))["executionArn"]
d = wait_done(ex)
eq((d["status"], d["error"]), ("FAILED", "States.ExceedToleratedFailureThreshold"), "the first attempt")
eq(sorted(c["n"] for c in calls("item")), [1, 2, 3, 4, 5], "items run by the first attempt")
mr = sfn.list_map_runs(executionArn=ex)["mapRuns"][0]["mapRunArn"]
m = sfn.describe_map_run(mapRunArn=mr)
eq((m["status"], m["redriveCount"]), ("FAILED", 0), "the failed Map Run")
eq((m["itemCounts"]["succeeded"], m["itemCounts"]["failed"], m["itemCounts"]["pending"]), (3, 2, 1), "its items")

for n in (2, 5):
    broken(f"item-{n}", on=False)
sfn.redrive_execution(executionArn=ex)
d = wait_done(ex)
eq(d["status"], "SUCCEEDED", "after the redrive")
eq(json.loads(d["output"]), [{"fn": "item", "n": n} for n in range(1, 7)], "every item's result, in order")
counted = {}
for c in calls("item"):
    counted[c["n"]] = counted.get(c["n"], 0) + 1
eq(counted, {1: 1, 2: 2, 3: 1, 4: 1, 5: 2, 6: 1}, "calls per item: only failed and pending items ran again")

eq([r["mapRunArn"] for r in sfn.list_map_runs(executionArn=ex)["mapRuns"]], [mr], "the same Map Run")
m = sfn.describe_map_run(mapRunArn=mr)
eq((m["status"], m["redriveCount"]), ("SUCCEEDED", 1), "the redriven Map Run")
eq(m["redriveDate"] >= m["startDate"], True, "DescribeMapRun's redriveDate")
eq((m["itemCounts"]["succeeded"], m["itemCounts"]["total"]), (6, 6), "its items")
h = history(ex)
redriven = [e for e in h if e["type"] == "MapRunRedriven"]
eq(len(redriven), 1, "one MapRunRedriven")
eq(redriven[0]["mapRunRedrivenEventDetails"], {"mapRunArn": mr, "redriveCount": 1}, "mapRunRedrivenEventDetails")
types = [e["type"] for e in h]
eq(types.index("ExecutionRedriven") < types.index("MapRunRedriven"), True, "after ExecutionRedriven")

# The children that failed were redriven (the same child executions, redriveCount 1).
kids = sfn.list_executions(mapRunArn=mr, redriveFilter="REDRIVEN")["executions"]
ins = sorted(json.loads(sfn.describe_execution(executionArn=k["executionArn"])["input"])["n"] for k in kids)
eq(ins, [2, 5], "the redriven children")
eq({k["redriveCount"] for k in kids}, {1}, "their redriveCount")
eq(len(sfn.list_executions(mapRunArn=mr)["executions"]), 6, "one child per item")
"#),
    );
}

#[test]
fn aws_cli_redrives_an_execution_and_reports_aws_s_errors() {
    let (s, dir) = server();
    let broken = marker(dir.path(), "flaky");
    let role = "arn:aws:iam::123456789012:role/service-role/StepFunctions-dmap";
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky", "End": true}}})
    .to_string();
    let sm = s.aws(&["create-state-machine", "--name", "cli", "--definition", &definition, "--role-arn", role]);
    let sm = sm["stateMachineArn"].as_str().expect("stateMachineArn").to_string();
    let ex = s.aws(&["start-execution", "--state-machine-arn", &sm, "--name", "c1"]);
    let ex = ex["executionArn"].as_str().expect("executionArn").to_string();
    let described = wait(&s, &ex);
    assert_eq!(
        (described["status"].as_str(), described["redriveStatus"].as_str()),
        (Some("FAILED"), Some("REDRIVABLE"))
    );
    std::fs::remove_file(&broken).expect("the marker");

    let answer = s.aws(&["redrive-execution", "--execution-arn", &ex]);
    assert!(answer["redriveDate"].is_number() || answer["redriveDate"].is_string(), "{answer}");
    let described = wait(&s, &ex);
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    assert_eq!(described["redriveCount"], 1, "{described}");
    assert_eq!(described["redriveDate"], answer["redriveDate"], "{described}");
    let listed = s.aws(&["list-executions", "--state-machine-arn", &sm, "--redrive-filter", "REDRIVEN"]);
    assert_eq!(listed["executions"][0]["executionArn"], ex.as_str(), "{listed}");
    let history = s.aws(&["get-execution-history", "--execution-arn", &ex]);
    let redriven: Vec<&serde_json::Value> =
        history["events"].as_array().expect("events").iter().filter(|e| e["type"] == "ExecutionRedriven").collect();
    assert_eq!(redriven.len(), 1, "{history}");
    assert_eq!(redriven[0]["executionRedrivenEventDetails"], json!({"redriveCount": 1}));

    // The CLI prints AWS's code and message.
    let err = s.aws_fails(&["redrive-execution", "--execution-arn", &ex]);
    assert!(
        err.contains("An error occurred (ExecutionNotRedrivable) when calling the RedriveExecution operation"),
        "{err}"
    );
    assert!(err.trim_end().ends_with(": Execution is SUCCEEDED and cannot be redriven"), "{err}");
    let err = s.aws_fails(&[
        "redrive-execution",
        "--execution-arn",
        &format!("{sm}:nope").replace("stateMachine", "execution"),
    ]);
    assert!(err.contains("(ExecutionDoesNotExist)"), "{err}");
}

/// DescribeExecution through the CLI until the execution leaves RUNNING.
fn wait(s: &Serve, arn: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let d = s.aws(&["describe-execution", "--execution-arn", arn]);
        if d["status"] != "RUNNING" {
            return d;
        }
        assert!(std::time::Instant::now() < deadline, "{arn} still RUNNING after 60 s");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
