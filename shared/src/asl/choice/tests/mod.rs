//! Tests of Choice rules: parse + eval on rules written as JSON text, the recorded AWS cases in
//! [`recorded`], and the diagnostics of invalid rules.

mod recorded;

use serde_json::{Value, json};

use super::Rule;
use crate::asl::diagnostic::{Diagnostics, code};
use crate::asl::error_name::RUNTIME;

/// A context object and variables for paths that read `$$` or `$name`.
type TestEnv = crate::asl::path::FixedEnv;

fn env() -> TestEnv {
    let variables = json!({ "limit": 10, "name": "dmap" }).as_object().unwrap().clone();
    TestEnv { context: json!({ "Execution": { "Name": "run-1" } }), variables }
}

fn parse(rule: &str) -> Rule {
    let v: Value = serde_json::from_str(rule).unwrap();
    let mut diags = Diagnostics::default();
    let parsed = Rule::parse(v.as_object().unwrap(), "/r", &mut diags, &["Next"]);
    assert!(diags.items.is_empty(), "{rule}: unexpected diagnostics {:?}", diags.items);
    parsed.unwrap_or_else(|| panic!("{rule}: no rule and no diagnostic"))
}

/// Parses `rule`, evaluates it on `input`, and compares with `expected`: `Ok(matched)` or
/// `Err(cause)` of a `States.Runtime` failure.
fn check(rule: &str, input: &str, expected: Result<bool, &str>) {
    let input: Value = serde_json::from_str(input).unwrap();
    let got = parse(rule).eval(&input, &env());
    match (got, expected) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{rule} on {input}"),
        (Err(f), Err(cause)) => {
            assert_eq!(f.error_name(), RUNTIME, "{rule} on {input}");
            assert_eq!(f.cause.as_deref(), Some(cause), "{rule} on {input}");
        }
        (got, expected) => panic!("{rule} on {input}: got {got:?}, expected {expected:?}"),
    }
}

/// Parses an invalid `rule` and compares the (location, code) of every diagnostic.
fn check_invalid(rule: &str, expected: &[(&str, &str)]) {
    let v: Value = serde_json::from_str(rule).unwrap();
    let mut diags = Diagnostics::default();
    let parsed = Rule::parse(v.as_object().unwrap(), "/r", &mut diags, &["Next", "Assign"]);
    assert!(parsed.is_none(), "{rule}: parsed to {parsed:?}");
    let mut got: Vec<(&str, &str)> = diags.items.iter().map(|d| (d.location.as_str(), d.code)).collect();
    let mut expected = expected.to_vec();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "{rule}: {:#?}", diags.items);
}

#[test]
fn recorded_aws_cases() {
    for (name, rule, input, matched) in recorded::RECORDED {
        let input: Value = serde_json::from_str(input).unwrap();
        let got = parse(rule).eval(&input, &env());
        assert_eq!(got, Ok(*matched), "{name}: {rule} on {input}");
    }
}

#[test]
fn numbers_compare_as_doubles() {
    let ge = r#"{"Variable": "$.double", "NumericGreaterThanEquals": 0}"#;
    check(ge, r#"{"double": 0.0}"#, Ok(true));
    check(ge, r#"{"double": -0.5}"#, Ok(false));
    check(ge, r#"{"double": 18446744073709551615}"#, Ok(true));
    check(ge, r#"{"double": "1"}"#, Ok(false));
    check(r#"{"Variable": "$.n", "NumericLessThan": 1e3}"#, r#"{"n": 999.999}"#, Ok(true));
    check(r#"{"Variable": "$.n", "NumericEquals": -1}"#, r#"{"n": -1.0}"#, Ok(true));
    check(r#"{"Variable": "$.n", "NumericGreaterThanPath": "$.m"}"#, r#"{"n": 2, "m": 1.5}"#, Ok(true));
    check(r#"{"Variable": "$.n", "NumericGreaterThanPath": "$.m"}"#, r#"{"n": 2, "m": "1"}"#, Ok(false));
}

#[test]
fn strings_compare_by_utf16_units() {
    let lt = r#"{"Variable": "$.s", "StringLessThan": "～"}"#;
    // U+1F600 is a surrogate pair (0xD83D...) and so sorts before U+FF5E, unlike in UTF-8.
    check(lt, r#"{"s": "😀"}"#, Ok(true));
    check(lt, r#"{"s": "～～"}"#, Ok(false));
    check(r#"{"Variable": "$.s", "StringGreaterThanEquals": "a"}"#, r#"{"s": "B"}"#, Ok(false));
    check(r#"{"Variable": "$.s", "StringEquals": "1"}"#, r#"{"s": 1}"#, Ok(false));
    check(r#"{"Variable": "$.s", "StringLessThanPath": "$.t"}"#, r#"{"s": "a", "t": "b"}"#, Ok(true));
}

#[test]
fn string_matches() {
    let m = r#"{"Variable": "$.key", "StringMatches": "data/*.csv"}"#;
    check(m, r#"{"key": "data/2024/x.csv"}"#, Ok(true));
    check(m, r#"{"key": "data/x.json"}"#, Ok(false));
    check(m, r#"{"key": 3}"#, Ok(false));
    check(r#"{"Variable": "$.s", "StringMatches": "a\\*"}"#, r#"{"s": "a*"}"#, Ok(true));
    check(r#"{"Variable": "$.s", "StringMatches": "a\\*"}"#, r#"{"s": "ab"}"#, Ok(false));
}

#[test]
fn timestamps_compare_as_instants() {
    let eq = r#"{"Variable": "$.t", "TimestampEquals": "2012-10-09T19:00:55Z"}"#;
    check(eq, r#"{"t": "2012-10-09T20:00:55+01:00"}"#, Ok(true));
    check(eq, r#"{"t": "2012-10-09T19:00:55.000Z"}"#, Ok(true));
    check(eq, r#"{"t": "2012-10-09T19:00:55"}"#, Ok(false));
    check(
        r#"{"Variable": "$.t", "TimestampLessThan": "2012-10-09T19:00:55Z"}"#,
        r#"{"t": "2012-10-09T19:00:54.999Z"}"#,
        Ok(true),
    );
    let path = r#"{"Variable": "$.t", "TimestampGreaterThanPath": "$.u"}"#;
    check(path, r#"{"t": "2012-10-09T19:00:56Z", "u": "2012-10-09T19:00:55Z"}"#, Ok(true));
    check(path, r#"{"t": "2012-10-09T19:00:56Z", "u": "yesterday"}"#, Ok(false));
    check(r#"{"Variable": "$.t", "IsTimestamp": true}"#, r#"{"t": "2012-10-09T19:00:55+01:00"}"#, Ok(true));
    check(r#"{"Variable": "$.t", "IsTimestamp": true}"#, r#"{"t": "2012-10-09"}"#, Ok(false));
}

#[test]
fn boolean_equals_path() {
    let r = r#"{"Variable": "$.a", "BooleanEqualsPath": "$.b"}"#;
    check(r, r#"{"a": false, "b": false}"#, Ok(true));
    check(r, r#"{"a": false, "b": 0}"#, Ok(false));
}

#[test]
fn missing_values() {
    let cause = "Invalid path '$.x': The choice state's condition path references an invalid value.";
    check(r#"{"Variable": "$.x", "NumericEquals": 1}"#, "{}", Err(cause));
    check(r#"{"Variable": "$.x", "StringMatches": "*"}"#, r#"{"y": 1}"#, Err(cause));
    check(r#"{"Variable": "$.a", "StringEqualsPath": "$.x"}"#, r#"{"a": "s"}"#, Err(cause));
    check(r#"{"Variable": "$.x", "IsPresent": true}"#, "{}", Ok(false));
    check(r#"{"Variable": "$.x", "IsPresent": false}"#, "{}", Ok(true));
    check(r#"{"Variable": "$.x", "IsPresent": true}"#, r#"{"x": null}"#, Ok(true));
    check(r#"{"Variable": "$.x", "IsNull": true}"#, "{}", Ok(false));
    check(r#"{"Variable": "$.x", "IsNull": false}"#, "{}", Ok(true));
    check(r#"{"Variable": "$.x", "IsString": true}"#, "{}", Ok(false));
    check(r#"{"Variable": "$.x[3]", "IsPresent": true}"#, r#"{"x": [1]}"#, Ok(false));
    let undefined = "Invalid path '$nope': The choice state's condition path references an invalid value.";
    check(r#"{"Variable": "$nope", "BooleanEquals": true}"#, "{}", Err(undefined));
    check(r#"{"Variable": "$nope", "IsPresent": false}"#, "{}", Ok(true));
}

#[test]
fn combinators_short_circuit() {
    let guarded = r#"{"And": [{"Variable": "$.x", "IsPresent": true}, {"Variable": "$.x", "NumericEquals": 3}]}"#;
    check(guarded, "{}", Ok(false));
    check(guarded, r#"{"x": 3}"#, Ok(true));
    let either = r#"{"Or": [{"Variable": "$.a", "IsPresent": false}, {"Variable": "$.a", "StringEquals": "x"}]}"#;
    check(either, "{}", Ok(true));
    check(either, r#"{"a": "y"}"#, Ok(false));
    check(r#"{"Not": {"Variable": "$.type", "StringEquals": "Private"}}"#, r#"{"type": "Public"}"#, Ok(true));
    let nested =
        r#"{"Or": [{"Not": {"And": [{"Variable": "$", "IsNumeric": true}, {"Variable": "$", "NumericEquals": 3}]}}]}"#;
    check(nested, "3", Ok(false));
    check(nested, r#""3""#, Ok(true));
}

#[test]
fn context_and_variables() {
    check(r#"{"Variable": "$$.Execution.Name", "StringEquals": "run-1"}"#, "{}", Ok(true));
    check(r#"{"Variable": "$.n", "NumericLessThanPath": "$limit"}"#, r#"{"n": 9}"#, Ok(true));
    check(r#"{"Variable": "$name", "StringEqualsPath": "$$.Execution.Name"}"#, "{}", Ok(false));
}

#[test]
fn comment_and_caller_keys_are_accepted() {
    let rule = r#"{"Comment": "why", "Variable": "$.a", "IsNull": true, "Next": "X"}"#;
    check(rule, r#"{"a": null}"#, Ok(true));
}

#[test]
fn invalid_comparisons() {
    let (missing, unknown, wrong) = (code::MISSING_FIELD, code::UNKNOWN_FIELD, code::WRONG_TYPE);
    let (rule, refpath, ts) = (code::INVALID_CHOICE_RULE, code::INVALID_REFERENCE_PATH, code::INVALID_TIMESTAMP);
    check_invalid(r#"{"StringEquals": "a"}"#, &[("/r", missing)]);
    check_invalid(r#"{"Variable": "$.a"}"#, &[("/r", rule)]);
    check_invalid(r#"{"Next": "X"}"#, &[("/r", rule)]);
    check_invalid(
        r#"{"Variable": "$.a", "StringEquals": "a", "NumericEquals": "1"}"#,
        &[("/r", rule), ("/r/NumericEquals", wrong)],
    );
    check_invalid(r#"{"Variable": "$.a", "StringEqual": "a"}"#, &[("/r", rule), ("/r/StringEqual", unknown)]);
    check_invalid(r#"{"Variable": "$.a", "StringEquals": "a", "Extra": 1}"#, &[("/r/Extra", unknown)]);
    check_invalid(r#"{"Variable": 3, "IsNull": true}"#, &[("/r/Variable", wrong)]);
    check_invalid(r#"{"Variable": "$.a[*]", "IsNull": true}"#, &[("/r/Variable", refpath)]);
    check_invalid(r#"{"Variable": "a", "IsNull": "yes"}"#, &[("/r/Variable", refpath), ("/r/IsNull", wrong)]);
    check_invalid(r#"{"Variable": "$.a", "NumericEquals": "1"}"#, &[("/r/NumericEquals", wrong)]);
    check_invalid(r#"{"Variable": "$.a", "BooleanEquals": "true"}"#, &[("/r/BooleanEquals", wrong)]);
    check_invalid(r#"{"Variable": "$.a", "StringMatches": 1}"#, &[("/r/StringMatches", wrong)]);
    check_invalid(
        r#"{"Variable": "$.a", "StringMatchesPath": "$.b"}"#,
        &[("/r", rule), ("/r/StringMatchesPath", unknown)],
    );
    check_invalid(r#"{"Variable": "$.a", "TimestampEquals": "2016-13-05T21:29:29Z"}"#, &[("/r/TimestampEquals", ts)]);
    check_invalid(r#"{"Variable": "$.a", "TimestampEquals": 1457920740}"#, &[("/r/TimestampEquals", wrong)]);
    check_invalid(r#"{"Variable": "$.a", "StringEqualsPath": "$.b[0:1]"}"#, &[("/r/StringEqualsPath", refpath)]);
    check_invalid(r#"{"Variable": "$.a", "NumericEqualsPath": 1}"#, &[("/r/NumericEqualsPath", wrong)]);
    check_invalid(r#"{"Variable": "$.a", "IsPresent": 1}"#, &[("/r/IsPresent", wrong)]);
    check_invalid(r#"{"Variable": "$.a", "IsNull": true, "Comment": 1}"#, &[("/r/Comment", wrong)]);
    check_invalid(r#"{"Condition": "{% true %}"}"#, &[("/r/Condition", unknown), ("/r", rule)]);
}

#[test]
fn invalid_combinators() {
    let (rule, wrong, unknown) = (code::INVALID_CHOICE_RULE, code::WRONG_TYPE, code::UNKNOWN_FIELD);
    check_invalid(r#"{"And": []}"#, &[("/r/And", rule)]);
    check_invalid(r#"{"Or": {"Variable": "$.a", "IsNull": true}}"#, &[("/r/Or", wrong)]);
    check_invalid(r#"{"Not": [{"Variable": "$.a", "IsNull": true}]}"#, &[("/r/Not", wrong)]);
    check_invalid(r#"{"And": [1]}"#, &[("/r/And/0", wrong)]);
    check_invalid(
        r#"{"And": [{"Variable": "$.a", "IsNull": true}], "Or": [{"Variable": "$.a", "IsNull": true}]}"#,
        &[("/r", rule)],
    );
    check_invalid(
        r#"{"Not": {"Variable": "$.a", "IsNull": true}, "Variable": "$.a", "IsNull": true}"#,
        &[("/r", rule)],
    );
    // Nested rules cannot carry Next or Assign, and every nested problem is reported.
    check_invalid(
        r#"{"And": [{"Variable": "$.a", "IsNull": true, "Next": "X"}, {"Not": {"Variable": "$.b", "IsNull": 1, "Foo": 2}}, {"Assign": {}}]}"#,
        &[
            ("/r/And/0/Next", rule),
            ("/r/And/1/Not/IsNull", wrong),
            ("/r/And/1/Not/Foo", unknown),
            ("/r/And/2/Assign", rule),
            ("/r/And/2", rule),
        ],
    );
    // A key holding `/` or `~` is escaped in the pointer.
    check_invalid(r#"{"Variable": "$.a", "IsNull": true, "a/b~": 1}"#, &[("/r/a~1b~0", unknown)]);
}

#[test]
fn parsed_form_is_compiled() {
    use super::{Cmp, Comparison, Operand, Test};
    use crate::asl::path::Path;
    let rule = parse(r#"{"Not": {"Variable": "$.double", "NumericGreaterThanEquals": 0}}"#);
    let expected = Rule::Not(Box::new(Rule::Compare(Comparison {
        variable: Path::parse_reference("$.double").unwrap(),
        test: Test::Numeric(Cmp::GreaterThanEquals, Operand::Literal(0.0)),
    })));
    assert_eq!(rule, expected);
}
