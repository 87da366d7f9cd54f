//! The child matrix: every state type, with and without Retry and Catch where the type allows
//! them. Each case is a state machine and what AWS Step Functions ends it with on the input
//! [`input`], worked out by hand from the ASL specification and AWS's documented behaviour —
//! never taken from a run of dmap.
//!
//! Retries are made visible: `$$.State.RetryCount` is passed on (to the Lambda function, into
//! a branch, into each Map iteration), so a case that fails on its first attempt and succeeds
//! on its second says in its output that it was retried, and a case whose retries run out
//! names the last attempt in its cause. Every retrier waits `IntervalSeconds: 1` once.

use serde_json::{Value, json};

/// What an execution ends with.
pub enum Expected {
    Output(Value),
    Error { error: &'static str, cause: Cause },
}

pub enum Cause {
    Absent,
    Text(&'static str),
    /// A Lambda error: the cause is AWS's JSON error object; its `errorMessage` is this.
    LambdaMessage(&'static str),
}

pub struct Case {
    pub name: &'static str,
    pub definition: Value,
    pub expected: Expected,
}

/// Every case's execution input.
pub fn input() -> Value {
    json!({"n": 1, "xs": [1, 2]})
}

fn ok(name: &'static str, definition: Value, output: Value) -> Case {
    Case { name, definition, expected: Expected::Output(output) }
}

fn err(name: &'static str, definition: Value, error: &'static str, cause: Cause) -> Case {
    Case { name, definition, expected: Expected::Error { error, cause } }
}

/// A machine whose only state is `state`, called `S`.
fn one(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

/// `S`, then `Caught` (a Pass that ends), where `S`'s Catch goes.
fn caught(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state, "Caught": {"Type": "Pass", "End": true}}})
}

fn with(mut state: Value, extra: Value) -> Value {
    let (Some(s), Some(e)) = (state.as_object_mut(), extra.as_object()) else { panic!("objects") };
    s.extend(e.clone());
    state
}

fn retry(error: &str) -> Value {
    json!({"Retry": [{"ErrorEquals": [error], "IntervalSeconds": 1, "MaxAttempts": 1}]})
}

fn catch(error: &str) -> Value {
    json!({"Catch": [{"ErrorEquals": [error], "Next": "Caught"}]})
}

fn retry_catch(error: &str) -> Value {
    let mut r = retry(error);
    r["Catch"] = catch(error)["Catch"].take();
    r
}

/// A Lambda Task calling `attempt` (tests/matrix/matrix.py), failing while its retry count is
/// below `fail_below`.
fn task(fail_below: u64) -> Value {
    json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "attempt",
            "Payload": {"retry.$": "$$.State.RetryCount", "fail_below": fail_below, "n.$": "$.n"}},
        "ResultSelector": {"retry.$": "$.Payload.retry", "n.$": "$.Payload.n"}, "End": true})
}

/// A branch or iteration that fails with `X` (cause "attempt N") on the first attempt of its
/// enclosing state and passes its input on after that.
fn fails_first() -> Value {
    json!({"StartAt": "First", "States": {
        "First": {"Type": "Choice", "Choices": [{"Variable": "$.retry", "NumericEquals": 0, "Next": "F"}],
            "Default": "Later"},
        "F": {"Type": "Fail", "Error": "X", "CausePath": "States.Format('attempt {}', $.retry)"},
        "Later": {"Type": "Pass", "End": true}}})
}

fn fail_x(cause: Option<&str>) -> Value {
    let mut f = json!({"Type": "Fail", "Error": "X"});
    if let Some(c) = cause {
        f["Cause"] = json!(c);
    }
    json!({"StartAt": "F", "States": {"F": f}})
}

/// The probe's H5 Parallel (`retry_child2.json`), with `extra` fields.
fn parallel_fail(cause: Option<&str>, extra: Value) -> Value {
    with(json!({"Type": "Parallel", "Branches": [fail_x(cause)], "End": true}), extra)
}

/// A Parallel passing its retry count to its one branch.
fn parallel_counted(branch: Value, extra: Value) -> Value {
    with(
        json!({"Type": "Parallel", "Parameters": {"retry.$": "$$.State.RetryCount"},
            "Branches": [branch], "End": true}),
        extra,
    )
}

fn map_fail(cause: Option<&str>, extra: Value) -> Value {
    with(json!({"Type": "Map", "ItemsPath": "$.xs", "ItemProcessor": fail_x(cause), "End": true}), extra)
}

/// An inline Map passing its retry count to each iteration.
fn map_counted(processor: Value, extra: Value) -> Value {
    with(
        json!({"Type": "Map", "ItemsPath": "$.xs",
            "ItemSelector": {"retry.$": "$$.State.RetryCount", "x.$": "$$.Map.Item.Value"},
            "ItemProcessor": processor, "End": true}),
        extra,
    )
}

pub fn cases() -> Vec<Case> {
    use Cause::*;
    let retried = json!([{"retry": 1, "x": 1}, {"retry": 1, "x": 2}]);
    vec![
        ok(
            "pass",
            one(json!({"Type": "Pass", "Parameters": {"n.$": "$.n", "p": true}, "End": true})),
            json!({"n": 1, "p": true}),
        ),
        ok(
            "choice",
            json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "One"}], "Default": "No"},
            "One": {"Type": "Pass", "Result": "one", "End": true},
            "No": {"Type": "Fail", "Error": "NoMatch", "Cause": "n is not 1"}}}),
            json!("one"),
        ),
        err(
            "choice_default_fail",
            json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 2, "Next": "Two"}], "Default": "No"},
            "Two": {"Type": "Pass", "End": true},
            "No": {"Type": "Fail", "Error": "NoMatch", "Cause": "n is not 2"}}}),
            "NoMatch",
            Text("n is not 2"),
        ),
        ok("wait", one(json!({"Type": "Wait", "Seconds": 1, "OutputPath": "$.n", "End": true})), json!(1)),
        ok("succeed", one(json!({"Type": "Succeed", "OutputPath": "$.xs"})), json!([1, 2])),
        err("fail", fail_x(Some("because")), "X", Text("because")),
        ok("task", one(task(0)), json!({"retry": 0, "n": 1})),
        err("task_fail", one(task(99)), "Boom", LambdaMessage("attempt 0 fails")),
        ok("task_retry", one(with(task(1), retry("Boom"))), json!({"retry": 1, "n": 1})),
        err("task_retry_exhausted", one(with(task(99), retry("Boom"))), "Boom", LambdaMessage("attempt 1 fails")),
        ok(
            "task_catch",
            json!({"StartAt": "S", "States": {
            "S": with(task(99), json!({"Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.err", "Next": "Caught"}]})),
            "Caught": {"Type": "Pass", "Parameters": {"error.$": "$.err.Error", "n.$": "$.n"}, "End": true}}}),
            json!({"error": "Boom", "n": 1}),
        ),
        ok(
            "task_retry_catch",
            json!({"StartAt": "S", "States": {
            "S": with(task(99), json!({"Retry": retry("Boom")["Retry"],
                "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.err", "Next": "Caught"}]})),
            "Caught": {"Type": "Pass",
                "Parameters": {"error.$": "$.err.Error", "cause.$": "States.StringToJson($.err.Cause)"}, "Next": "Message"},
            "Message": {"Type": "Pass", "Parameters": {"error.$": "$.error", "message.$": "$.cause.errorMessage"},
                "End": true}}}),
            json!({"error": "Boom", "message": "attempt 1 fails"}),
        ),
        ok(
            "parallel",
            one(json!({"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "InputPath": "$.n", "End": true}}}]})),
            json!(["a", 1]),
        ),
        err("parallel_fail", one(parallel_fail(None, json!({}))), "X", Absent),
        // The probe's reproducer as it was: retried once after a second, then fails with X.
        err("parallel_retry", one(parallel_fail(None, retry("X"))), "X", Absent),
        // A retrier that never fires: the machine cannot wait (it stays on the pure path).
        err(
            "parallel_retry_never",
            one(parallel_fail(None, json!({"Retry": [{"ErrorEquals": ["X"], "MaxAttempts": 0}]}))),
            "X",
            Absent,
        ),
        ok("parallel_retry_succeeds", one(parallel_counted(fails_first(), retry("X"))), json!([{"retry": 1}])),
        ok("parallel_catch", caught(parallel_fail(Some("c"), catch("X"))), json!({"Error": "X", "Cause": "c"})),
        ok(
            "parallel_retry_catch",
            caught(parallel_counted(fail_counted(), retry_catch("X"))),
            json!({"Error": "X", "Cause": "attempt 1"}),
        ),
        ok(
            "map",
            one(json!({"Type": "Map", "ItemsPath": "$.xs", "End": true, "ItemProcessor":
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"x.$": "$"}, "End": true}}}})),
            json!([{"x": 1}, {"x": 2}]),
        ),
        err("map_fail", one(map_fail(None, json!({}))), "X", Absent),
        // The probe's inline-Map variant: retried once, then fails with X.
        err("map_retry", one(map_fail(None, retry("X"))), "X", Absent),
        ok("map_retry_succeeds", one(map_counted(fails_first(), retry("X"))), retried.clone()),
        ok("map_catch", caught(map_fail(Some("c"), catch("X"))), json!({"Error": "X", "Cause": "c"})),
        ok(
            "map_retry_catch",
            caught(map_counted(fail_counted(), retry_catch("X"))),
            json!({"Error": "X", "Cause": "attempt 1"}),
        ),
        // Waiting deep inside: a Parallel without Retry around an inline Map with one.
        ok(
            "nested_retry",
            one(json!({"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "M", "States": {"M": map_counted(fails_first(), retry("X"))}}]})),
            json!([retried]),
        ),
        // Retry and Catch that are never needed change nothing.
        ok(
            "parallel_handlers_unused",
            caught(with(
                json!({"Type": "Parallel", "End": true,
            "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}}]}),
                retry_catch("X"),
            )),
            json!(["a"]),
        ),
        // The same state types in JSONata (QueryLanguage on each state, as in a JSONPath
        // machine that mixes both; a Map's ItemProcessor inherits it). Expected values from
        // AWS's documented JSONata semantics (spec §5).
        ok(
            "jsonata_pass",
            one(jsonata(json!({"Type": "Pass", "End": true,
                "Output": {"m": "{% $states.input.n * 10 %}", "xs": "{% $states.input.xs %}"}}))),
            json!({"m": 10, "xs": [1, 2]}),
        ),
        ok(
            "jsonata_choice",
            json!({"StartAt": "S", "States": {
                "S": jsonata(json!({"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n > 0 %}", "Next": "Yes"}], "Default": "No"})),
                "Yes": jsonata(json!({"Type": "Pass", "Output": "yes", "End": true})),
                "No": jsonata(json!({"Type": "Pass", "Output": "no", "End": true}))}}),
            json!("yes"),
        ),
        ok(
            "jsonata_wait",
            one(jsonata(json!({"Type": "Wait", "Seconds": "{% $states.input.n %}",
            "Output": "{% $states.input.xs %}", "End": true}))),
            json!([1, 2]),
        ),
        err(
            "jsonata_fail",
            one(jsonata(json!({"Type": "Fail", "Error": "{% 'E' & $string($states.input.n) %}",
                "Cause": "{% 'n is ' & $states.input.n %}"}))),
            "E1",
            Text("n is 1"),
        ),
        ok("jsonata_task_retry", one(jsonata(with(jsonata_task(1), retry("Boom")))), json!({"retry": 1, "n": 1})),
        ok(
            "jsonata_task_catch",
            caught(jsonata(with(
                jsonata_task(99),
                json!({"Catch": [{"ErrorEquals": ["Boom"],
                "Output": {"caught": "{% $states.errorOutput.Error %}", "n": "{% $states.input.n %}"}, "Next": "Caught"}]}),
            ))),
            json!({"caught": "Boom", "n": 1}),
        ),
        ok(
            "jsonata_map",
            one(jsonata(json!({"Type": "Map", "Items": "{% $states.input.xs %}", "End": true,
                "ItemSelector": {"x": "{% $states.context.Map.Item.Value %}", "i": "{% $states.context.Map.Item.Index %}"},
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": {"y": "{% $states.input.x * 2 %}", "i": "{% $states.input.i %}"}, "End": true}}}}))),
            json!([{"y": 2, "i": 0}, {"y": 4, "i": 1}]),
        ),
    ]
}

/// A state in JSONata.
fn jsonata(state: Value) -> Value {
    with(state, json!({"QueryLanguage": "JSONata"}))
}

/// [`task`] in JSONata: Arguments and Output instead of Parameters and ResultSelector.
fn jsonata_task(fail_below: u64) -> Value {
    json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "attempt",
            "Payload": {"retry": "{% $states.context.State.RetryCount %}", "fail_below": fail_below, "n": "{% $states.input.n %}"}},
        "Output": {"retry": "{% $states.result.Payload.retry %}", "n": "{% $states.result.Payload.n %}"}, "End": true})
}

/// A branch or iteration that always fails with `X`, its cause naming the attempt.
fn fail_counted() -> Value {
    json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X",
        "CausePath": "States.Format('attempt {}', $.retry)"}}})
}
