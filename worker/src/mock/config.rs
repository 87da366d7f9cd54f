//! AWS Step Functions Local's mock configuration file (`MockConfigFile.json`), read and checked
//! as a document: `StateMachines` → `<name>` → `TestCases` → `<case>` → `{state: response}`,
//! and `MockedResponses` → `<response>` → `{"<n>" | "<n>-<m>": {"Return": any} | {"Throw":
//! {"Error", "Cause"}}}`. Every problem is reported at once, each at its JSON pointer.
//!
//! Owns the format. Must not know a definition (`select` checks a test case against one) nor
//! serve calls (`host`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use shared::asl::Failure;
use shared::asl::diagnostic::pointer_push;

/// One problem of a mock configuration, at a JSON pointer into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

/// A checked mock configuration.
#[derive(Debug, Default)]
pub struct MockConfig {
    /// State machine name → test case name → Task state name → mocked response name.
    pub state_machines: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    pub responses: BTreeMap<String, Arc<MockedResponse>>,
}

/// The answers of one mocked response, by invocation number.
#[derive(Debug, PartialEq)]
pub struct MockedResponse {
    pub name: String,
    /// Sorted by `first`; ranges never overlap.
    entries: Vec<Entry>,
}

#[derive(Debug, PartialEq)]
struct Entry {
    first: u64,
    last: u64,
    response: Response,
}

/// What one invocation of a mocked Task gives: its result, or a failure for Retry and Catch.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Return(Value),
    Throw(Failure),
}

impl MockedResponse {
    /// The answer to invocation `n` (0-based), if the file has one.
    pub fn get(&self, n: u64) -> Option<&Response> {
        let i = self.entries.partition_point(|e| e.last < n);
        self.entries.get(i).filter(|e| e.first <= n).map(|e| &e.response)
    }

    /// The invocation numbers answered, as written (`0, 1-2`), for messages.
    pub fn describe_keys(&self) -> String {
        if self.entries.is_empty() {
            return "none".into();
        }
        let keys: Vec<String> = self
            .entries
            .iter()
            .map(|e| if e.first == e.last { e.first.to_string() } else { format!("{}-{}", e.first, e.last) })
            .collect();
        keys.join(", ")
    }
}

impl MockConfig {
    /// Reads a configuration from JSON text.
    pub fn parse(text: &str) -> Result<MockConfig, Vec<Problem>> {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| vec![Problem { pointer: String::new(), message: format!("not valid JSON: {e}") }])?;
        let mut problems = Vec::new();
        let config = read(&doc, &mut problems);
        if problems.is_empty() { Ok(config) } else { Err(problems) }
    }
}

const STATE_MACHINES: &str = "StateMachines";
const MOCKED_RESPONSES: &str = "MockedResponses";

fn read(doc: &Value, problems: &mut Vec<Problem>) -> MockConfig {
    let mut config = MockConfig::default();
    let Some(root) = object(doc, "", "the mock configuration", problems) else { return config };
    for key in root.keys().filter(|k| *k != STATE_MACHINES && *k != MOCKED_RESPONSES) {
        problem(
            problems,
            &pointer_push("", key),
            format!("unknown field '{key}': a mock configuration has only `{STATE_MACHINES}` and `{MOCKED_RESPONSES}`"),
        );
    }
    let responses_at = pointer_push("", MOCKED_RESPONSES);
    match root.get(MOCKED_RESPONSES) {
        None => problem(problems, "", format!("`{MOCKED_RESPONSES}` is missing")),
        Some(v) => {
            if let Some(responses) = object(v, &responses_at, "`MockedResponses`", problems) {
                for (name, v) in responses {
                    let at = pointer_push(&responses_at, name);
                    if let Some(r) = mocked_response(name, v, &at, problems) {
                        config.responses.insert(name.clone(), Arc::new(r));
                    }
                }
            }
        }
    }
    let machines_at = pointer_push("", STATE_MACHINES);
    let machines = match root.get(STATE_MACHINES) {
        None => {
            problem(problems, "", format!("`{STATE_MACHINES}` is missing"));
            return config;
        }
        Some(v) => match object(v, &machines_at, "`StateMachines`", problems) {
            Some(m) => m,
            None => return config,
        },
    };
    let known =
        |name: &str| root.get(MOCKED_RESPONSES).and_then(Value::as_object).is_some_and(|r| r.contains_key(name));
    for (machine, v) in machines {
        let at = pointer_push(&machines_at, machine);
        let Some(fields) = object(v, &at, "a state machine's entry", problems) else { continue };
        for key in fields.keys().filter(|k| *k != "TestCases") {
            problem(
                problems,
                &pointer_push(&at, key),
                format!("unknown field '{key}': a state machine has only `TestCases`"),
            );
        }
        let cases_at = pointer_push(&at, "TestCases");
        let Some(cases) = fields.get("TestCases") else {
            problem(problems, &at, "`TestCases` is missing".into());
            continue;
        };
        let Some(cases) = object(cases, &cases_at, "`TestCases`", problems) else { continue };
        let mut read_cases = BTreeMap::new();
        for (case, v) in cases {
            let case_at = pointer_push(&cases_at, case);
            let Some(states) = object(v, &case_at, "a test case (Task state name → mocked response name)", problems)
            else {
                continue;
            };
            let mut read_states = BTreeMap::new();
            for (state, v) in states {
                let state_at = pointer_push(&case_at, state);
                match v.as_str() {
                    None => problem(problems, &state_at, "must be the name of a mocked response (a string)".into()),
                    Some(r) if !known(r) => {
                        problem(problems, &state_at, format!("no mocked response named '{r}' in `{MOCKED_RESPONSES}`"))
                    }
                    Some(r) => {
                        read_states.insert(state.clone(), r.to_string());
                    }
                }
            }
            read_cases.insert(case.clone(), read_states);
        }
        config.state_machines.insert(machine.clone(), read_cases);
    }
    config
}

fn mocked_response(name: &str, v: &Value, at: &str, problems: &mut Vec<Problem>) -> Option<MockedResponse> {
    let fields = object(v, at, "a mocked response (invocation number → response)", problems)?;
    let before = problems.len();
    let mut entries: Vec<(Entry, String)> = Vec::new();
    for (key, v) in fields {
        let entry_at = pointer_push(at, key);
        let range = invocations(key);
        let response = response(v, &entry_at, problems);
        match range {
            Err(m) => problem(problems, &entry_at, m),
            Ok((first, last)) => {
                if let Some(response) = response {
                    entries.push((Entry { first, last, response }, key.clone()));
                }
            }
        }
    }
    entries.sort_by_key(|(e, _)| e.first);
    for pair in entries.windows(2) {
        let ((a, a_key), (b, b_key)) = (&pair[0], &pair[1]);
        if b.first <= a.last {
            problem(
                problems,
                &pointer_push(at, b_key),
                format!("invocations '{b_key}' overlap '{a_key}': each invocation has one response"),
            );
        }
    }
    (problems.len() == before)
        .then(|| MockedResponse { name: name.to_string(), entries: entries.into_iter().map(|(e, _)| e).collect() })
}

/// `"3"` → (3, 3); `"1-2"` → (1, 2), inclusive, as AWS documents.
fn invocations(key: &str) -> Result<(u64, u64), String> {
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    };
    let bad = || {
        format!("'{key}' is not an invocation number: write a number (\"0\", \"3\") or an inclusive range (\"1-2\")")
    };
    match key.split_once('-') {
        None => number(key).map(|n| (n, n)).ok_or_else(bad),
        Some((a, b)) => {
            let (first, last) = number(a).zip(number(b)).ok_or_else(bad)?;
            if first > last {
                return Err(format!("the range '{key}' ends before it starts"));
            }
            Ok((first, last))
        }
    }
}

fn response(v: &Value, at: &str, problems: &mut Vec<Problem>) -> Option<Response> {
    let fields = object(v, at, "a response (`{\"Return\": …}` or `{\"Throw\": …}`)", problems)?;
    let returns = fields.get("Return");
    let throws = fields.get("Throw");
    let mut ok = true;
    for key in fields.keys().filter(|k| *k != "Return" && *k != "Throw") {
        problem(problems, &pointer_push(at, key), format!("unknown field '{key}': a response is `Return` or `Throw`"));
        ok = false;
    }
    match (returns, throws) {
        (Some(_), Some(_)) => {
            problem(problems, at, "a response has exactly one of `Return` and `Throw`, not both".into());
            None
        }
        (None, None) => {
            problem(problems, at, "a response needs `Return` (the result) or `Throw` (an error)".into());
            None
        }
        (Some(v), None) => ok.then(|| Response::Return(v.clone())),
        (None, Some(v)) => {
            let failure = throw(v, &pointer_push(at, "Throw"), problems);
            failure.filter(|_| ok).map(Response::Throw)
        }
    }
}

/// `{"Error": "…", "Cause": "…"}`. AWS's page says both are strings; a missing `Cause` is
/// accepted (the failure then has none), a missing `Error` is not.
fn throw(v: &Value, at: &str, problems: &mut Vec<Problem>) -> Option<Failure> {
    let fields = object(v, at, "`Throw` (`{\"Error\": …, \"Cause\": …}`)", problems)?;
    let before = problems.len();
    for key in fields.keys().filter(|k| *k != "Error" && *k != "Cause") {
        problem(problems, &pointer_push(at, key), format!("unknown field '{key}': `Throw` has `Error` and `Cause`"));
    }
    let error = match fields.get("Error") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            problem(problems, &pointer_push(at, "Error"), "must be a string".into());
            None
        }
        None => {
            problem(problems, at, "`Error` is missing".into());
            None
        }
    };
    let cause = match fields.get("Cause") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            problem(problems, &pointer_push(at, "Cause"), "must be a string".into());
            None
        }
        None => None,
    };
    let error = error.filter(|_| problems.len() == before)?;
    Some(Failure { error: Some(error), cause })
}

fn object<'v>(v: &'v Value, at: &str, what: &str, problems: &mut Vec<Problem>) -> Option<&'v Map<String, Value>> {
    let o = v.as_object();
    if o.is_none() {
        problem(problems, at, format!("{what} must be a JSON object"));
    }
    o
}

fn problem(problems: &mut Vec<Problem>, at: &str, message: String) {
    problems.push(Problem { pointer: at.to_string(), message });
}

#[cfg(test)]
mod tests;
