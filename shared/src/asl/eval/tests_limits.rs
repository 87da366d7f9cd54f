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
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X"}}}],
        "Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 1, "BackoffRate": 1e13, "MaxAttempts": 3}],
        "End": true}}});
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
