//! Executions through boto3: StartExecution's idempotency, DescribeExecution, ListExecutions
//! (filter, pagination), StopExecution, DescribeStateMachineForExecution, StartSyncExecution,
//! and the error codes clients see.

use crate::{check, serve};

/// AWS: the same name and input as an open execution is a success with the same execution;
/// another input, or any input once the execution has closed, is ExecutionAlreadyExists.
/// StopExecution ends it ABORTED with an ExecutionAborted event carrying error and cause.
#[test]
fn start_is_idempotent_by_name_and_input_and_stop_aborts() {
    let s = serve();
    check(
        &s,
        r#"
sm = machine("waits", WAIT_LONG)["stateMachineArn"]
a = sfn.start_execution(stateMachineArn=sm, name="run-1", input='{"n": 1}')
eq(a["executionArn"], f"{ARN}:execution:waits:run-1", "an execution's ARN")
b = sfn.start_execution(stateMachineArn=sm, name="run-1", input='{"n": 1}')
eq((b["executionArn"], b["startDate"]), (a["executionArn"], a["startDate"]), "the idempotent start")
eq(code(sfn.start_execution, stateMachineArn=sm, name="run-1", input='{"n": 2}'), "ExecutionAlreadyExists",
   "the same name with another input")
eq(len(sfn.list_executions(stateMachineArn=sm)["executions"]), 1, "one execution for the three starts")

d = sfn.describe_execution(executionArn=a["executionArn"])
eq((d["status"], d["name"], d["stateMachineArn"], d["input"]), ("RUNNING", "run-1", sm, '{"n": 1}'),
   "DescribeExecution of a running execution")
eq("stopDate" in d, False, "no stopDate while running")

stop = sfn.stop_execution(executionArn=a["executionArn"], error="Cancelled", cause="by the test")
assert "stopDate" in stop, stop
d = wait_done(a["executionArn"])
eq(d["status"], "ABORTED", "a stopped execution")
assert d["stopDate"] >= d["startDate"], d
last = history(a["executionArn"])[-1]
eq((last["type"], last.get("executionAbortedEventDetails")), ("ExecutionAborted", {"error": "Cancelled", "cause": "by the test"}),
   "the last event of a stopped execution")
eq(code(sfn.start_execution, stateMachineArn=sm, name="run-1", input='{"n": 1}'), "ExecutionAlreadyExists",
   "the same name and input once the execution has closed")
"#,
    );
}

/// DescribeExecution of a finished execution, and DescribeStateMachineForExecution, which keeps
/// the definition the execution ran after the state machine is updated.
#[test]
fn describe_execution_and_its_state_machine() {
    let s = serve();
    check(
        &s,
        r#"
sm = machine("steps", PASS_WAIT)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, input='{"x": 1}')["executionArn"]
assert ex.startswith(f"{ARN}:execution:steps:"), ex
d = wait_done(ex)
eq(d["status"], "SUCCEEDED", "status")
eq(json.loads(d["output"]), {"x": 1, "p": {"a": 1}}, "output")
eq(json.loads(d["input"]), {"x": 1}, "input")
assert d["stopDate"] >= d["startDate"], d
# A generated name is a UUID, as AWS makes it.
import uuid
uuid.UUID(d["name"])

sfn.update_state_machine(stateMachineArn=sm, definition=json.dumps(PASS))
f = sfn.describe_state_machine_for_execution(executionArn=ex)
eq((f["stateMachineArn"], f["name"], f["roleArn"]), (sm, "steps", ROLE), "DescribeStateMachineForExecution")
eq(json.loads(f["definition"]), PASS_WAIT, "the definition the execution ran, not the updated one")
"#,
    );
}

/// ListExecutions: statusFilter, and pagination with maxResults/nextToken that returns every
/// execution once, most recent first (AWS's order).
#[test]
fn list_executions_filters_and_pages() {
    let s = serve();
    check(
        &s,
        r#"
CHOOSE = {"StartAt": "C", "States": {
    "C": {"Type": "Choice", "Choices": [{"Variable": "$.wait", "BooleanEquals": True, "Next": "W"}], "Default": "Done"},
    "W": {"Type": "Wait", "Seconds": 600, "End": True},
    "Done": {"Type": "Succeed"}}}
sm = machine("many", CHOOSE)["stateMachineArn"]
arns = {}
for i in range(5):
    arns[f"e{i}"] = sfn.start_execution(stateMachineArn=sm, name=f"e{i}", input=json.dumps({"wait": i % 2 == 0}))["executionArn"]
for n in ("e1", "e3"):
    eq(wait_done(arns[n])["status"], "SUCCEEDED", n)

def names(**kw):
    return sorted(e["name"] for p in pages(sfn.list_executions, "executions", stateMachineArn=sm, **kw) for e in p)
eq(names(statusFilter="RUNNING"), ["e0", "e2", "e4"], "statusFilter RUNNING")
eq(names(statusFilter="SUCCEEDED"), ["e1", "e3"], "statusFilter SUCCEEDED")
eq(names(statusFilter="FAILED"), [], "statusFilter FAILED")

paged = pages(sfn.list_executions, "executions", stateMachineArn=sm, maxResults=2)
paged_at_most(paged, 2, "ListExecutions")
flat = [e for p in paged for e in p]
eq(sorted(e["name"] for e in flat), ["e0", "e1", "e2", "e3", "e4"], "every execution once")
starts = [e["startDate"] for e in flat]
eq(starts, sorted(starts, reverse=True), "most recent first")
for e in flat:
    eq((e["executionArn"], e["stateMachineArn"]), (arns[e["name"]], sm), "a listed execution")

quick = machine("quick", PASS, type="EXPRESS")["stateMachineArn"]
eq(code(sfn.list_executions, stateMachineArn=quick), "StateMachineTypeNotSupported", "ListExecutions of EXPRESS")
"#,
    );
}

/// StartSyncExecution on EXPRESS: SUCCEEDED with output, FAILED with the Fail state's error and
/// cause; on STANDARD it is StateMachineTypeNotSupported.
#[test]
fn start_sync_execution_on_express() {
    let s = serve();
    check(
        &s,
        r#"
ADD = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": True}}}
add = machine("adder", ADD, type="EXPRESS")["stateMachineArn"]
r = sfn.start_sync_execution(stateMachineArn=add, name="s1", input='{"a": 2, "b": 3}')
eq((r["status"], json.loads(r["output"])), ("SUCCEEDED", {"sum": 5}), "a synchronous success")
assert r["executionArn"].startswith(f"{ARN}:express:adder:s1:"), r["executionArn"]
eq(r.get("stateMachineArn"), add, "stateMachineArn")
assert r["stopDate"] >= r["startDate"], r

fails = machine("failing", FAIL, type="EXPRESS")["stateMachineArn"]
r = sfn.start_sync_execution(stateMachineArn=fails, input="{}")
eq((r["status"], r.get("error"), r.get("cause"), r.get("output")), ("FAILED", "Boom", "it broke", None),
   "a synchronous failure")

std = machine("standard", PASS)["stateMachineArn"]
eq(code(sfn.start_sync_execution, stateMachineArn=std, input="{}"), "StateMachineTypeNotSupported",
   "StartSyncExecution on STANDARD")
"#,
    );
}

/// The error codes of the API reference that clients match on.
#[test]
fn errors_carry_aws_codes() {
    let s = serve();
    check(
        &s,
        r#"
missing_ex = f"{ARN}:execution:missing:run"
missing_sm = f"{ARN}:stateMachine:missing"
eq(code(sfn.describe_execution, executionArn="not-an-arn"), "InvalidArn", "a malformed execution ARN")
eq(code(sfn.describe_state_machine, stateMachineArn="arn:aws:states:us-east-1:123456789012:nothing"), "InvalidArn",
   "a malformed state machine ARN")
eq(code(sfn.describe_execution, executionArn=missing_ex), "ExecutionDoesNotExist", "DescribeExecution")
eq(code(sfn.get_execution_history, executionArn=missing_ex), "ExecutionDoesNotExist", "GetExecutionHistory")
eq(code(sfn.stop_execution, executionArn=missing_ex), "ExecutionDoesNotExist", "StopExecution")
eq(code(sfn.describe_state_machine_for_execution, executionArn=missing_ex), "ExecutionDoesNotExist",
   "DescribeStateMachineForExecution")
eq(code(sfn.describe_state_machine, stateMachineArn=missing_sm), "StateMachineDoesNotExist", "DescribeStateMachine")
eq(code(sfn.start_execution, stateMachineArn=missing_sm), "StateMachineDoesNotExist", "StartExecution")
eq(code(sfn.list_executions, stateMachineArn=missing_sm), "StateMachineDoesNotExist", "ListExecutions")

sm = machine("errs", PASS)["stateMachineArn"]
eq(code(sfn.start_execution, stateMachineArn=sm, input="{not json"), "InvalidExecutionInput", "input that is not JSON")
eq(code(sfn.start_execution, stateMachineArn=sm, name="has space"), "InvalidName", "an execution name with a space")
eq(code(sfn.create_state_machine, name="bad name", definition=json.dumps(PASS), roleArn=ROLE), "InvalidName",
   "a state machine name with a space")
eq(code(sfn.create_state_machine, name="nostates", definition='{"StartAt": "Missing", "States": {}}', roleArn=ROLE),
   "InvalidDefinition", "a definition without its StartAt state")
eq(code(sfn.create_state_machine, name="notjson", definition="{", roleArn=ROLE), "InvalidDefinition", "a definition that is not JSON")
"#,
    );
}

/// `--mock-config`: an execution of `stateMachineArn#TestCase` runs with AWS Step Functions
/// Local's mocked responses (the Task's Lambda is never called; it does not exist here), and a
/// test case the file lacks is refused.
#[test]
fn a_mocked_test_case_answers_the_task_states() {
    let dir = tempfile::tempdir().expect("a directory");
    let mocks = dir.path().join("MockConfigFile.json");
    std::fs::write(
        &mocks,
        r#"{
  "StateMachines": {"orders": {"TestCases": {"HappyPath": {"Charge": "Charged"}}}},
  "MockedResponses": {"Charged": {"0": {"Return": {"StatusCode": 200, "Payload": {"charged": 42}}}}}
}"#,
    )
    .expect("the mock file");
    let s = crate::serve_with(&["--mock-config", mocks.to_str().expect("utf-8")]);
    check(
        &s,
        r##"
d = {"StartAt": "Charge", "States": {"Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
     "Parameters": {"FunctionName": "charge", "Payload.$": "$"}, "OutputPath": "$.Payload", "End": True}}}
sm = machine("orders", d)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm + "#HappyPath", name="mocked", input="{}")["executionArn"]
eq(ex, f"{ARN}:execution:orders:mocked", "the execution's ARN has no test case in it")
out = wait_done(ex)
eq((out["status"], json.loads(out["output"])), ("SUCCEEDED", {"charged": 42}), "the mocked result")
eq(code(sfn.start_execution, stateMachineArn=sm + "#NoSuchCase", input="{}"), "ValidationException",
   "a test case the file lacks")
"##,
    );
}
