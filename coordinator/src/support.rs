//! What this build of dmap can run: checks a validated machine for Task resources that no
//! configured integration serves (a Lambda function missing from the functions file, a
//! service integration dmap does not have), and reports each as a diagnostic at its pointer
//! before anything runs. A Task state mocked by a mock configuration never calls its
//! integration and is not checked.

use serde_json::{Map, Value};
use shared::asl::diagnostic::{Diagnostic, Severity, code, pointer_push};
use shared::asl::model::{ProcessorMode, StateKind, StateMachine};
use shared::asl::path::Template;
use shared::asl::resource::{Pattern, Resource, Service, Target};
use worker::integrations::Integrations;

/// Diagnostics for every Task whose resource the integrations cannot serve. With
/// `remote_children` (NATS workers run the Map Runs' children), the children's Tasks are the
/// workers' business and are not checked here, except that they cannot wait for callbacks
/// (workers take none), and a Distributed Map inside a child is refused. With `callbacks`,
/// the host takes callbacks (`dmap serve`, `dmap run --listen`): `.waitForTaskToken` runs.
pub fn unsupported(
    machine: &StateMachine,
    integrations: &Integrations,
    remote_children: bool,
    callbacks: bool,
) -> Vec<Diagnostic> {
    unsupported_except(machine, integrations, remote_children, callbacks, &|_| false)
}

/// As [`unsupported`], except for the Task states `mocked` names: a mocked state never calls
/// its integration, so it runs whatever its resource.
pub fn unsupported_except(
    machine: &StateMachine,
    integrations: &Integrations,
    remote_children: bool,
    callbacks: bool,
    mocked: &dyn Fn(&str) -> bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    walk(machine, &Can { integrations, remote: remote_children, callbacks, mocked }, &mut out);
    out
}

/// What the host can do, for [`walk`].
struct Can<'a> {
    integrations: &'a Integrations,
    remote: bool,
    callbacks: bool,
    mocked: &'a dyn Fn(&str) -> bool,
}

fn walk(m: &StateMachine, can: &Can<'_>, out: &mut Vec<Diagnostic>) {
    for s in &m.states {
        match &s.kind {
            StateKind::Map(map) if can.remote && matches!(map.mode, ProcessorMode::Distributed(_)) => {
                nested_distributed(&map.processor, out);
                remote_callbacks(&map.processor, out);
            }
            StateKind::Map(map) => walk(&map.processor, can, out),
            StateKind::Parallel(p) => p.branches.iter().for_each(|b| walk(b, can, out)),
            StateKind::Task(_) if (can.mocked)(&s.name) => {}
            StateKind::Task(t) => {
                let params = literal_parameters(s.flow.arguments());
                let reason = needs_serve(&t.resource, can.callbacks)
                    .or_else(|| can.integrations.unsupported(&t.resource, &params));
                if let Some(reason) = reason {
                    out.push(Diagnostic {
                        severity: Severity::Error,
                        code: code::NOT_SUPPORTED,
                        message: format!("{reason} (at {})", s.pointer),
                        location: pointer_push(&s.pointer, "Resource"),
                    });
                }
            }
            _ => {}
        }
    }
}

/// As [`unsupported`] for `dmap serve`, which runs some of what needs a server: activity
/// Tasks (their Task states are not refused; in-process Map Run children take them too).
pub fn unsupported_by_serve(
    machine: &StateMachine,
    integrations: &Integrations,
    remote_children: bool,
) -> Vec<Diagnostic> {
    let mut served = Vec::new();
    served_tasks(machine, &mut served);
    let mut found = unsupported(machine, integrations, remote_children, true);
    found.retain(|d| !served.contains(&d.location));
    found
}

/// The `…/Resource` pointers of the Task states `dmap serve` runs although `dmap run` cannot.
fn served_tasks(m: &StateMachine, out: &mut Vec<String>) {
    for s in &m.states {
        match &s.kind {
            StateKind::Map(map) => served_tasks(&map.processor, out),
            StateKind::Parallel(p) => p.branches.iter().for_each(|b| served_tasks(b, out)),
            StateKind::Task(t) if matches!(t.resource.target, Target::Activity { .. }) => {
                out.push(pointer_push(&s.pointer, "Resource"))
            }
            _ => {}
        }
    }
}

/// Resources that need a server outliving one command — nested executions, callbacks and
/// activities. `dmap serve` is that server; it does not run them yet either, except callbacks
/// (which `dmap run --listen` takes too: `callbacks`).
fn needs_serve(resource: &Resource, callbacks: bool) -> Option<String> {
    let what = match (&resource.target, resource.pattern) {
        (Target::Optimized { service: Service::States, .. }, _) => "a nested execution (states:startExecution)",
        (Target::Activity { .. }, _) => "an activity",
        (_, Pattern::WaitForTaskToken) if callbacks => return None,
        (_, Pattern::WaitForTaskToken) => {
            return Some(format!(
                "the Task resource '{resource}' waits for a callback (.waitForTaskToken), which needs a listener for \
                 SendTaskSuccess/SendTaskFailure: run it with `dmap run --listen ADDR`, or on `dmap serve`"
            ));
        }
        _ => return None,
    };
    Some(format!(
        "the Task resource '{resource}' is {what}, which needs a server that outlives one command: `dmap serve` is that server, and does not run it yet"
    ))
}

/// Children on NATS workers cannot wait for callbacks: the workers take none (the callbacks
/// reach the coordinator, which does not run those children).
fn remote_callbacks(m: &StateMachine, out: &mut Vec<Diagnostic>) {
    for s in &m.states {
        match &s.kind {
            StateKind::Map(map) => remote_callbacks(&map.processor, out),
            StateKind::Parallel(p) => p.branches.iter().for_each(|b| remote_callbacks(b, out)),
            StateKind::Task(t) if t.resource.pattern == Pattern::WaitForTaskToken => out.push(Diagnostic {
                severity: Severity::Error,
                code: code::NOT_SUPPORTED,
                message: format!(
                    "the Task resource '{}' waits for a callback, which children on NATS workers cannot take yet (at {}); \
                     run the Map Run without --nats",
                    t.resource, s.pointer
                ),
                location: pointer_push(&s.pointer, "Resource"),
            }),
            _ => {}
        }
    }
}

/// Children on NATS workers cannot start Map Runs of their own (workers do not coordinate).
fn nested_distributed(m: &StateMachine, out: &mut Vec<Diagnostic>) {
    for s in &m.states {
        match &s.kind {
            StateKind::Map(map) if matches!(map.mode, ProcessorMode::Distributed(_)) => out.push(Diagnostic {
                severity: Severity::Error,
                code: code::NOT_SUPPORTED,
                message: format!(
                    "a Distributed Map inside a Distributed Map's ItemProcessor is not supported with --nats yet (at {}); \
                     run it without --nats",
                    s.pointer
                ),
                location: s.pointer.clone(),
            }),
            StateKind::Map(map) => nested_distributed(&map.processor, out),
            StateKind::Parallel(p) => p.branches.iter().for_each(|b| nested_distributed(b, out)),
            _ => {}
        }
    }
}

/// The parameters whose values are written literally (what can be known before a run).
fn literal_parameters(t: Option<&Template>) -> Value {
    match t {
        Some(Template::Literal(v)) => v.clone(),
        Some(Template::Object(entries)) => Value::Object(
            entries
                .iter()
                .filter_map(|(k, t)| match t {
                    Template::Literal(v) => Some((k.clone(), v.clone())),
                    _ => None,
                })
                .collect::<Map<String, Value>>(),
        ),
        _ => Value::Object(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nested_executions_callbacks_and_activities_wait_for_dmap_serve() {
        let task = |resource: &str, next: Option<&str>| match next {
            Some(n) => json!({"Type": "Task", "Resource": resource, "Next": n}),
            None => json!({"Type": "Task", "Resource": resource, "End": true}),
        };
        let def = json!({"StartAt": "Nested", "States": {
            "Nested": task("arn:aws:states:::states:startExecution.sync:2", Some("Plain")),
            "Plain": task("arn:aws:states:::states:startExecution", Some("Callback")),
            "Callback": task("arn:aws:states:::sqs:sendMessage.waitForTaskToken", Some("Activity")),
            "Activity": task("arn:aws:states:us-east-1:123456789012:activity:review", Some("Sdk")),
            "Sdk": task("arn:aws:states:::aws-sdk:s3:getObject", Some("Function")),
            "Function": task("arn:aws:lambda:us-east-1:123456789012:function:price", Some("Http")),
            "Http": task("arn:aws:states:::http:invoke", None)
        }});
        let (machine, _) = shared::asl::parse::parse_value(&def).expect("a valid machine");
        let found = unsupported(&machine, &Integrations::none(None), false, false);
        let at = |state: &str| {
            found
                .iter()
                .find(|d| d.location == format!("/States/{state}/Resource"))
                .map(|d| (d.code, d.message.contains("dmap serve")))
        };
        for state in ["Nested", "Plain", "Callback", "Activity"] {
            assert_eq!(at(state), Some((code::NOT_SUPPORTED, true)), "{state}: {found:?}");
        }
        // The SDK integrations call AWS (or the endpoint configured) for real.
        assert_eq!(at("Sdk"), None);
        // Without a functions file, Lambda functions are AWS Lambda's.
        assert_eq!(at("Function"), None);
        assert_eq!(at("Http"), None);
        assert_eq!(found.len(), 4);
        // dmap serve runs activities, in branches and Map iterations too.
        let served = unsupported_by_serve(&machine, &Integrations::none(None), false);
        assert_eq!(served.len(), 2, "{served:?}");
        assert!(served.iter().all(|d| d.location != "/States/Activity/Resource"), "{served:?}");
    }
}

#[cfg(test)]
mod callback_tests {
    use serde_json::json;

    use super::*;

    fn machine(def: Value) -> StateMachine {
        shared::asl::parse::parse_value(&def).expect("a valid machine").0
    }

    /// A host that takes callbacks runs `.waitForTaskToken` (in-process Map Run children too);
    /// one that does not refuses it at the resource; NATS workers' children refuse it.
    #[test]
    fn callbacks_run_where_the_host_takes_them() {
        let wait = json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}}, "End": true});
        let def = json!({"StartAt": "Wait", "States": {
            "Wait": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "f", "Payload": {"t.$": "$$.Task.Token"}}, "Next": "Fan"},
            "Fan": {"Type": "Map", "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Child", "States": {"Child": wait}}, "End": true}}});
        let m = machine(def);
        let none = Integrations::none(None);
        assert_eq!(unsupported(&m, &none, false, true), vec![]);
        let refused = unsupported(&m, &none, false, false);
        let at: Vec<&str> = refused.iter().map(|d| d.location.as_str()).collect();
        assert_eq!(at, ["/States/Wait/Resource", "/States/Fan/ItemProcessor/States/Child/Resource"]);
        assert!(refused.iter().all(|d| d.message.contains("--listen")), "{refused:?}");
        let remote = unsupported(&m, &none, true, true);
        let at: Vec<&str> = remote.iter().map(|d| d.location.as_str()).collect();
        assert_eq!(at, ["/States/Fan/ItemProcessor/States/Child/Resource"]);
        assert!(remote[0].message.contains("NATS"), "{remote:?}");
    }
}
