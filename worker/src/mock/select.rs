//! Chooses the test case a run uses, and checks it against the definition.
//!
//! Step Functions Local takes the state machine from the execution's ARN
//! (`…:stateMachine:<Name>#<TestCase>`). dmap has no deployed state machine, so the choice is:
//! `Name#Case` names both; a bare `Case` is taken from the state machine named like the run's
//! (`dmap run`: the definition file's stem), else from the only state machine that has it;
//! anything else is an error that lists the choices.
//!
//! Owns the choice and the check. Must not read files (`mod`) or serve calls (`host`).

use std::collections::HashMap;
use std::sync::Arc;

use shared::asl::diagnostic::pointer_push;
use shared::asl::model::{StateKind, StateMachine};

use super::config::{MockConfig, MockedResponse, Problem};

/// The mocks of one test case: Task state name → its mocked response.
#[derive(Debug)]
pub struct TestCase {
    pub state_machine: String,
    pub name: String,
    pub states: HashMap<String, Arc<MockedResponse>>,
}

/// Finds the test case `wanted` (`Case` or `StateMachine#Case`); `run_name` is the name the
/// run gives its state machine.
pub fn choose(config: &MockConfig, wanted: &str, run_name: Option<&str>) -> Result<TestCase, String> {
    let (machine, case) = match wanted.split_once('#') {
        Some((m, c)) => {
            let Some(cases) = config.state_machines.get(m) else {
                return Err(format!(
                    "no state machine '{m}' in the mock configuration (it has: {})",
                    list(config.state_machines.keys())
                ));
            };
            if !cases.contains_key(c) {
                return Err(format!("the state machine '{m}' has no test case '{c}' (it has: {})", list(cases.keys())));
            }
            (m, c)
        }
        None => {
            let having: Vec<&String> =
                config.state_machines.iter().filter(|(_, cases)| cases.contains_key(wanted)).map(|(m, _)| m).collect();
            let named = run_name.and_then(|n| having.iter().find(|m| m.as_str() == n));
            match (named, having.as_slice()) {
                (Some(m), _) | (None, [m]) => (m.as_str(), wanted),
                (None, []) => {
                    let all: Vec<String> = config
                        .state_machines
                        .iter()
                        .flat_map(|(m, cases)| cases.keys().map(move |c| format!("{m}#{c}")))
                        .collect();
                    return Err(format!("no state machine has a test case '{wanted}' (test cases: {})", list(&all)));
                }
                (None, several) => {
                    let choices: Vec<String> = several.iter().map(|m| format!("{m}#{wanted}")).collect();
                    return Err(format!(
                        "several state machines have a test case '{wanted}'; name one as StateMachine#TestCase: {}",
                        list(&choices)
                    ));
                }
            }
        }
    };
    let states = config.state_machines[machine][case]
        .iter()
        .map(|(state, response)| (state.clone(), config.responses[response].clone()))
        .collect();
    Ok(TestCase { state_machine: machine.to_string(), name: case.to_string(), states })
}

/// Problems of a test case against the definition: every state it mocks must be a Task state
/// somewhere in the definition (at any depth: Parallel branches, Map iterations, Distributed
/// Map children).
pub fn check(case: &TestCase, definition: &StateMachine) -> Vec<Problem> {
    let mut kinds = HashMap::new();
    collect(definition, &mut kinds);
    let at = pointer_push(&pointer_push(&pointer_push("/StateMachines", &case.state_machine), "TestCases"), &case.name);
    let mut names: Vec<&String> = case.states.keys().collect();
    names.sort();
    let mut problems = Vec::new();
    for name in names {
        let message = match kinds.get(name.as_str()) {
            Some(&"Task") => continue,
            Some(kind) => format!("the state '{name}' is a {kind} state; only Task states are mocked"),
            None => {
                let mut tasks: Vec<&str> = kinds.iter().filter(|(_, k)| **k == "Task").map(|(n, _)| *n).collect();
                tasks.sort();
                format!("the definition has no state '{name}' (its Task states: {})", list(tasks))
            }
        };
        problems.push(Problem { pointer: pointer_push(&at, name), message });
    }
    problems
}

fn collect<'m>(m: &'m StateMachine, kinds: &mut HashMap<&'m str, &'static str>) {
    for s in &m.states {
        kinds.insert(s.name.as_str(), s.kind.type_name());
        match &s.kind {
            StateKind::Map(map) => collect(&map.processor, kinds),
            StateKind::Parallel(p) => p.branches.iter().for_each(|b| collect(b, kinds)),
            _ => {}
        }
    }
}

fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    if items.is_empty() { "none".into() } else { items.join(", ") }
}
