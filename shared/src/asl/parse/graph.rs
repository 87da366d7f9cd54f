//! Checks over the transition graph of one state machine: every state reachable from
//! `StartAt`, and at least one way to end.

use crate::asl::diagnostic::{Diagnostics, code, pointer_push};
use crate::asl::model::{StateKind, StateMachine, Transition};

/// `fallback_edges` are transitions of states that could not be read (already reported).
pub(super) fn check(m: &StateMachine, fallback_edges: &[(usize, usize)], states_ptr: &str, diags: &mut Diagnostics) {
    let n = m.states.len();
    if m.start_at >= n {
        return;
    }
    let mut seen = vec![false; n];
    let mut stack = vec![m.start_at];
    while let Some(id) = stack.pop() {
        if id >= n || seen[id] {
            continue;
        }
        seen[id] = true;
        let s = &m.states[id];
        if let Transition::Next(t) = s.transition {
            stack.push(t);
        }
        if let StateKind::Choice(c) = &s.kind {
            stack.extend(c.choices.iter().map(|b| b.next));
            stack.extend(c.default);
        }
        stack.extend(s.catch.iter().map(|c| c.next));
        stack.extend(fallback_edges.iter().filter(|(from, _)| *from == id).map(|(_, to)| *to));
    }
    for (i, s) in m.states.iter().enumerate() {
        if !seen[i] {
            diags.error(
                &pointer_push(states_ptr, &s.name),
                code::UNREACHABLE_STATE,
                format!("the state '{}' is not reachable from StartAt", s.name),
            );
        }
    }
    let terminal = m
        .states
        .iter()
        .any(|s| matches!(s.transition, Transition::End) || matches!(s.kind, StateKind::Succeed | StateKind::Fail(_)));
    if !terminal {
        diags.error(
            states_ptr,
            code::NO_TERMINAL_STATE,
            "no state ends the machine: at least one state needs 'End': true or must be a Succeed or Fail state",
        );
    }
}
