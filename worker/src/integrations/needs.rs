//! What a child state machine needs of the worker that runs it: the Lambda functions and HTTP
//! connections its Tasks name, read from the definition before anything runs. Used to send a
//! Map Run's children only to workers that serve all of it.
//!
//! A name written literally counts as itself (a function as its bare name, without ARN prefix
//! or qualifier). A name known only at run time (`FunctionName.$`, `ConnectionArn.$`, or
//! `Parameters` computed whole) counts as [`ANY`]: a worker serving at least one function (or
//! connection) — the nearest that can be known before the run. A name that is malformed or
//! missing counts as nothing: the Task fails the same on every worker.

use serde_json::Value;
use shared::asl::model::{StateKind, StateMachine};
use shared::asl::path::Template;
use shared::protocol::{ANY, Needs};

use shared::asl::resource::Target;

use super::http::connection_name;
use super::lambda::bare_name;

/// The functions and connections the Tasks of `machine` (and of its Parallel branches and Map
/// processors) name.
pub fn needs(machine: &StateMachine) -> Needs {
    let (mut functions, mut connections) = (Vec::new(), Vec::new());
    walk(machine, &mut functions, &mut connections);
    Needs::new(functions, connections)
}

fn walk(m: &StateMachine, functions: &mut Vec<String>, connections: &mut Vec<String>) {
    for s in &m.states {
        match &s.kind {
            StateKind::Map(map) => walk(&map.processor, functions, connections),
            StateKind::Parallel(p) => p.branches.iter().for_each(|b| walk(b, functions, connections)),
            StateKind::Task(t) => {
                let params = s.flow.arguments();
                if t.resource.is_lambda_invoke() {
                    functions.extend(named(field(params, "FunctionName"), |v| bare_name(v).map(str::to_owned)));
                } else if let Target::Function { name } = &t.resource.target {
                    functions.push(name.clone());
                } else if t.resource.target == Target::Http {
                    let arn = match field(params, "Authentication") {
                        Field::Literal(Value::Object(o)) => {
                            o.get("ConnectionArn").map_or(Field::Absent, Field::Literal)
                        }
                        Field::Template(Template::Object(entries)) => entry(entries, "ConnectionArn"),
                        other => other,
                    };
                    connections.extend(named(arn, |v| connection_name(v).map(str::to_owned)));
                }
            }
            _ => {}
        }
    }
}

/// A parameter as the definition writes it.
enum Field<'a> {
    Absent,
    Literal(&'a Value),
    Template(&'a Template),
    /// Computed at run time.
    Dynamic,
}

fn field<'a>(params: Option<&'a Template>, name: &str) -> Field<'a> {
    match params {
        None => Field::Absent,
        Some(Template::Literal(Value::Object(o))) => o.get(name).map_or(Field::Absent, Field::Literal),
        Some(Template::Object(entries)) => entry(entries, name),
        Some(Template::Dynamic(_)) => Field::Dynamic,
        Some(_) => Field::Absent,
    }
}

fn entry<'a>(entries: &'a [(String, Template)], name: &str) -> Field<'a> {
    match entries.iter().find(|(k, _)| k == name).map(|(_, t)| t) {
        None => Field::Absent,
        Some(Template::Literal(v)) => Field::Literal(v),
        Some(Template::Dynamic(_)) => Field::Dynamic,
        Some(t) => Field::Template(t),
    }
}

/// The name a field gives, through `name_of`; [`ANY`] when it is computed.
fn named(f: Field<'_>, name_of: impl Fn(&str) -> Option<String>) -> Option<String> {
    match f {
        Field::Literal(Value::String(s)) => name_of(s),
        Field::Dynamic => Some(ANY.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(states: Value) -> Needs {
        let def = json!({"StartAt": "A", "States": states});
        let (machine, _) = shared::asl::parse::parse_value(&def).expect("a valid machine");
        needs(&machine)
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn literal_function_names_count_bare_and_computed_ones_as_any() {
        let n = of(json!({
            "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:price:$LATEST", "Payload.$": "$"},
                  "Next": "B"},
            "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:tax", "Next": "C"},
            "C": {"Type": "Parallel", "Branches": [{"StartAt": "D", "States": {
                "D": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                      "Parameters": {"FunctionName.$": "$.f"}, "End": true}}}], "Next": "E"},
            "E": {"Type": "Pass", "End": true}
        }));
        assert_eq!(n.functions, names(&["*", "price", "tax"]));
        assert!(n.connections.is_empty());
    }

    #[test]
    fn http_tasks_need_their_connection_and_plain_ones_nothing() {
        let n = of(json!({
            "A": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                  "Parameters": {"ApiEndpoint": "https://example.com", "Method": "GET",
                                 "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/payments/abc"}},
                  "Next": "B"},
            "B": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                  "Parameters": {"ApiEndpoint": "https://example.com", "Method": "GET"}, "Next": "C"},
            "C": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                  "Parameters": {"ApiEndpoint": "https://example.com", "Method": "GET",
                                 "Authentication": {"ConnectionArn.$": "$.c"}}, "End": true}
        }));
        assert!(n.functions.is_empty());
        assert_eq!(n.connections, names(&["*", "payments"]));
        assert!(of(json!({"A": {"Type": "Pass", "End": true}})).is_empty());
    }
}
