//! [`StateMachine::is_pure`]: which machines may run without an async runtime. Each case says
//! by hand whether the machine can suspend; a machine taken for pure must then also complete
//! on one poll through a host whose sleeps and calls never complete.

use std::future::pending;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use crate::asl::Failure;
use crate::asl::eval::{ExecutionOptions, Host, TaskRequest, execute_pure};
use crate::asl::parse::parse_value;

/// A host on which waiting or calling out never ends: a machine that needs either stays
/// pending under `execute_pure`.
struct StuckHost;

impl Host for StuckHost {
    fn now(&self) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH
    }
    fn sleep_until(&self, _deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(pending())
    }
    fn invoke_task(&self, _request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        Box::pin(pending())
    }
}

fn fail_x() -> Value {
    json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X"}}})
}

fn parallel(extra: Value) -> Value {
    let mut p = json!({"Type": "Parallel", "Branches": [fail_x()], "End": true});
    p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    p
}

fn inline_map(processor: Value, extra: Value) -> Value {
    let mut m = json!({"Type": "Map", "ItemProcessor": processor, "End": true});
    m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    m
}

fn machine(state: Value) -> Value {
    named("S", state)
}

/// A machine of the one state `state`, called `name` (names are unique across a definition).
fn named(name: &str, state: Value) -> Value {
    json!({"StartAt": name, "States": {name: state}})
}

/// `state` as `S`, with the state `Caught` its Catch goes to.
fn caught(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state, "Caught": {"Type": "Succeed"}}})
}

#[test]
fn a_machine_is_pure_unless_something_in_it_can_wait_or_call_out() {
    let retry = json!({"Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 1, "MaxAttempts": 1}]});
    let catch = json!({"Catch": [{"ErrorEquals": ["X"], "Next": "Caught"}]});
    let never = json!({"Retry": [{"ErrorEquals": ["X"], "MaxAttempts": 0}]});
    let cases: Vec<(&str, Value, bool)> = vec![
        ("Pass", machine(json!({"Type": "Pass", "End": true})), true),
        ("Succeed", machine(json!({"Type": "Succeed"})), true),
        ("Fail", fail_x(), true),
        (
            "Choice",
            json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Default": "D",
                "Choices": [{"Variable": "$", "IsNull": true, "Next": "D"}]}, "D": {"Type": "Succeed"}}}),
            true,
        ),
        ("Parallel", machine(parallel(json!({}))), true),
        ("Parallel + Catch", caught(parallel(catch.clone())), true),
        ("Parallel + Retry MaxAttempts 0", machine(parallel(never.clone())), true),
        ("Parallel + Retry", machine(parallel(retry.clone())), false),
        ("inline Map", machine(inline_map(fail_x(), json!({}))), true),
        ("inline Map + Catch", caught(inline_map(fail_x(), catch.clone())), true),
        ("inline Map + Retry", machine(inline_map(fail_x(), retry.clone())), false),
        (
            "inline Map of Parallel + Retry",
            machine(inline_map(named("Inner", parallel(retry.clone())), json!({}))),
            false,
        ),
        (
            "Parallel of inline Map + Retry",
            machine(json!({"Type": "Parallel", "End": true,
                "Branches": [named("Inner", inline_map(fail_x(), retry.clone()))]})),
            false,
        ),
        ("Wait", machine(json!({"Type": "Wait", "Seconds": 1, "End": true})), false),
        (
            "Task",
            machine(json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f"}, "End": true})),
            false,
        ),
        (
            "distributed Map",
            machine(inline_map(
                json!({"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
                json!({}),
            )),
            false,
        ),
        (
            "TimeoutSeconds",
            json!({"StartAt": "P", "TimeoutSeconds": 5, "States": {"P": {"Type": "Pass", "End": true}}}),
            true,
        ),
    ];
    for (name, def, pure) in cases {
        let (m, _) = parse_value(&def).unwrap_or_else(|d| panic!("{name}: {d:?}"));
        assert_eq!(m.is_pure(), pure, "{name}: is_pure");
        assert_eq!(m.reads_clock, !pure, "{name}: reads_clock");
        if pure {
            let out = execute_pure(&m, json!([1, 2]), &ExecutionOptions::default(), &StuckHost);
            assert!(out.is_some(), "{name}: taken for pure, but it suspended");
        }
    }
}
