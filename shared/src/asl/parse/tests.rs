//! Definitions that once crashed the parser (probe 2026-12, H1/H2): nesting is refused with a
//! diagnostic at its pointer, also on a thread with a worker's 2 MiB stack.

use serde_json::{Value, json};

use crate::asl::diagnostic::{Diagnostic, code};

use super::parse_definition;

/// The probe's `paren.json`: a Pass whose Parameters hold a filter nested `n` parentheses deep.
fn parens(n: usize) -> String {
    let filter = format!("$[?({}@.a == 1{})]", "(".repeat(n), ")".repeat(n));
    pass_with(&filter)
}

/// The same with `n` negations: `$[?(!!!…@.a)]`.
fn bangs(n: usize) -> String {
    pass_with(&format!("$[?({}@.a)]", "!".repeat(n)))
}

fn pass_with(path: &str) -> String {
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"r.$": path}, "End": true}}}).to_string()
}

/// The probe's `deepchild_3000.json`: the filter in a Distributed Map child's Pass.
fn deep_child(n: usize) -> String {
    let filter = format!("$.xs[?({}@.a == 1{})]", "(".repeat(n), ")".repeat(n));
    json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "C", "States": {"C": {"Type": "Pass", "Parameters": {"r.$": filter}, "End": true}}},
        "End": true}}})
    .to_string()
}

/// Parses on a thread with a 2 MiB stack, as a tokio or rayon worker thread would.
fn parse_small_stack(text: String) -> Result<(), Vec<Diagnostic>> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || parse_definition(&text).map(|_| ()))
        .expect("spawn")
        .join()
        .expect("the parser thread must not die")
}

fn assert_refused_at(result: Result<(), Vec<Diagnostic>>, pointer: &str) {
    let diags = result.expect_err("the definition must be refused");
    assert!(
        diags.iter().any(|d| d.code == code::INVALID_PATH && d.location == pointer && d.message.contains("nested")),
        "{diags:?}"
    );
}

#[test]
fn deeply_nested_filters_are_refused_at_their_pointer() {
    for text in [parens(6_000), bangs(20_000), parens(3_000), parens(100_000)] {
        assert_refused_at(parse_small_stack(text.clone()), "/States/P/Parameters/r.$");
        assert_refused_at(parse_definition(&text).map(|_| ()), "/States/P/Parameters/r.$");
    }
    assert_refused_at(parse_small_stack(deep_child(3_000)), "/States/M/ItemProcessor/States/C/Parameters/r.$");
}

#[test]
fn filters_up_to_the_limit_still_compile() {
    let limit = crate::asl::path::MAX_FILTER_NESTING;
    // The outer `(` after `?` is not a level: `$[?(@.a)]` has nesting 0.
    parse_small_stack(parens(limit)).expect("nesting at the limit is accepted");
    parse_small_stack(bangs(limit)).expect("negations at the limit are accepted");
    assert_refused_at(parse_small_stack(parens(limit + 1)), "/States/P/Parameters/r.$");
}

#[test]
fn long_chains_of_and_and_or_are_flat() {
    // Not nesting, but a left-leaning tree of 50,000 `&&` would overflow the stack when dropped
    // or tested: chains are kept flat.
    let chain = vec!["@.a == 1"; 50_000].join(" && ");
    let text = pass_with(&format!("$.xs[?({chain} || @.b)]"));
    parse_small_stack(text).expect("a flat chain compiles");
}

#[test]
fn choice_rules_nested_to_serdes_limit_parse_on_a_small_stack() {
    // serde_json refuses JSON deeper than 128 levels; each `Not` costs one level, so this is
    // the deepest Choice rule a definition file can hold.
    let mut rule: Value = json!({"Variable": "$.a", "IsPresent": true});
    for _ in 0..118 {
        rule = json!({"Not": rule});
    }
    rule["Next"] = json!("E");
    let text = json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [rule], "Default": "E"},
        "E": {"Type": "Succeed"}}})
    .to_string();
    assert!(serde_json::from_str::<Value>(&text).is_ok(), "the definition is within serde's limit");
    parse_small_stack(text).expect("a Choice rule at serde's depth limit compiles");
}

#[test]
fn parallels_nested_to_serdes_limit_run_on_a_small_stack() {
    // Each Parallel costs four JSON levels (machine, States, state, Branches); 31 is the most
    // a definition file can nest.
    let mut machine = json!({"StartAt": "L", "States": {"L": {"Type": "Pass", "Result": 1, "End": true}}});
    let mut levels = 0;
    loop {
        // State names are unique across the whole definition.
        let name = format!("P{levels}");
        let next = json!({"StartAt": name, "States": {name.clone(): {"Type": "Parallel", "Branches": [machine.clone()], "End": true}}});
        if serde_json::from_str::<Value>(&next.to_string()).is_err() {
            break;
        }
        machine = next;
        levels += 1;
    }
    assert!(levels >= 30, "{levels}");
    let text = machine.to_string();
    let out = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let (m, _) = parse_definition(&text).unwrap_or_else(|d| panic!("{d:?}"));
            crate::asl::eval::execute_pure(&m, json!({}), &Default::default(), &PureHost).map(|o| o.status)
        })
        .expect("spawn")
        .join()
        .expect("the thread must not die");
    assert_eq!(out, Some(crate::asl::eval::Status::Succeeded));
}

/// Pure machines never call the host but for the clock.
struct PureHost;

impl crate::asl::eval::Host for PureHost {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH
    }
    fn sleep_until(&self, _deadline: chrono::DateTime<chrono::Utc>) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    fn invoke_task(
        &self,
        _request: crate::asl::eval::TaskRequest,
    ) -> futures::future::BoxFuture<'_, Result<Value, crate::asl::Failure>> {
        Box::pin(async { Err(crate::asl::Failure::named("States.TaskFailed")) })
    }
}
