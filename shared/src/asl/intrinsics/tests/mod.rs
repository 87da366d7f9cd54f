//! Intrinsic function tests. Expected values come from executions LocalStack recorded against
//! real AWS (`/work/shared/conformance/localstack/cases/intrinsic_functions.*`, named in the
//! comments) or from the spec (§4.8); none is copied from this implementation's output.

use serde_json::{Value, json};

mod array;
mod encoding;
mod json;
mod math;
mod string;

use super::{Call, ERROR, Func};

/// A context object and variables for paths that read `$$` or `$name`.
type TestEnv = crate::asl::path::FixedEnv;

fn env() -> TestEnv {
    let vars = json!({"name": "John", "place": "LocalStack", "n": 5});
    TestEnv {
        context: json!({
            "Execution": {"Name": "exec-1", "Input": {"input_field": {"constant_input_field": "constant_value"}}},
            "StateMachine": {"Id": "arn:aws:states:us-east-1:111111111111:stateMachine:sm-name", "Name": "sm-name"},
        }),
        variables: vars.as_object().cloned().unwrap_or_default(),
    }
}

/// Parses and evaluates `expr` against `input`; `Err` names the expected error.
fn check(expr: &str, input: Value, expected: Result<Value, &str>) {
    let call = Call::parse(expr).unwrap_or_else(|e| panic!("{expr}: parse error: {e}"));
    let got = call.eval(&input, &env());
    match (got, expected) {
        (Ok(v), Ok(want)) => {
            assert_eq!(v, want, "{expr} on {input}");
            // Key order is part of the contract (JsonToString, Format, JsonMerge).
            assert_eq!(v.to_string(), want.to_string(), "key order of {expr} on {input}");
        }
        (Err(f), Err(name)) => {
            assert_eq!(f.error_name(), name, "{expr} on {input}: {f}");
            assert!(f.cause.as_deref().is_some_and(|c| !c.is_empty()), "{expr}: cause missing");
        }
        (got, want) => panic!("{expr} on {input}: got {got:?}, want {want:?}"),
    }
}

/// `f($.fst, $.snd)` on `{"fst": .., "snd": ..}`, the shape of most recorded cases.
fn check2(func: &str, fst: Value, snd: Value, expected: Result<Value, &str>) {
    check(&format!("{func}($.fst, $.snd)"), json!({"fst": fst, "snd": snd}), expected);
}

fn parse_error(expr: &str) {
    assert!(Call::parse(expr).is_err(), "{expr} should not parse");
}

#[test]
fn names_round_trip() {
    for f in Func::ALL {
        assert_eq!(Func::from_name(f.name()), Some(f));
    }
    assert_eq!(Func::from_name("States.UUID"), Some(Func::Uuid));
    assert_eq!(Func::from_name("States.uuid"), None);
}

#[test]
fn argument_syntax() {
    check(
        "States.Array('a', 1, -2, 1.5, -0.25, 1e2, true, false, null)",
        json!({}),
        Ok(json!(["a", 1, -2, 1.5, -0.25, 100.0, true, false, null])),
    );
    check("States.Array( $.a ,$$.Execution.Name,  $name )", json!({"a": 1}), Ok(json!([1, "exec-1", "John"])));
    check(r"States.Array('it\'s', 'a\\b', '\{\}')", json!({}), Ok(json!(["it's", r"a\b", "{}"])));
    check(
        "States.Array('a,b)', $.x[?(@.k == 'a,b')].v)",
        json!({"x": [{"k": "a,b", "v": 1}]}),
        Ok(json!(["a,b)", [1]])),
    );
    check("States.Array(States.Array(), States.ArrayLength(States.Array(1, 2)) )", json!({}), Ok(json!([[], 2])));
}

#[test]
fn syntax_errors() {
    parse_error("States.Nope(1)");
    parse_error("States.format('x')");
    parse_error("States.Array(");
    parse_error("States.Array('a)");
    parse_error("States.Array(\"a\")");
    parse_error("States.Array(a)");
    parse_error("States.Array(1,)");
    parse_error("States.Array(1) x");
    parse_error("States.Array($.a[)");
    parse_error("Format('x')");
}

#[test]
fn arity_is_checked_at_load() {
    parse_error("States.MathAdd(1)");
    parse_error("States.MathAdd(1, 2, 3)");
    parse_error("States.UUID(1)");
    parse_error("States.Format()");
    parse_error("States.MathRandom(1)");
    parse_error("States.MathRandom(1, 2, 3, 4)");
    parse_error("States.JsonMerge($.a, $.b)");
    parse_error("States.ArrayRange(1, 2)");
    // A literal template must have one argument per placeholder.
    parse_error("States.Format('{} {}', 1)");
    parse_error("States.Format('{}', 1, 2)");
    parse_error("States.Format(1)");
    // Deep merging is refused as soon as it is visible.
    parse_error("States.JsonMerge($.a, $.b, true)");
    assert!(Call::parse("States.MathRandom(1, 2, 3)").is_ok());
}

#[test]
fn nesting_is_limited_to_ten_levels() {
    let nest = |n: usize| format!("{}1{}", "States.Array(".repeat(n), ")".repeat(n));
    assert!(Call::parse(&nest(10)).is_ok());
    parse_error(&nest(11));
}

#[test]
fn paths_that_select_nothing_fail() {
    check("States.MathAdd($.missing, 1)", json!({}), Err(ERROR));
    check("States.Format('{}', $undefined)", json!({}), Err(ERROR));
}

#[test]
fn paths_are_visited() {
    let call = Call::parse("States.Format('{} {}', $a, States.MathAdd($.b, $$.c))").expect("parse");
    let mut paths = Vec::new();
    call.paths(&mut paths);
    let texts: Vec<&str> = paths.iter().map(|p| p.text()).collect();
    assert_eq!(texts, ["$a", "$.b", "$$.c"]);
}
