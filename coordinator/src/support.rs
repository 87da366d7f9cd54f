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

/// As [`unsupported`], for `dmap serve`: callbacks, activities and nested executions run there
/// (except in children on NATS workers, which take no callbacks, have no activity queue and no
/// server to start children on).
pub fn unsupported_served(
    machine: &StateMachine,
    integrations: &Integrations,
    remote_children: bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let can = Can { integrations, remote: remote_children, callbacks: true, served: true, mocked: &|_| false };
    walk(machine, &can, &mut out);
    out
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
    walk(machine, &Can { integrations, remote: remote_children, callbacks, served: false, mocked }, &mut out);
    out
}

/// What the host can do, for [`walk`].
struct Can<'a> {
    integrations: &'a Integrations,
    remote: bool,
    callbacks: bool,
    /// `states:startExecution` and activity Tasks run (`dmap serve`: `serve::nested` and
    /// `serve::activities`, not integrations).
    served: bool,
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
                let served = can.served
                    && (crate::serve::nested::is_start_execution(&t.resource)
                        || matches!(t.resource.target, Target::Activity { .. }));
                let reason = match served {
                    true => None,
                    false => needs_serve(&t.resource, can.callbacks)
                        .or_else(|| can.integrations.unsupported(&t.resource, &params)),
                };
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

/// Resources that need a server outliving one command — nested executions, activities and
/// callbacks. `dmap serve` runs all three (`walk` lets the first two through there);
/// `dmap run --listen` takes callbacks too (`callbacks`).
fn needs_serve(resource: &Resource, callbacks: bool) -> Option<String> {
    match (&resource.target, resource.pattern) {
        (Target::Optimized { service: Service::States, .. }, _) => Some(format!(
            "the Task resource '{resource}' starts a nested execution (states:startExecution), which needs a \
             server that outlives one command and runs the child: run it on `dmap serve`"
        )),
        (Target::Activity { .. }, _) => Some(format!(
            "the Task resource '{resource}' is an activity, whose tasks workers take with GetActivityTask from a \
             server that outlives one command: run it on `dmap serve`"
        )),
        (_, Pattern::WaitForTaskToken) if !callbacks => Some(format!(
            "the Task resource '{resource}' waits for a callback (.waitForTaskToken), which needs a listener for \
             SendTaskSuccess/SendTaskFailure: run it with `dmap run --listen ADDR`, or on `dmap serve`"
        )),
        _ => None,
    }
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

/// Children on NATS workers cannot start Map Runs of their own (workers do not coordinate), nor
/// nested executions (a worker has no server to start them on).
fn nested_distributed(m: &StateMachine, out: &mut Vec<Diagnostic>) {
    for s in &m.states {
        match &s.kind {
            StateKind::Task(t) if matches!(t.resource.target, Target::Optimized { service: Service::States, .. }) => {
                out.push(Diagnostic {
                    severity: Severity::Error,
                    code: code::NOT_SUPPORTED,
                    message: format!(
                        "the Task resource '{}' starts a nested execution, which a Distributed Map's children cannot do on \
                         NATS workers (at {}); run the Map Run without --nats",
                        t.resource, s.pointer
                    ),
                    location: pointer_push(&s.pointer, "Resource"),
                })
            }
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
        // dmap serve runs nested executions, callbacks and activities.
        let served = unsupported_served(&machine, &Integrations::none(None), false);
        assert!(served.is_empty(), "{served:?}");
    }

    #[test]
    fn dmap_serve_runs_nested_executions_except_in_children_on_nats_workers() {
        let nested = |end: bool| match end {
            true => json!({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2", "End": true}),
            false => json!({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "Next": "Fan"}),
        };
        let def = json!({"StartAt": "Top", "States": {
            "Top": nested(false),
            "Fan": {"Type": "Map", "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Child", "States": {"Child": nested(true)}}, "End": true}
        }});
        let (machine, _) = shared::asl::parse::parse_value(&def).expect("a valid machine");
        let none = Integrations::none(None);
        let local = unsupported_served(&machine, &none, false);
        assert!(local.is_empty(), "in process, children start them too: {local:?}");
        let remote = unsupported_served(&machine, &none, true);
        let locations: Vec<&str> = remote.iter().map(|d| d.location.as_str()).collect();
        assert_eq!(locations, ["/States/Fan/ItemProcessor/States/Child/Resource"], "{remote:?}");
        assert!(remote[0].message.contains("without --nats"), "{}", remote[0].message);
        // `dmap run` (even with --listen) has no server to start them on.
        assert_eq!(unsupported(&machine, &none, false, true).len(), 2);
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
