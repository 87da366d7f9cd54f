//! Issue 15 item 2: nested executions (`arn:aws:states:::states:startExecution[.sync|.sync:2]`)
//! on `dmap serve`, driven by boto3 and the AWS CLI. The child runs on the same server and is an
//! execution of its own (DescribeExecution, ListExecutions); the parent's Task returns what AWS
//! returns: StartExecution's `ExecutionArn` and `StartDate` (request-response), the child's
//! DescribeExecution-like document with `Output` as JSON text (`.sync`) or JSON (`.sync:2`),
//! and `States.TaskFailed` with that document as Cause when the child fails (shapes recorded on
//! AWS by LocalStack's snapshot tests, `test_callback.snapshot.json`). The child is linked to
//! its parent as AWS documents ("Start workflow executions from a task state": the parent passes
//! `AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID` from `$$.Execution.Id` in the child's input).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{check, serve};

/// Snippet helpers: a child that doubles `n` after a short wait, parents for each pattern.
const NESTED: &str = r#"
CHILD = {"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
    "P": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": True}}}

def parent(resource, child_arn, **task):
    call = {"Type": "Task", "Resource": resource, "Parameters": {
        "StateMachineArn": child_arn,
        "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}}, "End": True}
    call.update(task)
    return {"StartAt": "Call", "States": {"Call": call}}

def children(machine_arn):
    return [e for page in pages(sfn.list_executions, "executions", stateMachineArn=machine_arn) for e in page]
"#;

fn nested_check(s: &testkit::Serve, code: &str) -> String {
    check(s, &format!("{NESTED}\n{code}"))
}

#[test]
fn boto3_runs_the_three_patterns_with_aws_s_output_shapes() {
    let s = serve();
    nested_check(
        &s,
        r#"
child = machine("child", CHILD)["stateMachineArn"]

# .sync:2 — the child's document, Output and Input as JSON.
p2 = machine("parent-sync2", parent("arn:aws:states:::states:startExecution.sync:2", child))["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=p2, name="s2", input='{"n": 21}')["executionArn"]
d = wait_done(ex)
eq(d["status"], "SUCCEEDED", "the .sync:2 parent")
out = json.loads(d["output"])
eq(sorted(out), ["ExecutionArn", "Input", "InputDetails", "Name", "Output", "OutputDetails", "StartDate",
                 "StateMachineArn", "Status", "StopDate"], ".sync:2 members")
eq(out["Output"], {"twice": 42}, ".sync:2 Output")
eq(out["Input"], {"n": 21, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": ex}, ".sync:2 Input")
eq((out["Status"], out["StateMachineArn"], out["InputDetails"], out["OutputDetails"]),
   ("SUCCEEDED", child, {"Included": True}, {"Included": True}), ".sync:2 document")
assert out["ExecutionArn"].startswith(f"{ARN}:execution:child:"), out["ExecutionArn"]
# The child is an execution of its own, listed under its state machine, with the parent's id.
c = sfn.describe_execution(executionArn=out["ExecutionArn"])
eq((c["status"], c["name"], json.loads(c["output"])), ("SUCCEEDED", out["Name"], {"twice": 42}), "the child")
eq(json.loads(c["input"])["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"], ex, "the link to its parent")
eq([e["executionArn"] for e in children(child)], [out["ExecutionArn"]], "ListExecutions of the child's machine")
# The parent's history holds the child's document as the Task's output.
h = history(ex)
succeeded = [e for e in h if e["type"] == "TaskSucceeded"][0]["taskSucceededEventDetails"]
eq((succeeded["resourceType"], succeeded["resource"]), ("states", "startExecution.sync:2"), "the Task's resource")
eq(json.loads(succeeded["output"])["ExecutionArn"], out["ExecutionArn"], "TaskSucceeded names the child")

# .sync — the same document, Output and Input as JSON text.
p1 = machine("parent-sync", parent("arn:aws:states:::states:startExecution.sync", child))["stateMachineArn"]
ex1 = sfn.start_execution(stateMachineArn=p1, name="s1", input='{"n": 4}')["executionArn"]
out1 = json.loads(wait_done(ex1)["output"])
eq(json.loads(out1["Output"]), {"twice": 8}, ".sync Output is JSON text")
eq(json.loads(out1["Input"]), {"n": 4, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": ex1}, ".sync Input is JSON text")

# Request-response — StartExecution's answer; the parent does not wait.
p0 = machine("parent-start", parent("arn:aws:states:::states:startExecution", child))["stateMachineArn"]
ex0 = sfn.start_execution(stateMachineArn=p0, name="s0", input='{"n": 1}')["executionArn"]
out0 = json.loads(wait_done(ex0)["output"])
eq(sorted(k for k in out0 if not k.startswith("Sdk")), ["ExecutionArn", "StartDate"], "request-response members")
eq(out0["SdkHttpMetadata"]["HttpStatusCode"], 200, "the SDK's metadata")
started = out0["ExecutionArn"]
eq(json.loads(wait_done(started)["output"]), {"twice": 2}, "the child started by request-response")
eq(len(children(child)), 3, "three children, one per parent")
"#,
    );
}

#[test]
fn boto3_sees_a_failed_child_fail_the_task_and_a_stopped_parent_stop_its_child() {
    let s = serve();
    nested_check(
        &s,
        r#"
failing = machine("failing", FAIL)["stateMachineArn"]
p = machine("parent-of-failing", parent("arn:aws:states:::states:startExecution.sync:2", failing))["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=p, name="f", input='{"n": 1}')["executionArn"]
d = wait_done(ex)
eq((d["status"], d["error"]), ("FAILED", "States.TaskFailed"), "the parent of a failed child")
cause = json.loads(d["cause"])
eq((cause["Status"], cause["Error"], cause["Cause"]), ("FAILED", "Boom", "it broke"), "the child's failure in the Cause")
assert "Output" not in cause, cause
eq(sfn.describe_execution(executionArn=cause["ExecutionArn"])["status"], "FAILED", "the child")

# A Catch sees the same error and Cause.
caught = parent("arn:aws:states:::states:startExecution.sync", failing,
                Catch=[{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Handled"}])
del caught["States"]["Call"]["End"]
caught["States"]["Call"]["Next"] = "Handled"
caught["States"]["Handled"] = {"Type": "Succeed"}
pc = machine("catching", caught)["stateMachineArn"]
d = wait_done(sfn.start_execution(stateMachineArn=pc, name="c", input='{"n": 1}')["executionArn"])
eq(d["status"], "SUCCEEDED", "a caught child failure")
eq(json.loads(json.loads(d["output"])["error"]["Cause"])["Error"], "Boom", "the Cause a Catch sees")

# StopExecution on a parent stops its .sync child.
slow = machine("slow", WAIT_LONG)["stateMachineArn"]
ps = machine("parent-of-slow", parent("arn:aws:states:::states:startExecution.sync:2", slow))["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=ps, name="s", input='{"n": 1}')["executionArn"]
deadline = time.monotonic() + 30
while not children(slow):
    assert time.monotonic() < deadline, "no child started within 30 s"
    time.sleep(0.05)
kid = children(slow)[0]["executionArn"]
sfn.stop_execution(executionArn=ex, error="Operator", cause="enough")
eq(sfn.describe_execution(executionArn=ex)["status"], "ABORTED", "the stopped parent")
eq(wait_done(kid, timeout=30)["status"], "ABORTED", "its .sync child")

# A request-response child is not the parent's to stop.
pr = machine("parent-rr", parent("arn:aws:states:::states:startExecution", slow))["stateMachineArn"]
d = wait_done(sfn.start_execution(stateMachineArn=pr, name="r", input='{"n": 1}')["executionArn"])
free = json.loads(d["output"])["ExecutionArn"]
eq(sfn.describe_execution(executionArn=free)["status"], "RUNNING", "a request-response child runs on")
sfn.stop_execution(executionArn=free)
"#,
    );
}

#[test]
fn boto3_completes_a_wait_for_task_token_child_with_send_task_success() {
    let s = serve();
    nested_check(
        &s,
        r#"
# AWS's callback example for nested executions: the child gets the token in its input
# ("Start workflow executions from a task state"), here handed back by this client.
worker = machine("worker", WAIT_LONG)["stateMachineArn"]
p = machine("parent-cb", {"StartAt": "Call", "States": {"Call": {
    "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
    "Parameters": {"StateMachineArn": worker, "Input": {"token.$": "$$.Task.Token",
                   "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
    "End": True}}})["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=p, name="cb", input="{}")["executionArn"]
deadline = time.monotonic() + 30
while not children(worker):
    assert time.monotonic() < deadline, "no child started within 30 s"
    time.sleep(0.05)
kid = children(worker)[0]["executionArn"]
token = json.loads(sfn.describe_execution(executionArn=kid)["input"])["token"]
# The parent waits for the callback: its history shows the StartExecution answer as TaskSubmitted.
while "TaskSubmitted" not in [e["type"] for e in history(ex)]:
    assert time.monotonic() < deadline, f"no TaskSubmitted within 30 s: {[(e['type'], e.get('taskFailedEventDetails') or e.get('executionFailedEventDetails')) for e in history(ex)]}"
    time.sleep(0.05)
submitted = [e for e in history(ex) if e["type"] == "TaskSubmitted"][0]["taskSubmittedEventDetails"]
eq(json.loads(submitted["output"])["ExecutionArn"], kid, "TaskSubmitted names the child")
sfn.send_task_success(taskToken=token, output='{"approved": true}')
d = wait_done(ex)
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"approved": True}), "the parent, called back")
eq(sfn.describe_execution(executionArn=kid)["status"], "RUNNING", "the child is not the parent's to stop")
sfn.stop_execution(executionArn=kid)
"#,
    );
}

#[test]
fn a_nested_child_may_be_a_version_or_an_alias() {
    let s = serve();
    nested_check(
        &s,
        r#"
child = machine("child", CHILD, publish=True)
version = child["stateMachineVersionArn"]
alias = sfn.create_state_machine_alias(name="live", routingConfiguration=[
    {"stateMachineVersionArn": version, "weight": 100}])["stateMachineAliasArn"]
for target, name in ((version, "v"), (alias, "a")):
    p = machine(f"parent-{name}", parent("arn:aws:states:::states:startExecution.sync:2", target))["stateMachineArn"]
    d = wait_done(sfn.start_execution(stateMachineArn=p, name=name, input='{"n": 3}')["executionArn"])
    eq(d["status"], "SUCCEEDED", f"the parent of a child started by {target}")
    out = json.loads(d["output"])
    eq((out["Output"], out["StateMachineArn"]), ({"twice": 6}, child["stateMachineArn"]), f"the child of {target}")
    c = sfn.describe_execution(executionArn=out["ExecutionArn"])
    eq(c["stateMachineVersionArn"], version, "the version that ran")
    if target == alias:
        eq(c.get("stateMachineAliasArn"), alias, "the alias it was started through")
        eq(out.get("StateMachineAliasArn"), alias, "the alias in the Task's output")
"#,
    );
}

#[test]
fn distributed_map_children_start_nested_executions_in_process() {
    let s = serve();
    nested_check(
        &s,
        r#"
child = machine("child", CHILD)["stateMachineArn"]
fan = {"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "End": True,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Call", "States": {"Call": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": child, "Input": {"n.$": "$"}},
            "OutputPath": "$.Output", "End": True}}}}}}
p = machine("fan", fan)["stateMachineArn"]
d = wait_done(sfn.start_execution(stateMachineArn=p, name="f", input="[1, 2, 3]")["executionArn"])
eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", [{"twice": 2}, {"twice": 4}, {"twice": 6}]), "the Map's result")
kids = children(child)
eq((len(kids), {k["status"] for k in kids}), (3, {"SUCCEEDED"}), "one child per item")
"#,
    );
}

#[test]
fn a_parent_waiting_on_a_sync2_child_survives_kill_9_without_a_second_child() {
    let mut s = serve();
    nested_check(
        &s,
        r#"
SLOWER = {"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 3, "Next": "P"},
    "P": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": True}}}
child = machine("child", SLOWER)["stateMachineArn"]
p = machine("parent", parent("arn:aws:states:::states:startExecution.sync:2", child))["stateMachineArn"]
sfn.start_execution(stateMachineArn=p, name="k", input='{"n": 8}')
deadline = time.monotonic() + 30
while not children(child):
    assert time.monotonic() < deadline, "no child started within 30 s"
    time.sleep(0.05)
eq(children(child)[0]["status"], "RUNNING", "the child before the kill")
"#,
    );
    s.kill9();
    s.restart();
    nested_check(
        &s,
        r#"
child = f"{ARN}:stateMachine:child"
d = wait_done(f"{ARN}:execution:parent:k")
eq(d["status"], "SUCCEEDED", "the parent after the restart")
out = json.loads(d["output"])
eq(out["Output"], {"twice": 16}, "the child's output")
kids = children(child)
eq([k["executionArn"] for k in kids], [out["ExecutionArn"]], "one child, the one the parent waited on")
# Once more with a graceful stop (SIGTERM): a server that shuts down stops no child.
sfn.start_execution(stateMachineArn=f"{ARN}:stateMachine:parent", name="g", input='{"n": 9}')
deadline = time.monotonic() + 30
while len(children(child)) < 2:
    assert time.monotonic() < deadline, "no second child within 30 s"
    time.sleep(0.05)
"#,
    );
    s.restart();
    nested_check(
        &s,
        r#"
d = wait_done(f"{ARN}:execution:parent:g")
eq((d["status"], json.loads(d["output"])["Output"]), ("SUCCEEDED", {"twice": 18}), "the parent after a graceful restart")
eq(len(children(f"{ARN}:stateMachine:child")), 2, "still one child per parent")
"#,
    );
}

#[test]
fn aws_cli_starts_a_nested_sync2_execution_and_lists_the_child() {
    let s = serve();
    let role = "arn:aws:iam::123456789012:role/service-role/StepFunctions-dmap";
    let arn = "arn:aws:states:us-east-1:123456789012";
    let child = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"from": "child"}, "End": true}}});
    s.aws(&["create-state-machine", "--name", "cli-child", "--definition", &child.to_string(), "--role-arn", role]);
    let parent = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": format!("{arn}:stateMachine:cli-child"), "Name": "the-child",
                       "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
        "OutputPath": "$.Output", "End": true}}});
    s.aws(&["create-state-machine", "--name", "cli-parent", "--definition", &parent.to_string(), "--role-arn", role]);
    let started =
        s.aws(&["start-execution", "--state-machine-arn", &format!("{arn}:stateMachine:cli-parent"), "--name", "p"]);
    let ex = started["executionArn"].as_str().expect("executionArn").to_string();
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
    let output: Value = serde_json::from_str(described["output"].as_str().expect("output")).expect("JSON");
    assert_eq!(output, json!({"from": "child"}));
    let listed = s.aws(&["list-executions", "--state-machine-arn", &format!("{arn}:stateMachine:cli-child")]);
    let kids = listed["executions"].as_array().expect("executions");
    assert_eq!(kids.len(), 1, "{listed}");
    assert_eq!(kids[0]["executionArn"], format!("{arn}:execution:cli-child:the-child").as_str());
    assert_eq!(kids[0]["status"], "SUCCEEDED");
    let kid = s.aws(&["describe-execution", "--execution-arn", &format!("{arn}:execution:cli-child:the-child")]);
    let input: Value = serde_json::from_str(kid["input"].as_str().expect("input")).expect("JSON input");
    assert_eq!(input, json!({"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": ex}));
    // A child state machine that does not exist fails the Task with the SDK's exception name.
    let missing = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
        "Parameters": {"StateMachineArn": format!("{arn}:stateMachine:absent")}, "End": true}}});
    s.aws(&["create-state-machine", "--name", "cli-missing", "--definition", &missing.to_string(), "--role-arn", role]);
    let started = s.aws(&["start-execution", "--state-machine-arn", &format!("{arn}:stateMachine:cli-missing")]);
    let ex = started["executionArn"].as_str().expect("executionArn").to_string();
    let described = loop {
        let d = s.aws(&["describe-execution", "--execution-arn", &ex]);
        if d["status"] != "RUNNING" {
            break d;
        }
        assert!(Instant::now() < deadline, "{ex} still RUNNING");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(described["status"], "FAILED");
    assert_eq!(described["error"], "StepFunctions.StateMachineDoesNotExistException", "{described}");
}
