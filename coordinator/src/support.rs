//! What this build of dmap can run: checks a validated machine for features that are valid
//! ASL but not available here yet, and reports each as a diagnostic at its pointer.

use shared::asl::diagnostic::{Diagnostic, Severity, code, pointer_push};
use shared::asl::model::{ProcessorMode, StateKind, StateMachine};

/// Diagnostics for every Distributed Map state and every Task whose resource has no
/// integration among `resources`.
pub fn unsupported(machine: &StateMachine, resources: &[String]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    walk(machine, resources, &mut out);
    out
}

fn walk(m: &StateMachine, resources: &[String], out: &mut Vec<Diagnostic>) {
    for s in &m.states {
        match &s.kind {
            StateKind::Map(map) => {
                if let ProcessorMode::Distributed(_) = map.mode {
                    out.push(Diagnostic {
                        severity: Severity::Error,
                        code: code::NOT_SUPPORTED,
                        message: format!("Distributed Map is not supported yet at {}", s.pointer),
                        location: pointer_push(&s.pointer, "ItemProcessor"),
                    });
                }
                walk(&map.processor, resources, out);
            }
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
