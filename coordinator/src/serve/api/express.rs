//! What an Express state machine may not contain, as CreateStateMachine refuses it on AWS:
//! activities, and the `.sync`, `.sync:2` and `.waitForTaskToken` integration patterns
//! (Express executions are at-least-once or at-most-once and cannot wait on another's run or
//! a callback). The same holds inside a Distributed Map whose children run as Express.
//!
//! AWS words these `SCHEMA_VALIDATION_FAILED: Express state machine does not support …`;
//! each is reported at the Task's `Resource`. Pure: reads the parsed model only.

use shared::asl::diagnostic::{code, pointer_push};
use shared::asl::model::{ExecutionType, ProcessorMode, StateKind};
use shared::asl::resource::{Pattern, Target};
use shared::asl::{Diagnostic, Severity, StateMachine};

/// Every Express rule `machine` breaks when it runs as an Express state machine (`express`),
/// and those broken inside its Express Distributed Maps either way.
pub fn violations(machine: &StateMachine, express: bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    walk(machine, express, &mut out);
    out
}

fn walk(m: &StateMachine, express: bool, out: &mut Vec<Diagnostic>) {
    for s in &m.states {
        match &s.kind {
            StateKind::Map(map) => {
                let children_express = match map.mode {
                    ProcessorMode::Distributed(t) => t == ExecutionType::Express,
                    ProcessorMode::Inline => express,
                };
                walk(&map.processor, children_express, out);
            }
            StateKind::Parallel(p) => p.branches.iter().for_each(|b| walk(b, express, out)),
            StateKind::Task(t) if express => {
                let what = match (&t.resource.target, t.resource.pattern) {
                    (Target::Activity { .. }, _) => "Activity ARN".to_string(),
                    (_, Pattern::RequestResponse) => continue,
                    (_, pattern) => format!("'{}' service integration", pattern.describe()),
                };
                out.push(Diagnostic {
                    severity: Severity::Error,
                    code: code::SCHEMA,
                    message: format!("Express state machine does not support {what}"),
                    location: pointer_push(&s.pointer, "Resource"),
                });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn machine(def: serde_json::Value) -> StateMachine {
        shared::asl::parse::parse_value(&def).expect("a valid machine").0
    }

    #[test]
    fn callbacks_syncs_and_activities_are_refused_in_express_only() {
        let m = machine(json!({"StartAt": "Sync", "States": {
            "Sync": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2", "Next": "Callback"},
            "Callback": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "Next": "Activity"},
            "Activity": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:review", "Next": "Plain"},
            "Plain": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}
        }}));
        let found = violations(&m, true);
        let at: Vec<(&str, &str)> = found.iter().map(|d| (d.location.as_str(), d.message.as_str())).collect();
        assert_eq!(
            at,
            [
                ("/States/Sync/Resource", "Express state machine does not support '.sync:2' service integration"),
                (
                    "/States/Callback/Resource",
                    "Express state machine does not support '.waitForTaskToken' service integration"
                ),
                ("/States/Activity/Resource", "Express state machine does not support Activity ARN"),
            ]
        );
        assert!(found.iter().all(|d| d.code == "SCHEMA_VALIDATION_FAILED"));
        assert!(violations(&m, false).is_empty());
    }
}
