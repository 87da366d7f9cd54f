//! Callbacks on `dmap serve` through boto3 and the AWS CLI: a `.waitForTaskToken` Task whose
//! Lambda function (a local process from `--functions`) records the token it was given, then
//! SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat from the client, a missed heartbeat
//! caught as `States.Timeout`, AWS's errors, and a `kill -9` of the server while the Task waits.
//!
//! Expected values: "Wait for a Callback with Task Token" (the task pauses until SendTaskSuccess
//! or SendTaskFailure; `HeartbeatSeconds` missed → `States.Timeout`), the API reference of the
//! three actions (members, `InvalidToken`, `TaskTimedOut` "the task associated with the token has
//! already been closed", `InvalidOutput`), and the history event types (TaskSubmitted).

use std::path::{Path, PathBuf};

use testkit::Serve;

use crate::check;

/// A functions file whose `approve` function appends the token of its event to `tokens.txt`
/// in `dir` and answers at once (a queue that a person reads later).
pub(crate) fn functions(dir: &Path) -> PathBuf {
    let runtime = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/python/dmap_runtime.py")
        .canonicalize()
        .expect("examples/python/dmap_runtime.py");
    assert!(
        std::process::Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success()),
        "these tests run a Python function: install python3 (e.g. `apt-get install python3`) and put it on PATH"
    );
    std::fs::write(
        dir.join("approve.py"),
        "import os\n\ndef handler(event, context):\n    with open(os.path.join(os.path.dirname(__file__), 'tokens.txt'), 'a') as f:\n        f.write(event['token'] + '\\n')\n    return {'queued': True}\n",
    )
    .expect("approve.py");
    let file = dir.join("functions.toml");
    std::fs::write(
        &file,
        format!(
            "[functions.approve]\ncommand = [\"python3\", {runtime:?}, \"approve:handler\"]\nworking_dir = {dir:?}\n"
        ),
    )
    .expect("functions.toml");
    file
}

/// A server with the `approve` function; the directory holds `tokens.txt`.
fn serve_with_function() -> (Serve, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = functions(dir.path());
    let s = crate::serve_with(&["--functions", file.to_str().expect("a UTF-8 path")]);
    (s, dir)
}

/// Python: the machine factory and a reader of the tokens the function recorded.
fn prelude(dir: &Path) -> String {
    format!(
        r#"
TOKENS = {tokens:?}
import os

def callback_machine(name, heartbeat=None, catch=False):
    task = {{"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {{"FunctionName": "approve", "Payload": {{"token.$": "$$.Task.Token", "n.$": "$.n"}}}},
        "End": True}}
    if heartbeat:
        task["HeartbeatSeconds"] = heartbeat
    states = {{"Approve": task}}
    if catch:
        del task["End"]
        task["Next"] = "Approved"
        task["Catch"] = [{{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Late"}}]
        states["Approved"] = {{"Type": "Succeed"}}
        states["Late"] = {{"Type": "Pass", "Result": "no answer in time", "ResultPath": "$.late", "End": True}}
    return machine(name, {{"StartAt": "Approve", "States": states}})["stateMachineArn"]

def tokens():
    if not os.path.exists(TOKENS):
        return []
    with open(TOKENS) as f:
        return [l.strip() for l in f if l.strip()]

def token_number(i, timeout=60):
    """The i-th token the function recorded (from 0), once it has."""
    deadline = time.monotonic() + timeout
    while len(tokens()) <= i:
        assert time.monotonic() < deadline, f"the function recorded {{len(tokens())}} tokens, not {{i + 1}}"
        time.sleep(0.05)
    return tokens()[i]

def task_events(ex):
    return [e["type"] for e in history(ex) if e["type"].startswith("Task") and "State" not in e["type"]]
"#,
        tokens = dir.join("tokens.txt").to_str().expect("a UTF-8 path")
    )
}

#[test]
fn boto3_sends_task_success_failure_and_heartbeats() {
    let (s, dir) = serve_with_function();
    check(
        &s,
        &(prelude(dir.path())
            + r#"
sm = callback_machine("approval")
ex = sfn.start_execution(stateMachineArn=sm, name="yes", input='{"n": 1}')["executionArn"]
token = token_number(0)
time.sleep(0.2)
eq(sfn.describe_execution(executionArn=ex)["status"], "RUNNING", "waiting for its callback")
sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True, "by": "ops"}))
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"approved": True, "by": "ops"}), "the callback's output")
eq(task_events(ex), ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"], "the Task's events")
submitted = [e for e in history(ex) if e["type"] == "TaskSubmitted"][0]["taskSubmittedEventDetails"]
eq((submitted["resourceType"], submitted["resource"]), ("lambda", "invoke.waitForTaskToken"), "TaskSubmitted names its resource")
eq(json.loads(submitted["output"])["Payload"], {"queued": True}, "TaskSubmitted holds the function's answer")
# The task is closed: AWS's TaskTimedOut ("already been closed"), for all three actions.
eq(code(sfn.send_task_success, taskToken=token, output="{}"), "TaskTimedOut", "success after the end")
eq(code(sfn.send_task_failure, taskToken=token), "TaskTimedOut", "failure after the end")
eq(code(sfn.send_task_heartbeat, taskToken=token), "TaskTimedOut", "heartbeat after the end")

ex = sfn.start_execution(stateMachineArn=sm, name="no", input='{"n": 2}')["executionArn"]
token = token_number(1)
# Not JSON: InvalidOutput, and the Task still waits.
eq(code(sfn.send_task_success, taskToken=token, output="{not json"), "InvalidOutput", "output that is not JSON")
sfn.send_task_failure(taskToken=token, error="Rejected", cause="not this time")
d = wait_done(ex)
eq((d["status"], d.get("error"), d.get("cause")), ("FAILED", "Rejected", "not this time"), "the callback's failure")
eq(task_events(ex)[-1], "TaskFailed", "the Task failed")

# Heartbeats keep a Task with HeartbeatSeconds alive past it.
sm = callback_machine("beating", heartbeat=3)
ex = sfn.start_execution(stateMachineArn=sm, name="beats", input='{"n": 3}')["executionArn"]
token = token_number(2)
for _ in range(5):
    sfn.send_task_heartbeat(taskToken=token)
    time.sleep(1)
eq(sfn.describe_execution(executionArn=ex)["status"], "RUNNING", "alive after 5 s of heartbeats")
sfn.send_task_success(taskToken=token, output='"done"')
eq(wait_done(ex)["status"], "SUCCEEDED", "ended by its callback")

# A token this server did not make.
for bad in ["not-a-token", "A" * 100]:
    eq(code(sfn.send_task_success, taskToken=bad, output="{}"), "InvalidToken", f"success with {bad[:12]}")
    eq(code(sfn.send_task_failure, taskToken=bad, error="E"), "InvalidToken", "failure with a bad token")
    eq(code(sfn.send_task_heartbeat, taskToken=bad), "InvalidToken", "heartbeat with a bad token")
# The model's constraints (botocore validates them client-side, so send them raw).
eq(code(sfn.send_task_failure, taskToken=token, error="E" * 257), "ValidationException", "error longer than 256")
"#),
    );
}

#[test]
fn boto3_a_missed_heartbeat_is_states_timeout_for_catch() {
    let (s, dir) = serve_with_function();
    check(
        &s,
        &(prelude(dir.path())
            + r#"
sm = callback_machine("forgotten", heartbeat=1, catch=True)
ex = sfn.start_execution(stateMachineArn=sm, name="late", input='{"n": 1}')["executionArn"]
token = token_number(0)
d = wait_done(ex)
out = json.loads(d["output"])
eq((d["status"], out["late"], out["error"]["Error"]), ("SUCCEEDED", "no answer in time", "States.Timeout"), "caught")
eq(task_events(ex), ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskTimedOut"], "the Task timed out")
eq(code(sfn.send_task_success, taskToken=token, output="{}"), "TaskTimedOut", "a callback after the timeout")
"#),
    );
}

/// `kill -9` while a Task waits: after the restart the execution waits again with the same
/// token, which is accepted; a callback accepted (HTTP 200) just before a kill is not lost.
#[test]
fn boto3_callbacks_survive_kill_9_of_the_server() {
    let (mut s, dir) = serve_with_function();
    let prelude = prelude(dir.path());
    check(
        &s,
        &(prelude.clone()
            + r#"
sm = callback_machine("durable")
ex = sfn.start_execution(stateMachineArn=sm, name="pending", input='{"n": 1}')["executionArn"]
token_number(0)
ex = sfn.start_execution(stateMachineArn=sm, name="accepted", input='{"n": 2}')["executionArn"]
deadline = time.monotonic() + 60
while "TaskSubmitted" not in task_events(ex):
    assert time.monotonic() < deadline, "the Task did not submit"
    time.sleep(0.05)
sfn.send_task_success(taskToken=token_number(1), output='{"kept": true}')
"#),
    );
    s.kill9();
    s.restart();
    check(
        &s,
        &(prelude
            + r#"
ex = f"{ARN}:execution:durable:accepted"
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"kept": True}), "the callback accepted before the kill")
ex = f"{ARN}:execution:durable:pending"
eq(sfn.describe_execution(executionArn=ex)["status"], "RUNNING", "still waiting after the restart")
sfn.send_task_success(taskToken=token_number(0), output='{"after": "restart"}')
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"after": "restart"}), "the same token after the restart")
eq(len(tokens()), 2, "the function was not called again")
eq(task_events(ex), ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"], "each Task event once")
"#),
    );
}

#[test]
fn aws_cli_sends_task_success_heartbeat_and_failure() {
    let (s, dir) = serve_with_function();
    let tokens = dir.path().join("tokens.txt");
    let token = |i: usize| -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&tokens).unwrap_or_default();
            if let Some(t) = text.lines().nth(i) {
                return t.to_string();
            }
            assert!(std::time::Instant::now() < deadline, "the function did not record token {i}:\n{}", s.log());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let definition = serde_json::json!({"StartAt": "Approve", "States": {"Approve": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "HeartbeatSeconds": 600,
        "Parameters": {"FunctionName": "approve", "Payload": {"token.$": "$$.Task.Token"}}, "End": true}}})
    .to_string();
    let role = "arn:aws:iam::123456789012:role/service-role/StepFunctions-dmap";
    let sm = s.aws(&["create-state-machine", "--name", "cli", "--definition", &definition, "--role-arn", role]);
    let sm = sm["stateMachineArn"].as_str().expect("stateMachineArn").to_string();
    let wait_status = |ex: &str| loop {
        let d = s.aws(&["describe-execution", "--execution-arn", ex]);
        if d["status"] != "RUNNING" {
            return d;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };

    let ex = s.aws(&["start-execution", "--state-machine-arn", &sm, "--name", "one"]);
    let ex = ex["executionArn"].as_str().expect("executionArn").to_string();
    let t = token(0);
    // One Task waits for its callback (a gauge on /metrics).
    let metrics = testkit::http_get(s.port(), "/metrics").expect("/metrics");
    let pending = metrics.lines().find_map(|l| l.strip_prefix("dmap_callbacks_pending ")).map(str::trim);
    assert_eq!(pending.and_then(|v| v.parse::<f64>().ok()), Some(1.0), "{metrics}");
    // Both print nothing: AWS answers an empty body.
    assert_eq!(s.aws(&["send-task-heartbeat", "--task-token", &t]), serde_json::Value::Null);
    assert_eq!(
        s.aws(&["send-task-success", "--task-token", &t, "--task-output", r#"{"ok": 1}"#]),
        serde_json::Value::Null
    );
    let d = wait_status(&ex);
    assert_eq!((d["status"].as_str(), d["output"].as_str()), (Some("SUCCEEDED"), Some(r#"{"ok":1}"#)), "{d}");

    let ex = s.aws(&["start-execution", "--state-machine-arn", &sm, "--name", "two"]);
    let ex = ex["executionArn"].as_str().expect("executionArn").to_string();
    let t = token(1);
    s.aws(&["send-task-failure", "--task-token", &t, "--error", "Nope", "--cause", "said no"]);
    let d = wait_status(&ex);
    assert_eq!(
        (d["status"].as_str(), d["error"].as_str(), d["cause"].as_str()),
        (Some("FAILED"), Some("Nope"), Some("said no"))
    );

    let err = s.aws_fails(&["send-task-success", "--task-token", &t, "--task-output", "{}"]);
    assert!(err.contains("(TaskTimedOut) when calling the SendTaskSuccess operation"), "{err}");
    let err = s.aws_fails(&["send-task-heartbeat", "--task-token", "forged"]);
    assert!(err.contains("(InvalidToken) when calling the SendTaskHeartbeat operation"), "{err}");
}

/// A function that calls SendTaskSuccess itself before it answers its invocation (plain HTTP
/// with the AWS JSON 1.0 headers, as an SDK sends it): the callback comes while the
/// integration's call is still in flight, and the Task still ends with it.
#[test]
fn a_function_that_calls_back_before_it_answers() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let runtime = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/python/dmap_runtime.py")
        .canonicalize()
        .expect("examples/python/dmap_runtime.py");
    std::fs::write(
        dir.path().join("selfcall.py"),
        r#"import json, urllib.request

def handler(event, context):
    body = json.dumps({"taskToken": event["token"], "output": json.dumps({"self": True})}).encode()
    request = urllib.request.Request(event["endpoint"] + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.SendTaskSuccess"})
    urllib.request.urlopen(request).read()
    return {"called": "back"}
"#,
    )
    .expect("selfcall.py");
    let file = dir.path().join("functions.toml");
    std::fs::write(
        &file,
        format!(
            "[functions.selfcall]\ncommand = [\"python3\", {runtime:?}, \"selfcall:handler\"]\nworking_dir = {:?}\n",
            dir.path()
        ),
    )
    .expect("functions.toml");
    let s = crate::serve_with(&["--functions", file.to_str().expect("a UTF-8 path")]);
    check(
        &s,
        &format!(
            r#"
sm = machine("eager", {{"StartAt": "Call", "States": {{"Call": {{"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "Parameters": {{"FunctionName": "selfcall", "Payload": {{"token.$": "$$.Task.Token", "endpoint": "{url}"}}}},
    "End": True}}}}}})["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, name="eager")["executionArn"]
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {{"self": True}}), "the callback sent during the call")
"#,
            url = s.url()
        ),
    );
}
