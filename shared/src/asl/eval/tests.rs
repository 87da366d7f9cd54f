//! Engine behaviour pinned end to end: definition + input → outcome, on a manual clock.

use std::sync::Mutex;

use chrono::{DateTime, TimeZone, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::*;
use crate::asl::parse::parse_value;

/// A host whose clock only moves when the engine sleeps, and whose only task echoes its input
/// (or fails when the input says so).
pub(super) struct ManualHost {
    now: Mutex<DateTime<Utc>>,
    calls: Mutex<u32>,
}

impl ManualHost {
    pub(super) fn new() -> Self {
        Self::at(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().unwrap_or_default())
    }

    pub(super) fn at(now: DateTime<Utc>) -> Self {
        ManualHost { now: Mutex::new(now), calls: Mutex::new(0) }
    }
}

impl Host for ManualHost {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if deadline > *now {
            *now = deadline;
        }
        Box::pin(async {})
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        let n = {
            let mut c = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            *c += 1;
            *c
        };
        Box::pin(async move {
            match request.input.get("fail_times").and_then(Value::as_u64) {
                Some(k) if u64::from(n) <= k => Err(Failure::new("Custom.Flaky", format!("call {n}"))),
                _ => Ok(request.input),
            }
        })
    }
}

fn run(definition: Value, input: Value) -> (Outcome, DateTime<Utc>) {
    let (machine, _) = parse_value(&definition).unwrap_or_else(|d| panic!("invalid: {d:?}"));
    let host = ManualHost::new();
    let start = host.now();
    let out = futures::executor::block_on(execute(&machine, input, &ExecutionOptions::default(), &host));
    let elapsed = host.now() - start;
    (out, DateTime::<Utc>::UNIX_EPOCH + elapsed)
}

fn check(definition: Value, input: Value, expected: Result<Value, (&str, Option<&str>)>) {
    let (out, _) = run(definition, input);
    match expected {
        Ok(v) => assert_eq!((out.status, out.output), (Status::Succeeded, Some(v))),
        Err((error, cause)) => {
            assert_eq!(out.status, Status::Failed, "{out:?}");
            let f = out.failure.unwrap_or(Failure { error: None, cause: None });
            assert_eq!(f.error.as_deref(), Some(error));
            if let Some(c) = cause {
                assert_eq!(f.cause.as_deref(), Some(c));
            }
        }
    }
}

#[test]
fn io_processing_order_and_nulls() {
    let def = json!({"StartAt": "P", "States": {"P": {
        "Type": "Pass", "InputPath": "$.in", "Parameters": {"x.$": "$.v", "k": 1},
        "ResultPath": "$.res", "OutputPath": "$.res", "End": true}}});
    check(def, json!({"in": {"v": 7}}), Ok(json!({"x": 7, "k": 1})));
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": null, "End": true}}});
    check(def, json!({"a": 1}), Ok(json!({"a": 1})));
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": null, "End": true}}});
    check(def, json!({"a": 1}), Ok(json!({})));
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "OutputPath": null, "End": true}}});
    check(def, json!({"a": 1}), Ok(json!({})));
}

#[test]
fn missing_paths_are_runtime_errors_with_aws_causes() {
    let def =
        json!({"StartAt": "pass", "States": {"pass": {"Type": "Pass", "InputPath": "$.NoSuchInputPath", "End": true}}});
    check(
        def,
        json!({}),
        Err((
            "States.Runtime",
            Some(
                "An error occurred while executing the state 'pass' (entered at the event id #2). Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']",
            ),
        )),
    );
    let def = json!({"StartAt": "pass", "States": {"pass": {"Type": "Pass", "Parameters": {"value.$": "$.nope"}, "End": true}}});
    check(
        def,
        json!({"a": 1}),
        Err((
            "States.Runtime",
            Some(
                "An error occurred while executing the state 'pass' (entered at the event id #2). The JSONPath '$.nope' specified for the field 'value.$' could not be found in the input '{\"a\":1}'",
            ),
        )),
    );
}

#[test]
fn retry_then_catch() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
              "Retry": [{"ErrorEquals": ["Custom.Flaky"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Caught"}],
              "End": true},
        "Caught": {"Type": "Pass", "End": true}}});
    // Two failures are retried (waits 2 s then 6 s), the third call succeeds.
    let (out, elapsed) = run(def.clone(), json!({"fail_times": 2}));
    assert_eq!(out.output, Some(json!({"fail_times": 2})));
    assert_eq!(elapsed.timestamp(), 8);
    // Three failures exhaust the retrier; the catcher puts the error at $.err.
    let (out, _) = run(def, json!({"fail_times": 3}));
    assert_eq!(out.output, Some(json!({"fail_times": 3, "err": {"Error": "Custom.Flaky", "Cause": "call 3"}})));
}

#[test]
fn execution_timeout_interrupts_a_wait() {
    let def = json!({"TimeoutSeconds": 5, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 60, "Next": "P"}, "P": {"Type": "Pass", "End": true}}});
    let (out, elapsed) = run(def, json!({}));
    assert_eq!(out.status, Status::TimedOut);
    assert_eq!(elapsed.timestamp(), 5);
}

#[test]
fn parallel_and_inline_map() {
    let def = json!({"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
        {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs", "MaxConcurrency": 1,
            "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true}}}
    ]}}});
    check(def, json!({"xs": [10, 20]}), Ok(json!(["a", [{"i": 0, "v": 10}, {"i": 1, "v": 20}]])));
}

#[test]
fn failures_propagate_with_the_branch_error() {
    let def = json!({"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "FailureType", "Cause": "Cause description"}}}]}}});
    check(def, json!({}), Err(("FailureType", Some("Cause description"))));
}

#[test]
fn variables_are_visible_from_the_next_state() {
    let def = json!({"StartAt": "S0", "States": {
        "S0": {"Type": "Pass", "Result": {"q": "Q"}, "Assign": {"question.$": "$.q", "answer": 42}, "Next": "S1"},
        "S1": {"Type": "Pass", "InputPath": "$answer", "ResultPath": "$.theAnswer", "OutputPath": "$answer",
               "Assign": {"answer": "changed"}, "End": true}}});
    check(def, json!({}), Ok(json!(42)));
}

#[test]
fn pure_machines_run_without_a_runtime() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"id.$": "$.id"}, "End": true}}});
    let (machine, _) = parse_value(&def).unwrap_or_else(|d| panic!("{d:?}"));
    let out = execute_pure(&machine, json!({"id": 3}), &ExecutionOptions::default(), &ManualHost::new());
    assert_eq!(out.and_then(|o| o.output), Some(json!({"id": 3})));
}

/// AWS deploys custom error names that start with `States.`: a Fail state raises one, a
/// catcher names it, and `States.ALL` still catches it. Only a near miss of a predefined name
/// draws a warning.
#[test]
fn custom_states_prefixed_errors_are_raised_and_caught() {
    let raise = json!({"StartAt": "R", "States": {"R": {"Type": "Fail", "Error": "States.MyError", "Cause": "boom"}}});
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [raise.clone()],
              "Catch": [{"ErrorEquals": ["States.Other"], "Next": "Wrong"},
                        {"ErrorEquals": ["States.MyError"], "ResultPath": "$.caught", "Next": "Caught"}],
              "End": true},
        "Wrong": {"Type": "Fail", "Error": "Wrong"},
        "Caught": {"Type": "Pass", "End": true}}});
    check(def, json!({"in": 1}), Ok(json!({"in": 1, "caught": {"Error": "States.MyError", "Cause": "boom"}})));
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [raise], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Pass", "End": true}}});
    check(def, json!({}), Ok(json!({"Error": "States.MyError", "Cause": "boom"})));
    let uncaught = json!({"StartAt": "R", "States": {"R": {"Type": "Fail", "Error": "States.MyError"}}});
    check(uncaught, json!({}), Err(("States.MyError", None)));

    let near = json!({"StartAt": "P", "States": {"P": {"Type": "Task", "End": true,
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "Retry": [{"ErrorEquals": ["States.Timeouts", "States.MyError"]}]}}});
    let warnings = match parse_value(&near) {
        Ok((_, warnings)) => warnings,
        Err(d) => panic!("refused: {d:?}"),
    };
    let flagged: Vec<&str> = warnings
        .iter()
        .filter(|d| d.code == crate::asl::diagnostic::code::INVALID_ERROR_NAME)
        .map(|d| d.location.as_str())
        .collect();
    assert_eq!(flagged, ["/States/P/Retry/0/ErrorEquals/0"]);
}

/// Filters in payload paths read the state's effective input as `$`, and an unquoted word
/// fails the state when it runs (Jayway cannot compile it), though the definition loads.
#[test]
fn filters_read_the_root_and_unquoted_words_fail_at_run_time() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.in",
        "Parameters": {"hit.$": "$.items[?(@.id == $.wanted)].v"}, "End": true}}});
    let input = json!({"in": {"wanted": 2, "items": [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]}, "wanted": 1});
    check(def, input, Ok(json!({"hit": ["b"]})));

    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
        "Parameters": {"receipt.$": "$.docs[?(@.Name==Receipt)]"}, "End": true}}});
    let warnings = match parse_value(&def) {
        Ok((_, warnings)) => warnings,
        Err(d) => panic!("refused: {d:?}"),
    };
    let flagged: Vec<(&str, &str)> = warnings.iter().map(|d| (d.code, d.location.as_str())).collect();
    assert_eq!(flagged, [(crate::asl::diagnostic::code::UNQUOTED_FILTER_WORD, "/States/P/Parameters/receipt.$")]);
    let (out, _) = run(def, json!({"docs": [{"Name": "Receipt"}]}));
    assert_eq!(out.status, Status::Failed);
    let failure = out.failure.expect("a failure");
    assert_eq!(failure.error.as_deref(), Some("States.Runtime"));
    let cause = failure.cause.unwrap_or_default();
    assert!(cause.contains("'$.docs[?(@.Name==Receipt)]'") && cause.contains("'Receipt'"), "{cause}");
}
