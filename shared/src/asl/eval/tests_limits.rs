//! The engine under hostile definitions and data (probe 2026-12: H3, H4, H7, L4, M6): every
//! resource is bounded and every bound ends the execution with a `States.*` error, never a
//! panic, a stack overflow, unbounded memory or a loop without end.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::tests::ManualHost;
use super::*;
use crate::asl::parse::parse_value;

fn run_on(host: &ManualHost, definition: Value, input: Value, options: &ExecutionOptions) -> Outcome {
    let (machine, _) = parse_value(&definition).unwrap_or_else(|d| panic!("invalid: {d:?}"));
    futures::executor::block_on(execute(&machine, input, options, host))
}

fn error_of(out: &Outcome) -> (Status, Option<&str>, &str) {
    let f = out.failure.as_ref();
    (out.status, f.and_then(|f| f.error.as_deref()), f.and_then(|f| f.cause.as_deref()).unwrap_or(""))
}

/// Probe H4 (`retry_pure.json`): back-offs far past the end of chrono's calendar saturate.
#[test]
fn huge_retry_backoff_saturates_the_clock() {
    assert_backoff_saturates(
        json!({"ErrorEquals": ["X"], "IntervalSeconds": 1, "BackoffRate": 1e13, "MaxAttempts": 3}),
    );
}

/// Probe H4's second reproducer: the same back-off with `JitterStrategy: FULL` (the default
/// host's jitter is its upper bound, so the delay is as large as without jitter).
#[test]
fn huge_retry_backoff_with_full_jitter_saturates_the_clock() {
    assert_backoff_saturates(json!({"ErrorEquals": ["X"], "IntervalSeconds": 1, "BackoffRate": 1e13, "MaxAttempts": 3,
        "JitterStrategy": "FULL"}));
}

fn assert_backoff_saturates(retrier: Value) {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X"}}}],
        "Retry": [retrier], "End": true}}});
    let host = ManualHost::new();
    let out = run_on(&host, def, json!({}), &ExecutionOptions::default());
    assert_eq!(error_of(&out).0, Status::Failed);
    assert_eq!(error_of(&out).1, Some("X"));
    assert_eq!(host.now(), time::LATEST);
}

/// Probe L4: a long Wait when the clock is already near its end (as `dmap test`'s manual clock
/// gets after many long Waits in a loop).
#[test]
fn long_waits_near_the_end_of_time_saturate() {
    let def = json!({"StartAt": "W1", "States": {
        "W1": {"Type": "Wait", "Seconds": 99_999_999, "Next": "W2"},
        "W2": {"Type": "Wait", "SecondsPath": "$.s", "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"at.$": "$$.State.EnteredTime"}, "End": true}}});
    let near_end = DateTime::<Utc>::MAX_UTC - chrono::TimeDelta::days(400);
    let host = ManualHost::at(near_end);
    let out = run_on(&host, def, json!({"s": 99_999_999}), &ExecutionOptions::default());
    assert_eq!(out.status, Status::Succeeded, "{out:?}");
    assert_eq!(host.now(), time::LATEST);
}

/// An execution `TimeoutSeconds` whose deadline is past the end of the calendar.
#[test]
fn a_deadline_past_the_end_of_time_saturates() {
    let def = json!({"TimeoutSeconds": 99_999_999, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "End": true}}});
    let host = ManualHost::at(DateTime::<Utc>::MAX_UTC - chrono::TimeDelta::days(1));
    let out = run_on(&host, def, json!({}), &ExecutionOptions::default());
    assert_eq!(out.status, Status::Succeeded, "{out:?}");
}

const HISTORY_CAUSE: &str = "The execution reached the maximum number of history events (25000).";

fn assert_history_limit(out: &Outcome) {
    assert_eq!(error_of(out), (Status::Failed, Some("States.Runtime"), HISTORY_CAUSE), "{out:?}");
}

/// Probe M6 (`loop.json`): `A(Pass) → C(Choice: $ == 1 → A)` ends at 25,000 events.
#[test]
fn a_pass_choice_loop_ends_at_the_history_limit() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "A"}], "Default": "D"},
        "D": {"Type": "Succeed"}}});
    assert_history_limit(&run_on(&ManualHost::new(), def, json!(1), &ExecutionOptions::default()));
}

/// Probe M6 (`loopw.json` and `looptask.json`): through a `Wait 0` or a Task, and a Catch of
/// `States.ALL` does not catch the end of the history.
#[test]
fn loops_through_wait_and_task_end_at_the_history_limit() {
    let wait = json!({"StartAt": "A", "States": {
        "A": {"Type": "Wait", "Seconds": 0, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "A"}], "Default": "D"},
        "D": {"Type": "Succeed"}}});
    assert_history_limit(&run_on(&ManualHost::new(), wait, json!(1), &ExecutionOptions::default()));
    let task = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:id",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "D"}], "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "T"}], "Default": "D"},
        "D": {"Type": "Succeed"}}});
    assert_history_limit(&run_on(&ManualHost::new(), task, json!({"go": true}), &ExecutionOptions::default()));
}

/// A Task retried (almost) without end loops inside one state.
#[test]
fn endless_retries_end_at_the_history_limit() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky",
              "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 99_999_999}],
              "End": true}}});
    let out = run_on(&ManualHost::new(), def, json!({"fail_times": u64::MAX}), &ExecutionOptions::default());
    assert_history_limit(&out);
}

/// Inline Map iterations and Parallel branches write into their parent's history (as on AWS).
#[test]
fn inline_map_iterations_count_in_the_parent_history() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    // 1 + Entered + MapStateStarted + 4 per iteration + MapStateSucceeded + Exited.
    let fits = (25_000 - 6) / 4;
    let out = run_on(&ManualHost::new(), def.clone(), json!({"xs": vec![0; fits]}), &ExecutionOptions::default());
    assert_eq!(out.status, Status::Succeeded, "{:?}", out.failure);
    assert_history_limit(&run_on(
        &ManualHost::new(),
        def,
        json!({"xs": vec![0; fits + 1]}),
        &ExecutionOptions::default(),
    ));
}

/// Event 25,000 may be ExecutionSucceeded; nothing else.
#[test]
fn the_limit_falls_exactly_where_aws_puts_it() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)", "limit.$": "$.limit"}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThanPath": "$.limit", "Next": "P"}],
              "Default": "D"},
        "D": {"Type": "Succeed"}}});
    // ExecutionStarted + 4 events per loop + 2 for D: ExecutionSucceeded is event 4L + 4.
    let ok = run_on(&ManualHost::new(), def.clone(), json!({"n": 0, "limit": 6_249}), &ExecutionOptions::default());
    assert_eq!(ok.output, Some(json!({"n": 6_249, "limit": 6_249})), "{:?}", ok.failure);
    assert_history_limit(&run_on(
        &ManualHost::new(),
        def,
        json!({"n": 0, "limit": 6_250}),
        &ExecutionOptions::default(),
    ));
}

/// Express children keep no history (no event limit); a runaway one ends at Express's
/// 5-minute maximum duration instead.
#[test]
fn express_children_have_no_history_limit_but_five_minutes() {
    let counted = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 20_000, "Next": "P"}],
              "Default": "D"},
        "D": {"Type": "Succeed"}}});
    let (mut machine, _) = parse_value(&counted).expect("valid");
    machine.express = true;
    let host = ManualHost::new();
    let out = futures::executor::block_on(execute(&machine, json!({"n": 0}), &ExecutionOptions::default(), &host));
    assert_eq!(out.output, Some(json!({"n": 20_000})), "{:?}", out.failure);

    let waits = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "W"}], "Default": "D"},
        "D": {"Type": "Succeed"}}});
    let (mut machine, _) = parse_value(&waits).expect("valid");
    machine.express = true;
    let host = ManualHost::new();
    let start = host.now();
    let out = futures::executor::block_on(execute(&machine, json!(1), &ExecutionOptions::default(), &host));
    assert_eq!(out.status, Status::TimedOut, "{out:?}");
    let ran = (host.now() - start).num_seconds();
    assert!((300..=600).contains(&ran), "ended after {ran} s");
}

#[test]
fn the_parser_marks_express_processors() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    let (machine, _) = parse_value(&def).expect("valid");
    assert!(!machine.express);
    let crate::asl::model::StateKind::Map(m) = &machine.states[0].kind else { panic!("a Map") };
    assert!(m.processor.express);
}

/// The probe's `nest.json`: each loop wraps `$.d` in one more object.
fn nest() -> Value {
    json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Parameters": {"n": 0, "d": 1}, "Next": "Nest"},
        "Nest": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)", "d": {"x.$": "$.d"}}, "Next": "Check"},
        "Check": {"Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericLessThanPath": "$$.Execution.Input.limit", "Next": "Nest"}],
            "Default": "Done"},
        "Done": {"Type": "Pass", "End": true}}})
}

/// The probe's `double.json`: each loop doubles `$.d`.
fn double() -> Value {
    json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Parameters": {"n": 0, "d": "xxxxxxxxxx"}, "Next": "Nest"},
        "Nest": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)", "d": {"a.$": "$.d", "b.$": "$.d"}},
                 "Next": "Check"},
        "Check": {"Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericLessThanPath": "$$.Execution.Input.limit", "Next": "Nest"}],
            "Default": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": true}}})
}

/// Runs on a thread with a worker's 2 MiB stack.
fn run_small_stack(definition: Value, input: Value, options: ExecutionOptions) -> Outcome {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || run_on(&ManualHost::new(), definition, input, &options))
        .expect("spawn")
        .join()
        .expect("the execution must not kill its thread")
}

/// Probe H3: values deeper than dmap's JSON parser reads back end the execution with
/// `States.DataLimitExceeded` naming the state, instead of overflowing the stack.
#[test]
fn data_nested_past_the_depth_limit_fails_the_state() {
    let out = run_small_stack(nest(), json!({"limit": 20_000}), ExecutionOptions::default());
    let (status, error, cause) = error_of(&out);
    assert_eq!((status, error), (Status::Failed, Some("States.DataLimitExceeded")), "{out:?}");
    assert!(cause.contains("'Nest'") && cause.contains("nested deeper than 127"), "{cause}");
    // Lifting the payload limit does not lift the depth limit.
    let lifted = ExecutionOptions { max_payload_bytes: None, ..Default::default() };
    let out = run_small_stack(nest(), json!({"limit": 20_000}), lifted);
    assert_eq!(error_of(&out).1, Some("States.DataLimitExceeded"), "{out:?}");
    // Data as deep as the parser reads back still passes: `d` is 125 levels deep in the
    // output, which is itself one level.
    let out = run_small_stack(nest(), json!({"limit": 125}), ExecutionOptions::default());
    assert_eq!(out.status, Status::Succeeded, "{:?}", out.failure);
    let text = serde_json::to_string(&out.output).expect("serialises");
    assert!(serde_json::from_str::<Value>(&text).is_ok(), "dmap reads its own output back");
}

/// Probe H7: data that doubles between Pass states fails at 256 KiB, at the Pass that
/// grew it, as on AWS.
#[test]
fn data_growing_past_the_payload_limit_between_passes_fails_the_pass() {
    let out = run_small_stack(double(), json!({"limit": 24}), ExecutionOptions::default());
    let (status, error, cause) = error_of(&out);
    assert_eq!((status, error), (Status::Failed, Some("States.DataLimitExceeded")), "{out:?}");
    assert!(cause.contains("'Nest'"), "{cause}");
    // Under the limit it runs: `d` is then about 25 * 2^12 bytes, 100 KiB.
    let out = run_small_stack(double(), json!({"limit": 12}), ExecutionOptions::default());
    assert_eq!(out.output, Some(json!({"n": 12})), "{:?}", out.failure);
}

/// Variables are bounded too: an Assign that doubles a variable fails at the limit.
#[test]
fn variables_growing_past_the_payload_limit_fail_the_state() {
    let def = json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"v": "xxxxxxxxxx", "n": 0}, "Next": "Grow"},
        "Grow": {"Type": "Pass", "Assign": {"v": {"a.$": "$v", "b.$": "$v"}, "n.$": "States.MathAdd($n, 1)"},
                 "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$n", "NumericLessThan": 40, "Next": "Grow"}],
                  "Default": "Done"},
        "Done": {"Type": "Succeed"}}});
    let out = run_small_stack(def, json!({}), ExecutionOptions::default());
    let (status, error, cause) = error_of(&out);
    assert_eq!((status, error), (Status::Failed, Some("States.DataLimitExceeded")), "{out:?}");
    assert!(cause.contains("'Grow'"), "{cause}");
}

/// A runaway Express loop whose state entries never land on a multiple of 1,024 (a Parallel
/// of two branches looping on itself writes eight events per pass, entering at 2, 10, 18, …)
/// still ends at five minutes.
#[test]
fn express_loops_of_any_period_end_at_five_minutes() {
    let wait = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}});
    let wait2 = json!({"StartAt": "V", "States": {"V": {"Type": "Wait", "Seconds": 1, "End": true}}});
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [wait, wait2], "OutputPath": "$[0]", "Next": "P",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "D"}]},
        "D": {"Type": "Succeed"}}});
    let (mut machine, _) = parse_value(&def).expect("valid");
    machine.express = true;
    let host = ManualHost::new();
    let out = futures::executor::block_on(execute(&machine, json!({}), &ExecutionOptions::default(), &host));
    assert_eq!(out.status, Status::TimedOut, "{out:?}");
}
