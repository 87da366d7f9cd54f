//! TestState pinned on AWS's own answers. Unless a case says otherwise, each definition, input
//! and expected response is one that LocalStack recorded from AWS Step Functions and keeps as
//! an AWS-validated snapshot (`localstack/localstack`,
//! `tests/aws/services/stepfunctions/v2/test_state/*.snapshot.json`, templates under
//! `tests/aws/services/stepfunctions/templates/test_state/statemachines/`); the members are
//! those of AWS's API reference
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>).

use std::sync::Mutex;

use chrono::{DateTime, TimeZone, Utc};
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::*;
use crate::asl::eval::ExecutionOptions;
use crate::asl::parse::parse_value;

/// A host whose tasks answer `answer` and record their input; TestState never sleeps.
struct Recorder {
    answer: Result<Value, Failure>,
    calls: Mutex<Vec<TaskRequest>>,
}

impl Host for Recorder {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 11, 20, 12, 0, 0).single().unwrap_or_default()
    }
    fn sleep_until(&self, _: DateTime<Utc>) -> BoxFuture<'_, ()> {
        panic!("TestState must not wait")
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push(request);
        let answer = self.answer.clone();
        Box::pin(async move { answer })
    }
}

struct Case {
    /// A single state (wrapped as AWS does), or a whole machine with `state_name`.
    definition: Value,
    state_name: Option<&'static str>,
    input: Value,
    variables: Value,
    mock: Option<Mock>,
    retried: u64,
    map_failures: Option<u64>,
    context: Option<Value>,
}

impl Case {
    fn new(definition: Value, input: Value) -> Self {
        Case {
            definition,
            state_name: None,
            input,
            variables: json!({}),
            mock: None,
            retried: 0,
            map_failures: None,
            context: None,
        }
    }
}

/// Runs a case and returns the outcome and the host's calls.
fn check(case: Case, answer: Result<Value, Failure>) -> (TestOutcome, Vec<TaskRequest>) {
    let definition = match case.state_name {
        Some(_) => case.definition.clone(),
        None => wrap_state(&case.definition),
    };
    let (machine, _) = parse_value(&definition).unwrap_or_else(|d| panic!("invalid: {d:?}"));
    let name = case.state_name.unwrap_or(STATE_NAME);
    let (holder, state) = find(&machine, name).unwrap_or_else(|| panic!("no state {name}"));
    let host = Recorder { answer, calls: Mutex::new(Vec::new()) };
    let names = ExecutionOptions::default();
    let context =
        case.context.unwrap_or_else(|| default_context(state, &case.input, &names, None, case.retried, host.now()));
    let Value::Object(variables) = case.variables else { panic!("variables are an object") };
    let request = TestRequest {
        state,
        machine: holder,
        input: case.input,
        variables,
        context,
        mock: case.mock,
        retrier_retry_count: case.retried,
        map_iteration_failure_count: case.map_failures,
        execution_arn: names.execution_arn(),
    };
    let outcome = futures::executor::block_on(test_state(request, &host));
    let calls = host.calls.into_inner().unwrap_or_else(|e| e.into_inner());
    (outcome, calls)
}

fn nested_input() -> Value {
    json!({"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
           "unrelatedData": {"someOtherField": 1234}})
}

/// `test_base_inspection_level_debug[IO_PASS_STATE]`.
#[test]
fn pass_with_parameters_reports_each_step() {
    let def = json!({"Type": "Pass", "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "ResultPath": "$.modifiedData", "End": true});
    let (o, _) = check(Case::new(def, nested_input()), Ok(json!(null)));
    let params = json!({"staticValue": "some value", "inputValue": "value from input"});
    let mut out = nested_input();
    out["modifiedData"] = params.clone();
    assert_eq!(o.status, TestStatus::Succeeded);
    assert_eq!(o.output, Some(out.clone()));
    assert_eq!(o.next_state, None);
    let i = &o.inspection;
    assert_eq!(i.input, nested_input());
    assert_eq!(i.after_input_path, Some(json!({"fieldFromInput": "value from input", "otherField": "other"})));
    assert_eq!(i.after_parameters, Some(params.clone()));
    assert_eq!(i.after_result_selector, Some(params));
    assert_eq!(i.after_result_path, Some(out));
    assert_eq!(i.result, None);
    assert_eq!(i.variables, None);
}

/// `test_base_inspection_level_debug[IO_RESULT_PASS_STATE]`: with `Result`, AWS reports the
/// result and not the input steps.
#[test]
fn pass_with_result_reports_the_result() {
    let def = json!({"Type": "Pass", "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "Result": {"resultKey": "result value"}, "ResultPath": "$.modifiedData", "End": true});
    let (o, _) = check(Case::new(def, nested_input()), Ok(json!(null)));
    let mut out = nested_input();
    out["modifiedData"] = json!({"resultKey": "result value"});
    assert_eq!(o.output, Some(out.clone()));
    let i = &o.inspection;
    assert_eq!(i.result, Some(json!({"resultKey": "result value"})));
    assert_eq!(i.after_result_selector, Some(json!({"resultKey": "result value"})));
    assert_eq!(i.after_result_path, Some(out));
    assert_eq!((&i.after_input_path, &i.after_parameters), (&None, &None));
}

/// `test_base_inspection_level_debug[BASE_CHOICE_STATE]`: the chosen rule names a state the
/// lone state was not given, as AWS allows.
#[test]
fn choice_names_the_next_state() {
    let def = json!({"Type": "Choice", "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}],
        "Default": "DefaultState"});
    let input = json!({"type": "Private", "value": 22});
    let (o, _) = check(Case::new(def, input.clone()), Ok(json!(null)));
    assert_eq!(o.status, TestStatus::Succeeded);
    assert_eq!(o.next_state.as_deref(), Some("ValueInTwenties"));
    assert_eq!(o.output, Some(input.clone()));
    assert_eq!(o.inspection.after_input_path, Some(input));
}

/// `test_base_inspection_level_debug[BASE_FAIL_STATE]`.
#[test]
fn fail_reports_error_and_cause() {
    let def = json!({"Type": "Fail", "Error": "SomeFailure",
        "Cause": "This state machines raises a 'SomeFailure' failure."});
    let input = json!({"Value": "HelloWorld"});
    let (o, _) = check(Case::new(def, input.clone()), Ok(json!(null)));
    assert_eq!(o.status, TestStatus::Failed);
    assert_eq!(o.output, None);
    assert_eq!(o.failure, Some(Failure::new("SomeFailure", "This state machines raises a 'SomeFailure' failure.")));
    assert_eq!(o.inspection.after_input_path, Some(input));
}

/// `test_base_state_name_multi_state`: with `stateName`, one state of a whole (JSONata)
/// machine; its `Next` is a real state, and a JSONata state reports only its input.
#[test]
fn state_name_picks_a_state_of_a_machine() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "State0", "States": {
        "State0": {"Type": "Pass", "Next": "State1"},
        "State1": {"Type": "Fail", "Error": "SomeFailure",
                   "Cause": "This state machines raises a 'SomeFailure' failure."}}});
    let input = json!({"Value": "HelloWorld"});
    let mut case = Case::new(def.clone(), input.clone());
    case.state_name = Some("State0");
    let (o, _) = check(case, Ok(json!(null)));
    assert_eq!((o.status, o.next_state.as_deref()), (TestStatus::Succeeded, Some("State1")));
    assert_eq!(o.output, Some(input.clone()));
    assert_eq!(o.inspection, Inspection { input: input.clone(), ..Inspection::default() });
    let mut case = Case::new(def, input.clone());
    case.state_name = Some("State1");
    let (o, _) = check(case, Ok(json!(null)));
    assert_eq!(o.status, TestStatus::Failed);
    assert_eq!(o.failure.and_then(|f| f.error).as_deref(), Some("SomeFailure"));
    assert_eq!(o.inspection, Inspection { input, ..Inspection::default() });
}

fn catch_template() -> Value {
    json!({"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Catch": [
            {"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMockError"},
            {"ErrorEquals": ["States.TaskFailed"], "Output": "{% $states %}", "Next": "HandleThreshold"}],
        "End": true})
}

/// `test_state_task_catch_error[DEBUG]`: a mocked error goes to the catcher that matches it;
/// the output is the catcher's (`$states` holds the input, the context and the error output).
#[test]
fn mocked_errors_are_caught() {
    let input = json!({"Value": "HelloWorld"});
    for (error, cause, index, next) in [
        ("MockException", "Mock the cause of the error.", 0, "HandleMockError"),
        ("States.TaskFailed", "The task failed.", 1, "HandleThreshold"),
    ] {
        let mut case = Case::new(catch_template(), input.clone());
        case.mock = Some(Mock::Error(Failure::new(error, cause)));
        let context = json!({"Execution": {"Id": "x"}, "State": {"Name": STATE_NAME, "RetryCount": 0}});
        case.context = Some(context.clone());
        let (o, calls) = check(case, Ok(json!(null)));
        assert!(calls.is_empty(), "a mocked Task calls nothing");
        assert_eq!(o.status, TestStatus::CaughtError);
        assert_eq!(o.next_state.as_deref(), Some(next));
        assert_eq!(o.failure, Some(Failure::new(error, cause)));
        assert_eq!(
            o.output,
            Some(json!({"input": input, "context": context, "errorOutput": {"Error": error, "Cause": cause}}))
        );
        let i = &o.inspection;
        assert_eq!(i.after_arguments, Some(json!({"FunctionName": "foo", "Payload": "bar"})));
        assert_eq!(i.error_details, Some(ErrorDetails { catch_index: Some(index), ..ErrorDetails::default() }));
        assert_eq!(i.result, None);
    }
}

/// `test_state_configuration_retrier_retry_count[DEBUG]`: after 4 retries of 5, the next is
/// RETRIABLE after 1 × 2⁴ s; after 5, the retrier is spent and the state FAILED.
#[test]
fn retrier_retry_count_decides_retriable_or_failed() {
    let def = json!({"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2.0}],
        "End": true});
    let input = json!({"Values": ["first", "second", "third"]});
    let mock = Mock::Error(Failure::new("MockException", "Mock the cause of the error."));
    let mut case = Case::new(def.clone(), input.clone());
    (case.mock, case.retried) = (Some(mock.clone()), 4);
    let (o, _) = check(case, Ok(json!(null)));
    assert_eq!(o.status, TestStatus::Retriable);
    assert_eq!(o.failure, Some(Failure::new("MockException", "Mock the cause of the error.")));
    assert_eq!(
        o.inspection.error_details,
        Some(ErrorDetails { retry_index: Some(0), retry_backoff_interval_seconds: Some(16), catch_index: None })
    );
    assert_eq!((o.output, o.next_state), (None, None));
    let mut case = Case::new(def, input);
    (case.mock, case.retried) = (Some(mock), 5);
    let (o, _) = check(case, Ok(json!(null)));
    assert_eq!(o.status, TestStatus::Failed);
    assert_eq!(o.inspection.error_details, Some(ErrorDetails { retry_index: Some(0), ..ErrorDetails::default() }));
}

fn map_catch_template() -> Value {
    json!({"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.Values %}",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "TestState", "States": {"TestState": {"Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:yourHelloWorldFunction", "End": true}}},
        "Catch": [
            {"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMockError"},
            {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Output": "{% $states %}", "Next": "HandleThreshold"}],
        "ToleratedFailureCount": 1, "End": true})
}

/// `test_map_state_failure_count[DEBUG-BASE_MAP_STATE_CATCH]`: the mock stands for the
/// iterations; failed iterations past `ToleratedFailureCount` fail the Map, and its Catch
/// takes that.
#[test]
fn mocked_map_judges_failed_iterations() {
    let input = json!({"Values": ["first", "second", "third"]});
    let mut case = Case::new(map_catch_template(), input.clone());
    (case.mock, case.map_failures) = (Some(Mock::Result(json!([1, 1, 1]))), Some(0));
    let (o, _) = check(case, Ok(json!(null)));
    assert_eq!(o.status, TestStatus::Succeeded);
    assert_eq!(o.output, Some(json!([1, 1, 1])));
    assert_eq!((o.inspection.max_concurrency, o.inspection.tolerated_failure_count), (Some(0), Some(1)));
    assert_eq!(o.inspection.result, None);

    let mut case = Case::new(map_catch_template(), input);
    (case.mock, case.map_failures) = (Some(Mock::Result(json!([0, 0, 1]))), Some(2));
    let (o, _) = check(case, Ok(json!(null)));
    assert_eq!(o.status, TestStatus::CaughtError);
    assert_eq!(o.next_state.as_deref(), Some("HandleThreshold"));
    assert_eq!(
        o.failure,
        Some(Failure::new(
            "States.ExceedToleratedFailureThreshold",
            "The specified tolerated failure threshold was exceeded"
        ))
    );
    assert_eq!(o.inspection.error_details, Some(ErrorDetails { catch_index: Some(1), ..ErrorDetails::default() }));
}

/// `test_state_task_context_object[EXECUTION_INPUT]`: a context object given with the request
/// is what `$$` reads.
#[test]
fn a_given_context_is_what_paths_read() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName.$": "$.FunctionName", "Payload": {"Input.$": "$"}},
        "ResultSelector": {"ContextObjectValue.$": "$$.Execution.Input", "LambdaOutput.$": "$"},
        "End": true});
    let input = json!({"FunctionName": "lambda_function_name", "Payload": {"input-value": 0}});
    let context = json!({"Execution": {"Id": "arn:aws:states:::execution:MyStateMachine:execution-name-12345",
        "Input": {"input-value": 0, "message": "test data", "values": ["charizard", "pikachu", "bulbasaur"]},
        "Name": "execution-name-12345"}, "State": {"Name": "MyTaskState", "RetryCount": 0}});
    let mut case = Case::new(def, input.clone());
    case.context = Some(context);
    case.mock = Some(Mock::Result(json!({"pokemon": ["charizard", "pikachu", "bulbasaur"]})));
    let (o, _) = check(case, Ok(json!(null)));
    let expected = json!({"ContextObjectValue": {"input-value": 0, "message": "test data",
        "values": ["charizard", "pikachu", "bulbasaur"]},
        "LambdaOutput": {"pokemon": ["charizard", "pikachu", "bulbasaur"]}});
    assert_eq!(o.status, TestStatus::Succeeded);
    assert_eq!(o.output, Some(expected.clone()));
    let i = &o.inspection;
    assert_eq!(i.after_input_path, Some(input.clone()));
    assert_eq!(i.after_parameters, Some(json!({"FunctionName": "lambda_function_name", "Payload": {"Input": input}})));
    assert_eq!(i.result, Some(json!({"pokemon": ["charizard", "pikachu", "bulbasaur"]})));
    assert_eq!(i.after_result_selector, Some(expected.clone()));
    assert_eq!(i.after_result_path, Some(expected));
}

/// Without a mock the Task calls its integration through the host once, with its effective
/// input (dmap's case: the answer is the host's).
#[test]
fn an_unmocked_task_calls_the_host_once() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"},
        "ResultPath": "$.out", "Next": "After"});
    let input = json!({"FunctionName": "f", "Payload": {"n": 1}});
    let (o, calls) = check(Case::new(def, input), Ok(json!({"StatusCode": 200})));
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].input, json!({"FunctionName": "f", "Payload": {"n": 1}}));
    assert_eq!(o.status, TestStatus::Succeeded);
    assert_eq!(o.next_state.as_deref(), Some("After"));
    assert_eq!(o.output, Some(json!({"FunctionName": "f", "Payload": {"n": 1}, "out": {"StatusCode": 200}})));
}

/// Variables given with the request are read, and those the state assigns join them in
/// `inspectionData.variables` (AWS's API reference: "the set will include variables assigned
/// in the state and variables set up as test state input"). dmap's case.
#[test]
fn variables_are_read_and_assigned() {
    let def = json!({"Type": "Pass", "QueryLanguage": "JSONata",
        "Assign": {"total": "{% $base + $sum($states.input.values) %}"},
        "Output": {"seen": "{% $base %}"}, "End": true});
    let mut case = Case::new(def, json!({"values": [1, 2, 3]}));
    case.variables = json!({"base": 10});
    let (o, _) = check(case, Ok(json!(null)));
    assert_eq!(o.output, Some(json!({"seen": 10})));
    let mut vars = Map::new();
    vars.insert("base".into(), json!(10));
    vars.insert("total".into(), json!(16));
    assert_eq!(o.inspection.variables, Some(vars));
}

/// A Wait is evaluated (its target computed) but not waited for: the host's `sleep_until`
/// panics in these tests.
#[test]
fn wait_does_not_sleep() {
    let def = json!({"Type": "Wait", "Seconds": 3600, "Next": "Later"});
    let (o, _) = check(Case::new(def, json!({"a": 1})), Ok(json!(null)));
    assert_eq!((o.status, o.next_state.as_deref()), (TestStatus::Succeeded, Some("Later")));
    assert_eq!(o.output, Some(json!({"a": 1})));
}

/// `test_state_map_context_object[EXECUTION_INPUT_VALUES]`: a mocked JSONPath Map reports its
/// items (from the given context object here) and the mock as its result.
#[test]
fn mocked_map_reports_its_items() {
    let def = json!({"Type": "Map", "ItemsPath": "$$.Execution.Input.values", "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "HandleItem", "States": {"HandleItem": {"Type": "Pass", "End": true}}},
        "End": true});
    let input = json!(["fire", "electricity", "grass"]);
    let mut case = Case::new(def, input.clone());
    case.context = Some(json!({"Execution": {"Input": {"values": ["charizard", "pikachu", "bulbasaur"]}}}));
    case.mock = Some(Mock::Result(json!(["CHARIZARD", "PIKACHU", "BULBASAUR"])));
    let (o, _) = check(case, Ok(json!(null)));
    let result = json!(["CHARIZARD", "PIKACHU", "BULBASAUR"]);
    assert_eq!((o.status, o.output.as_ref()), (TestStatus::Succeeded, Some(&result)));
    let i = &o.inspection;
    assert_eq!(i.after_input_path, Some(input));
    assert_eq!(i.after_items_path, Some(json!(["charizard", "pikachu", "bulbasaur"])));
    assert_eq!((i.after_result_selector.as_ref(), i.after_result_path.as_ref()), (Some(&result), Some(&result)));
    assert_eq!((i.max_concurrency, i.result.as_ref()), (Some(1), None));
}
