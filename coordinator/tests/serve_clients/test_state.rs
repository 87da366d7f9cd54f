//! Issue 15 item 5: TestState on `dmap serve`, by boto3 and by the AWS CLI.
//!
//! Unless a check says otherwise, each definition, input and expected answer is one that
//! LocalStack recorded from AWS Step Functions as an AWS-validated snapshot
//! (`localstack/localstack`, `tests/aws/services/stepfunctions/v2/test_state/*.snapshot.json`:
//! `test_base_inspection_level_*`, `test_state_task_catch_error`,
//! `test_state_configuration_retrier_retry_count`, `test_base_state_name_*`,
//! `test_state_mock_validation`); members and errors are those of AWS's API reference
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>).

use serde_json::{Value, json};

use crate::{check, serve, serve_with};

/// Definitions shared by the boto3 snippets.
const STATES: &str = r#"
IO_PASS = {"Type": "Pass", "InputPath": "$.initialData",
    "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
    "ResultPath": "$.modifiedData", "End": True}
NESTED = {"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
          "unrelatedData": {"someOtherField": 1234}}
CHOICE = {"Type": "Choice", "Choices": [
    {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
    {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
    {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
             {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}],
    "Default": "DefaultState"}
FAIL_STATE = {"Type": "Fail", "Error": "SomeFailure", "Cause": "This state machines raises a 'SomeFailure' failure."}
CATCH = {"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
    "Arguments": {"FunctionName": "foo", "Payload": "bar"},
    "Catch": [
        {"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMockError"},
        {"ErrorEquals": ["States.TaskFailed"], "Output": "{% $states %}", "Next": "HandleThreshold"}],
    "End": True}
RETRY = {"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
    "Arguments": {"FunctionName": "foo", "Payload": "bar"},
    "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2.0}],
    "End": True}
MAP = {"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.Values %}",
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "T", "States": {"T": {"Type": "Pass", "End": True}}},
    "ToleratedFailureCount": 1,
    "Catch": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Output": "{% $states.errorOutput %}",
               "Next": "HandleThreshold"}],
    "End": True}
PARALLEL = {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": True}}},
    {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": True}}}]}

def test(definition, **kwargs):
    return sfn.test_state(definition=json.dumps(definition), **kwargs)

def inspected(r):
    """inspectionData with its JSON-text members parsed."""
    out = {}
    for k, v in r["inspectionData"].items():
        out[k] = json.loads(v) if isinstance(v, str) else v
    return out
"#;

/// Pass, Choice and Fail states alone, at each inspection level.
#[test]
fn boto3_tests_single_states_at_each_inspection_level() {
    let s = serve();
    check(
        &s,
        &format!(
            "{STATES}{}",
            r#"
r = test(IO_PASS, input=json.dumps(NESTED), inspectionLevel="DEBUG")
out = dict(NESTED, modifiedData={"staticValue": "some value", "inputValue": "value from input"})
eq(r["status"], "SUCCEEDED", "status")
eq(json.loads(r["output"]), out, "output")
eq("nextState" in r, False, "an End state has no nextState")
eq(inspected(r), {
    "input": NESTED,
    "afterInputPath": {"fieldFromInput": "value from input", "otherField": "other"},
    "afterParameters": {"staticValue": "some value", "inputValue": "value from input"},
    "afterResultSelector": {"staticValue": "some value", "inputValue": "value from input"},
    "afterResultPath": out}, "inspectionData at DEBUG")

r = test(IO_PASS, input=json.dumps(NESTED))
eq("inspectionData" in r, False, "INFO, the default, shows no inspectionData")
eq(json.loads(r["output"]), out, "output at INFO")

r = test(CHOICE, input=json.dumps({"type": "Private", "value": 22}), inspectionLevel="TRACE")
eq((r["status"], r["nextState"]), ("SUCCEEDED", "ValueInTwenties"), "Choice")
eq(inspected(r), {"input": {"type": "Private", "value": 22}, "afterInputPath": {"type": "Private", "value": 22}},
   "Choice inspectionData")

r = test(FAIL_STATE, input=json.dumps({"Value": "HelloWorld"}), inspectionLevel="DEBUG")
eq((r["status"], r["error"], r["cause"]), ("FAILED", "SomeFailure", "This state machines raises a 'SomeFailure' failure."),
   "Fail")
eq("output" in r, False, "a failed state has no output")
"#
        ),
    );
}

/// `stateName` picks a state of a whole machine; `variables` are read and the state's
/// assignments join them in `inspectionData.variables` (AWS's reference: "variables assigned in
/// the state and variables set up as test state input" — dmap's case).
#[test]
fn boto3_tests_a_named_state_with_variables() {
    let s = serve();
    check(
        &s,
        r#"
M = {"QueryLanguage": "JSONata", "StartAt": "State0", "States": {
    "State0": {"Type": "Pass", "Next": "State1"},
    "State1": {"Type": "Pass", "Assign": {"total": "{% $base + $sum($states.input.values) %}"},
               "Output": {"seen": "{% $base %}"}, "End": True}}}
r = sfn.test_state(definition=json.dumps(M), stateName="State0", input=json.dumps({"Value": "HelloWorld"}),
                   inspectionLevel="DEBUG")
eq((r["status"], r["nextState"], json.loads(r["output"])), ("SUCCEEDED", "State1", {"Value": "HelloWorld"}), "State0")
eq(r["inspectionData"], {"input": json.dumps({"Value": "HelloWorld"}, separators=(",", ":"))},
   "a JSONata Pass reports its input only")

r = sfn.test_state(definition=json.dumps(M), stateName="State1", input=json.dumps({"values": [1, 2, 3]}),
                   variables=json.dumps({"base": 10}), inspectionLevel="DEBUG")
eq(json.loads(r["output"]), {"seen": 10}, "the variable read")
eq(json.loads(r["inspectionData"]["variables"]), {"base": 10, "total": 16}, "variables after the state")

e = error_of(sfn.test_state, definition=json.dumps(M), stateName="Nope", input="{}")
eq((e["code"], e["message"]), ("ValidationException", "State not found in definition"), "unknown stateName")
"#,
    );
}

/// Mocked Task errors go through Catch and Retry as the state's handlers say, with
/// `stateConfiguration.retrierRetryCount`; the default context object is AWS's.
#[test]
fn boto3_mocks_errors_through_catch_and_retry() {
    let s = serve();
    check(
        &s,
        &format!(
            "{STATES}{}",
            r#"
inp = json.dumps({"Value": "HelloWorld"})
r = test(CATCH, input=inp, roleArn=ROLE, inspectionLevel="DEBUG",
         mock={"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}})
eq((r["status"], r["nextState"], r["error"], r["cause"]),
   ("CAUGHT_ERROR", "HandleMockError", "MockException", "Mock the cause of the error."), "caught")
i = inspected(r)
eq(i["errorDetails"], {"catchIndex": 0}, "errorDetails")
eq(i["afterArguments"], {"FunctionName": "foo", "Payload": "bar"}, "afterArguments")
out = json.loads(r["output"])
eq(out["input"], {"Value": "HelloWorld"}, "$states.input")
eq(out["errorOutput"], {"Error": "MockException", "Cause": "Mock the cause of the error."}, "$states.errorOutput")
ctx = out["context"]
assert ctx["Execution"]["Id"].startswith(ARN + ":express:"), ctx
eq((ctx["Execution"]["RoleArn"], ctx["Execution"]["Input"]), (ROLE, {"Value": "HelloWorld"}), "context Execution")
eq((ctx["State"]["Name"], ctx["State"]["RetryCount"]), ("StateName", 0), "context State")

r = test(CATCH, input=inp, roleArn=ROLE, inspectionLevel="DEBUG",
         mock={"errorOutput": {"error": "States.TaskFailed", "cause": "The task failed."}})
eq((r["status"], r["nextState"], inspected(r)["errorDetails"]), ("CAUGHT_ERROR", "HandleThreshold", {"catchIndex": 1}),
   "the second catcher")

mock = {"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}}
r = test(RETRY, input=inp, inspectionLevel="DEBUG", mock=mock, stateConfiguration={"retrierRetryCount": 4})
eq(r["status"], "RETRIABLE", "4 retries of 5 made")
eq(inspected(r)["errorDetails"], {"retryIndex": 0, "retryBackoffIntervalSeconds": 16}, "1 s x 2^4")
r = test(RETRY, input=inp, inspectionLevel="DEBUG", mock=mock, stateConfiguration={"retrierRetryCount": 5})
eq((r["status"], inspected(r)["errorDetails"]), ("FAILED", {"retryIndex": 0}), "the retrier is spent")

r = test(MAP, input=json.dumps({"Values": ["first", "second", "third"]}), inspectionLevel="DEBUG",
         mock={"result": "[0, 0, 1]"}, stateConfiguration={"mapIterationFailureCount": 2})
eq((r["status"], r["nextState"], r["error"]), ("CAUGHT_ERROR", "HandleThreshold", "States.ExceedToleratedFailureThreshold"),
   "2 failed iterations past ToleratedFailureCount 1")
eq((inspected(r)["maxConcurrency"], inspected(r)["toleratedFailureCount"]), (0, 1), "Map inspection")
r = test(PARALLEL, input="{}", mock={"result": "[1, 2]"})
eq((r["status"], json.loads(r["output"])), ("SUCCEEDED", [1, 2]), "a mocked Parallel")

# A mocked callback Task reads $$.Task.Token from the default context (dmap's decision), or from
# the context given (AWS accepts Task there for such Tasks: test_state_context_object).
CALLBACK = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
                           "MessageBody": {"TaskToken.$": "$$.Task.Token"}},
            "ResultPath": "$.SQS", "Next": "NEXT_STATE"}
r = test(CALLBACK, input="{}", inspectionLevel="DEBUG", mock={"result": json.dumps({"ok": True})})
eq((r["status"], r["nextState"]), ("SUCCEEDED", "NEXT_STATE"), "a mocked callback Task")
assert isinstance(inspected(r)["afterParameters"]["MessageBody"]["TaskToken"], str), r
r = test(CALLBACK, input="{}", inspectionLevel="DEBUG", mock={"result": json.dumps({"ok": True})},
         context=json.dumps({"Task": {"Token": "abcd123"}}))
eq(inspected(r)["afterParameters"]["MessageBody"], {"TaskToken": "abcd123"}, "the given token")
eq(json.loads(r["output"]), {"SQS": {"ok": True}}, "output")

# test_state_machine_configuration_map_iteration_item_reader[DEBUG]
READER = {"QueryLanguage": "JSONata", "StartAt": "State0", "States": {"State0": {
    "Type": "Map", "MaxConcurrency": 1,
    "ItemReader": {"ReaderConfig": {"InputType": "JSON"}, "Resource": "arn:aws:states:::s3:getObject",
                   "Arguments": {"Bucket": "{% $states.input.Bucket %}", "Key": "{% $states.input.Key %}"}},
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                      "StartAt": "HandleItem", "States": {"HandleItem": {"Type": "Pass", "End": True}}},
    "End": True}}}
r = sfn.test_state(definition=json.dumps(READER), stateName="State0", roleArn=ROLE, inspectionLevel="DEBUG",
                   input=json.dumps({"Bucket": "test-bucket", "Key": "test-key"}),
                   stateConfiguration={"mapItemReaderData": json.dumps([1, 2, 3])}, mock={"result": "[1, 4, 9]"})
eq((r["status"], json.loads(r["output"])), ("SUCCEEDED", [1, 4, 9]), "a mocked Map with an ItemReader")
eq(inspected(r), {"input": {"Bucket": "test-bucket", "Key": "test-key"}, "maxConcurrency": 1}, "its inspectionData")
"#
        ),
    );
}

/// AWS's refusals, with their codes and texts.
#[test]
fn boto3_gets_aws_errors() {
    let s = serve();
    check(
        &s,
        &format!(
            "{STATES}{}",
            r#"
def refused(definition, **kwargs):
    e = error_of(sfn.test_state, definition=json.dumps(definition), **kwargs)
    assert e is not None, f"TestState({kwargs}) succeeded"
    eq(e["status"], 400, "HTTP status")
    return (e["code"], e["message"])

eq(refused(MAP, input="{}"), ("InvalidDefinition",
   "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]"),
   "a Map without a mock")
eq(refused(IO_PASS, input="{}", mock={"result": "{}"}),
   ("ValidationException", "State type 'Pass' is not supported when a mock is specified"), "a mocked Pass")
eq(refused(CATCH, input="{}", mock={"result": "{}", "errorOutput": {"error": "E"}}),
   ("ValidationException", "A test mock should have only one of the following fields: [result, errorOutput]."),
   "both result and errorOutput")
eq(refused(CATCH, input="{}", revealSecrets=True, mock={"errorOutput": {"error": "E"}}),
   ("ValidationException", "TestState does not support RevealSecrets when a mock is specified."), "revealSecrets")
eq(refused(CATCH, input="{}"), ("ValidationException", "RoleArn must be specified when testing a Task state"),
   "a Task without roleArn or mock")
eq(refused(PARALLEL, input="{}", mock={"result": "[1]"}),
   ("ValidationException", "Mocked result must contain the same number of items as number of Parallel branches."),
   "Parallel result size")
eq(refused(MAP, input="{}", mock={"result": "{}"}), ("ValidationException", "Mocked result must be an array."),
   "a Map's mocked result")
eq(refused(CHOICE, input="{}", stateConfiguration={"mapIterationFailureCount": 1}),
   ("ValidationException", "TestState does not support MapIterationFailureCount when a mock is not specified."),
   "mapIterationFailureCount without a mock")
eq(refused(CATCH, input="{}", mock={"errorOutput": {"error": "E"}}, context=json.dumps({"Map": {}})),
   ("ValidationException", "Invalid Context object provided: 'Map' field is not supported when mocking a Context object"),
   "a context with Map")
eq(refused(CATCH, input="{}", mock={"errorOutput": {"error": "E"}}, context=json.dumps({"Pokedex": {}})),
   ("ValidationException", "Invalid Context object provided: Field 'Pokedex' is not allowed"), "an unknown context field")
for context, text in [
    ({"Execution": {"Id": 1}}, "Execution.Id must be a string"),
    ({"Execution": {"pokemon": 1}}, "Field 'pokemon' is not allowed"),
    ({"Task": {"Token": "abcd123"}}, "Context object contains 'Task' when state is not a Task state with a '.sync' "
                                     "or '.waitForTaskToken' service integration pattern")]:
    eq(refused(CATCH, input="{}", mock={"errorOutput": {"error": "E"}}, context=json.dumps(context)),
       ("ValidationException", "Invalid Context object provided: " + text), f"context {context}")
code_, message = refused({"Type": "Parallel", "Branches": [], "End": True}, input="{}", mock={"result": "[]"})
eq(code_, "InvalidDefinition", "empty Branches")
assert "/States/StateName/Branches" in message, message
eq(refused(IO_PASS, input="{not json")[0], "InvalidExecutionInput", "input that is not JSON")

# A mocked result is checked against the API model of what the Task calls (STRICT by default);
# test_field_validation_mode and test_test_state_mock_scenarios.
LAMBDA = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"}, "End": True}
inp = json.dumps({"FunctionName": "f", "Payload": None})
eq(refused(LAMBDA, input=inp, roleArn=ROLE, mock={"result": json.dumps({"StatusCode": "200"})}),
   ("ValidationException", "Mock result schema validation error: Field 'StatusCode' must be a number"), "STRICT types")
eq(refused(LAMBDA, input=inp, mock={"result": "not JSON string", "fieldValidationMode": "NONE"}),
   ("ValidationException", "Mocked result must be valid JSON"), "a mocked result that is not JSON")
START = {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
         "Parameters": {"StateMachineArn": ARN + ":stateMachine:T"}, "End": True}
eq(refused(START, input="{}", mock={"result": json.dumps({"executionArn": "x"})}),
   ("ValidationException", "Mock result schema validation error: Required field 'ExecutionArn' is missing"),
   "STRICT wants required members")
r = test(START, input="{}", mock={"result": json.dumps({"executionArn": "x"}), "fieldValidationMode": "PRESENT"})
eq(r["status"], "SUCCEEDED", "PRESENT does not")
ok = {"Payload": "function output", "SdkHttpMetadata": {"HttpStatusCode": 200}}
r = test(LAMBDA, input=inp, roleArn=ROLE, mock={"result": json.dumps(ok)})
eq((r["status"], json.loads(r["output"])), ("SUCCEEDED", ok), "a mocked result that fits the model")
"#
        ),
    );
}

/// Without a mock, a Task calls the server's integration as a run would: here a Lambda
/// function of `--functions` (dmap's case: the answer is the function's).
#[test]
fn boto3_unmocked_task_calls_the_servers_function() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let runtime = testkit::repo().join("examples/python/dmap_runtime.py");
    let handlers = testkit::repo().join("examples/python");
    let functions = dir.path().join("functions.toml");
    std::fs::write(
        &functions,
        format!(
            "[functions.echo]\ncommand = [\"python3\", {:?}, \"price:echo\"]\nworking_dir = {:?}\ntimeout_seconds = 30\n",
            runtime.display().to_string(),
            handlers.display().to_string()
        ),
    )
    .expect("functions file");
    let s = serve_with(&["--functions", functions.to_str().expect("utf-8")]);
    check(
        &s,
        r#"
T = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
     "Parameters": {"n.$": "$.n"}, "ResultPath": "$.echoed", "Next": "After"}
r = sfn.test_state(definition=json.dumps(T), roleArn=ROLE, input=json.dumps({"n": 7}), inspectionLevel="DEBUG")
eq((r["status"], r["nextState"]), ("SUCCEEDED", "After"), "the Task")
eq(json.loads(r["output"]), {"n": 7, "echoed": {"n": 7}}, "the function's answer placed by ResultPath")
eq(json.loads(r["inspectionData"]["result"]), {"n": 7}, "result")
eq(json.loads(r["inspectionData"]["afterParameters"]), {"n": 7}, "afterParameters")
"#,
    );
}

/// The AWS CLI's `test-state`, with its JSON-valued options.
#[test]
fn aws_cli_tests_states() {
    let s = serve();
    let pass = json!({"Type": "Pass", "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "ResultPath": "$.modifiedData", "End": true})
    .to_string();
    let input = json!({"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
        "unrelatedData": {"someOtherField": 1234}});
    let r = s.aws(&["test-state", "--definition", &pass, "--input", &input.to_string(), "--inspection-level", "DEBUG"]);
    assert_eq!(r["status"], "SUCCEEDED", "{r}");
    let parsed = |v: &Value| serde_json::from_str::<Value>(v.as_str().expect("a JSON string")).expect("JSON");
    let mut out = input.clone();
    out["modifiedData"] = json!({"staticValue": "some value", "inputValue": "value from input"});
    assert_eq!(parsed(&r["output"]), out);
    assert_eq!(
        parsed(&r["inspectionData"]["afterInputPath"]),
        json!({"fieldFromInput": "value from input", "otherField": "other"})
    );

    let retry = json!({"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2.0}],
        "End": true})
    .to_string();
    let mock = json!({"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}}).to_string();
    let r = s.aws(&[
        "test-state",
        "--definition",
        &retry,
        "--input",
        "{}",
        "--mock",
        &mock,
        "--state-configuration",
        r#"{"retrierRetryCount": 4}"#,
        "--inspection-level",
        "DEBUG",
    ]);
    assert_eq!(r["status"], "RETRIABLE", "{r}");
    assert_eq!(r["inspectionData"]["errorDetails"], json!({"retryIndex": 0, "retryBackoffIntervalSeconds": 16}));

    let map = json!({"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true})
    .to_string();
    let err = s.aws_fails(&["test-state", "--definition", &map, "--input", "[]"]);
    assert!(err.contains("(InvalidDefinition) when calling the TestState operation"), "{err}");
    let err = s.aws_fails(&["test-state", "--definition", &retry, "--input", "{}"]);
    assert!(err.contains("(ValidationException)") && err.contains("RoleArn must be specified"), "{err}");
}
