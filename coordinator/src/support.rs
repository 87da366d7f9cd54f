//! What this build of dmap can run: checks a validated machine for features that are valid
//! ASL but not available here yet (today: Task resources without an integration), and reports
//! each as a diagnostic at its pointer.

use shared::asl::diagnostic::{Diagnostic, Severity, code, pointer_push};
use shared::asl::model::{StateKind, StateMachine};

/// Diagnostics for every Task whose resource has no integration among `resources`.
pub fn unsupported(machine: &StateMachine, resources: &[String]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    walk(machine, resources, &mut out);
    out
}

fn walk(m: &StateMachine, resources: &[String], out: &mut Vec<Diagnostic>) {
    for s in &m.states {
        match &s.kind {
            StateKind::Map(map) => walk(&map.processor, resources, out),
            StateKind::Parallel(p) => p.branches.iter().for_each(|b| walk(b, resources, out)),
            StateKind::Task(t) if !resources.contains(&t.resource) => out.push(Diagnostic {
                severity: Severity::Error,
                code: code::NOT_SUPPORTED,
                message: format!(
                    "no integration for the Task resource '{}' at {} yet: Lambda and HTTP integrations arrive with `--functions`",
                    t.resource, s.pointer
                ),
                location: pointer_push(&s.pointer, "Resource"),
            }),
            _ => {}
        }
    }
}
