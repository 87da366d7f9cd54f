//! Issue 15's crash test: `kill -9` of `dmap serve` while
//! - three executions wait for a callback (`lambda:invoke.waitForTaskToken`, their tokens handed
//!   to a local function that writes them down, each history ending with `TaskSubmitted`),
//! - an activity task has been handed out (GetActivityTask answered, not yet completed),
//! - two nested `startExecution.sync:2` children run (each in its Wait state);
//!
//! then a restart on the same data. After it, every token handed out before the kill is still
//! accepted (SendTaskSuccess answers `{}`), every execution ends SUCCEEDED with the output its
//! callback or child gave, ListExecutions of the child machine lists exactly one child per
//! parent, and no call or hand-out recorded before the kill was made again.
//!
//! AWS's contract used here: the token reaches the task through `$$.Task.Token` in its
//! Parameters and the Task's result is SendTaskSuccess's `output`
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token>);
//! SendTaskSuccess answers an empty object, and a token whose task is closed is refused with
//! `TaskTimedOut` ("the task associated with the token has already been closed",
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html>);
//! GetActivityTask answers `{taskToken, input}` (input a JSON string) and ActivityStarted names
//! the worker (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetActivityTask.html>);
//! `.sync:2` gives the child's output as JSON in `Output`, and a child started with
//! `AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID` in its input is linked to its parent
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html>,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-nested-workflows.html>).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::Serve;

use super::support::nats::wait_for;
use super::{call, call_within, history, ok};

const DEADLINE: Duration = Duration::from_secs(120);
const ROLE: &str = "arn:aws:iam::123456789012:role/dmap";
const CALLBACKS: u64 = 3;
const PARENTS: u64 = 2;

/// The function of the callback Tasks: writes its event (with the token) as one line of
/// `$TOKENS`, as a worker that queues the job for someone else would, and returns.
const HOLD_PY: &str = r#"
import json, os

def handler(event, context):
    with open(os.environ["TOKENS"], "a") as f:
        f.write(json.dumps(event) + "\n")
    return {"queued": event["n"]}
"#;

fn functions_file(dir: &Path, tokens: &Path) -> std::path::PathBuf {
    std::fs::write(dir.join("hold.py"), HOLD_PY).expect("hold.py");
    let runtime = testkit::repo().join("examples/python/dmap_runtime.py");
    let file = dir.join("functions.toml");
    std::fs::write(
        &file,
        format!(
            "[functions.hold]\ncommand = [\"python3\", {runtime:?}, \"hold:handler\"]\nworking_dir = {dir:?}\n\
             concurrency = 1\nenv = {{ TOKENS = {tokens:?} }}\n",
            runtime = runtime.display().to_string(),
            dir = dir.display().to_string(),
            tokens = tokens.display().to_string(),
        ),
    )
    .expect("functions.toml");
    file
}

/// The events the function got, by `n`, in the order it got them.
fn holds(tokens: &Path) -> BTreeMap<u64, Vec<String>> {
    let mut by_n: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for line in std::fs::read_to_string(tokens).unwrap_or_default().lines() {
        let e: Value = serde_json::from_str(line).expect("a JSON line");
        by_n.entry(e["n"].as_u64().expect("n")).or_default().push(e["token"].as_str().expect("token").to_string());
    }
    by_n
}

fn create(addr: &str, name: &str, definition: Value) -> String {
    let body = json!({"name": name, "roleArn": ROLE, "definition": definition.to_string()});
    ok(addr, "CreateStateMachine", body)["stateMachineArn"].as_str().expect("stateMachineArn").to_string()
}

fn start(addr: &str, machine: &str, name: &str, input: Value) -> String {
    let body = json!({"stateMachineArn": machine, "name": name, "input": input.to_string()});
    ok(addr, "StartExecution", body)["executionArn"].as_str().expect("executionArn").to_string()
}

fn types(addr: &str, arn: &str) -> Vec<String> {
    history(addr, arn).into_iter().map(|e| e.2).collect()
}

fn count(types: &[String], kind: &str) -> usize {
    types.iter().filter(|t| *t == kind).count()
}

/// Every execution of a state machine (one page: the test makes few).
fn executions(addr: &str, machine: &str) -> Vec<Value> {
    let page = ok(addr, "ListExecutions", json!({"stateMachineArn": machine, "maxResults": 1000}));
    assert!(page["nextToken"].is_null(), "more than one page of executions of {machine}");
    page["executions"].as_array().expect("executions").clone()
}

fn send_success(addr: &str, token: &str, output: &Value) -> Option<(u16, Value)> {
    call(addr, "SendTaskSuccess", &json!({"taskToken": token, "output": output.to_string()}))
}

#[test]
fn tokens_activity_tasks_and_nested_children_survive_kill_9_without_a_second_child() {
    let deadline = Instant::now() + DEADLINE;
    let dir = tempfile::tempdir().expect("temporary directory");
    let tokens = dir.path().join("tokens.jsonl");
    let functions = functions_file(dir.path(), &tokens);
    let mut s = Serve::start_with(env!("CARGO_BIN_EXE_dmap"), &["--functions", functions.to_str().expect("utf-8")]);
    let addr = format!("127.0.0.1:{}", s.port());

    // Callbacks.
    let waits = create(
        &addr,
        "waits",
        json!({"StartAt": "Hold", "States": {
            "Hold": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                     "Parameters": {"FunctionName": "hold", "Payload": {"token.$": "$$.Task.Token", "n.$": "$.n"}},
                     "ResultPath": "$.callback", "TimeoutSeconds": 300, "Next": "Done"},
            "Done": {"Type": "Pass", "End": true}}}),
    );
    // An activity.
    let activity = ok(&addr, "CreateActivity", json!({"name": "crash-worker"}))["activityArn"]
        .as_str()
        .expect("activityArn")
        .to_string();
    let works = create(
        &addr,
        "works",
        json!({"StartAt": "Work", "States": {
            "Work": {"Type": "Task", "Resource": activity, "TimeoutSeconds": 300, "End": true}}}),
    );
    // Nested children that are still running when the server dies.
    let child = create(
        &addr,
        "child",
        json!({"StartAt": "Hold", "States": {
            "Hold": {"Type": "Wait", "Seconds": 5, "Next": "Work"},
            "Work": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.n, 100)"}, "End": true}}}),
    );
    let parents = create(
        &addr,
        "parents",
        json!({"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                     "Parameters": {"StateMachineArn": child,
                                    "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
                     "ResultSelector": {"v.$": "$.Output.v"},
                     "End": true}}}),
    );

    let callback_execs: Vec<String> =
        (0..CALLBACKS).map(|n| start(&addr, &waits, &format!("cb{n}"), json!({"n": n}))).collect();
    let work_exec = start(&addr, &works, "job", json!({"job": 7}));
    let parent_execs: Vec<String> =
        (0..PARENTS).map(|n| start(&addr, &parents, &format!("p{n}"), json!({"n": n}))).collect();

    // Every callback is pending: its token reached the function, and the Task recorded the call.
    for arn in &callback_execs {
        wait_for(
            "the callback Task to wait (TaskSubmitted)",
            deadline,
            || types(&addr, arn).last().filter(|t| *t == "TaskSubmitted").map(|_| ()),
            || format!("{:?}\n{}", types(&addr, arn), s.log()),
        );
    }
    let before = holds(&tokens);
    assert_eq!(before.keys().copied().collect::<Vec<_>>(), (0..CALLBACKS).collect::<Vec<_>>(), "{before:?}");

    // The activity task is handed out to a worker and not completed.
    let task = call_within(
        &addr,
        "GetActivityTask",
        &json!({"activityArn": activity, "workerName": "worker-1"}),
        Duration::from_secs(70),
    );
    let task = match task {
        Some((200, v)) => v,
        other => panic!("GetActivityTask: {other:?}\n{}", s.log()),
    };
    let activity_token = task["taskToken"].as_str().filter(|t| !t.is_empty()).expect("a task token").to_string();
    let activity_input: Value = serde_json::from_str(task["input"].as_str().expect("input")).expect("JSON input");
    assert_eq!(activity_input, json!({"job": 7}));

    // Each parent's child runs (in its Wait), and it is the only child of that parent.
    let running_children = wait_for(
        "both children to be in their Wait",
        deadline,
        || {
            let list = executions(&addr, &child);
            let waiting = list
                .iter()
                .filter(|e| e["status"] == "RUNNING")
                .filter(|e| {
                    types(&addr, e["executionArn"].as_str().expect("arn")).contains(&"WaitStateEntered".to_string())
                })
                .count();
            (list.len() as u64 == PARENTS && waiting as u64 == PARENTS).then_some(list)
        },
        || s.log(),
    );
    s.kill9();
    s.restart();

    // Every token handed out before the kill is accepted after it.
    for (n, toks) in &before {
        let answer = send_success(&addr, &toks[0], &json!({"approved": n}));
        assert_eq!(answer, Some((200, json!({}))), "SendTaskSuccess for callback {n} after the restart\n{}", s.log());
    }
    let answer = send_success(&addr, &activity_token, &json!({"done": 7}));
    assert_eq!(answer, Some((200, json!({}))), "SendTaskSuccess for the activity after the restart\n{}", s.log());

    let done = |arn: &str| {
        wait_for(
            "the execution to end",
            deadline,
            || Some(ok(&addr, "DescribeExecution", json!({"executionArn": arn}))).filter(|d| d["status"] != "RUNNING"),
            || s.log(),
        )
    };
    let output =
        |d: &Value| -> Value { serde_json::from_str(d["output"].as_str().expect("output")).expect("JSON output") };
    for (n, arn) in callback_execs.iter().enumerate() {
        let d = done(arn);
        assert_eq!(d["status"], "SUCCEEDED", "{arn}: {d}");
        assert_eq!(output(&d), json!({"n": n, "callback": {"approved": n}}), "{arn}");
        let t = types(&addr, arn);
        assert_eq!(
            (count(&t, "TaskScheduled"), count(&t, "TaskSubmitted"), count(&t, "TaskSucceeded")),
            (1, 1, 1),
            "{arn}: {t:?}"
        );
    }
    let d = done(&work_exec);
    assert_eq!((d["status"].as_str(), output(&d)), (Some("SUCCEEDED"), json!({"done": 7})), "{d}");
    let t = types(&addr, &work_exec);
    assert_eq!(
        (count(&t, "ActivityScheduled"), count(&t, "ActivityStarted"), count(&t, "ActivitySucceeded")),
        (1, 1, 1),
        "the activity task was handed out once: {t:?}"
    );
    for (n, arn) in parent_execs.iter().enumerate() {
        let d = done(arn);
        assert_eq!(d["status"], "SUCCEEDED", "{arn}: {d}");
        assert_eq!(output(&d), json!({"v": n as u64 + 100}), "{arn}");
    }

    // Exactly one child per parent call: the two that ran before the kill, finished.
    let children = executions(&addr, &child);
    let arns = |list: &[Value]| -> BTreeSet<String> {
        list.iter().map(|e| e["executionArn"].as_str().expect("arn").to_string()).collect()
    };
    assert_eq!(arns(&children), arns(&running_children), "the children after the restart are the ones before it");
    let mut started_by = BTreeSet::new();
    for c in &children {
        let arn = c["executionArn"].as_str().expect("arn");
        let d = ok(&addr, "DescribeExecution", json!({"executionArn": arn}));
        assert_eq!(d["status"], "SUCCEEDED", "{d}");
        let input: Value = serde_json::from_str(d["input"].as_str().expect("input")).expect("JSON input");
        started_by
            .insert(input["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"].as_str().expect("the parent").to_string());
        let t = types(&addr, arn);
        assert_eq!((count(&t, "WaitStateEntered"), count(&t, "ExecutionSucceeded")), (1, 1), "{arn}: {t:?}");
    }
    assert_eq!(started_by, parent_execs.iter().cloned().collect::<BTreeSet<_>>(), "one child per parent");

    // No callback's function was called again: its call had been recorded (TaskSubmitted).
    assert_eq!(holds(&tokens), before, "the function was called again after the restart");
    // A closed task's token is refused (AWS: TaskTimedOut).
    let again = send_success(&addr, &before[&0][0], &json!({"approved": 0}));
    assert_eq!(
        again.as_ref().map(|a| (a.0, a.1["__type"].as_str().map(|t| t.rsplit('#').next().unwrap_or(t).to_string()))),
        Some((400, Some("TaskTimedOut".to_string()))),
        "{again:?}"
    );
}
