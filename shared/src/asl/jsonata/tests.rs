//! Tests of the JSONata layer. Expected values come from AWS's documentation (cited per test),
//! from independent computations (Python's `hashlib` for `$hash`), or, for the fast paths,
//! from the crate's interpreter, which is the reference the fast paths must agree with (those
//! tests are in `fast/tests.rs`).

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::{Expression, Reads, Scope};

/// A scope with fixed parts, clock and randomness.
pub(super) struct Fixed {
    pub(super) input: Value,
    result: Option<Value>,
    error_output: Option<Value>,
    context: Value,
    variables: serde_json::Map<String, Value>,
    now: DateTime<Utc>,
    random: f64,
}

impl Fixed {
    pub(super) fn new(input: Value) -> Fixed {
        Fixed {
            input,
            result: None,
            error_output: None,
            context: json!({"State": {"Name": "Work"}, "Map": {"Item": {"Index": 2, "Value": {"id": 7}}}}),
            variables: serde_json::Map::new(),
            now: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            random: 0.25,
        }
    }
    pub(super) fn var(mut self, name: &str, value: Value) -> Fixed {
        self.variables.insert(name.to_owned(), value);
        self
    }
}

impl Scope for Fixed {
    fn input(&self) -> &Value {
        &self.input
    }
    fn result(&self) -> Option<&Value> {
        self.result.as_ref()
    }
    fn error_output(&self) -> Option<&Value> {
        self.error_output.as_ref()
    }
    fn context(&self) -> &Value {
        &self.context
    }
    fn context_member(&self, key: &str) -> Option<&Value> {
        self.context.get(key)
    }
    fn variable(&self, name: &str) -> Option<&Value> {
        self.variables.get(name)
    }
    fn now(&self) -> DateTime<Utc> {
        self.now
    }
    fn random(&self) -> f64 {
        self.random
    }
}

fn eval(text: &str, scope: &Fixed) -> Option<Value> {
    Expression::compile(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .eval(scope)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn check(text: &str, expected: Value) {
    assert_eq!(eval(text, &Fixed::new(json!({}))), Some(expected), "{text}");
}

fn error_code(text: &str) -> String {
    let scope = Fixed::new(json!({}));
    Expression::compile(text).unwrap().eval(&scope).unwrap_err().code
}

// https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html ("JSONata
// functions provided by Step Functions"), and the worked examples of
// https://dev.classmethod.jp/articles/aws-step-functions-jsonata-unsupported-function
#[test]
fn partition_splits_into_chunks_with_a_shorter_last_one() {
    check("$partition([1,2,3,4,5,6,7,8,9], 3)", json!([[1, 2, 3], [4, 5, 6], [7, 8, 9]]));
    check("$partition([1,2,3,4], 3)", json!([[1, 2, 3], [4]]));
    // Non-integer sizes round down (AWS: integer parameters are rounded down).
    check("$partition([1,2,3,4], 2.9)", json!([[1, 2], [3, 4]]));
    assert_eq!(error_code("$partition([1,2], 0)"), "partition");
    assert_eq!(error_code("$partition('ab', 1)"), "partition");
}

#[test]
fn range_includes_its_end_and_steps_either_way() {
    check("$range(0, 10, 2)", json!([0, 2, 4, 6, 8, 10]));
    check("$range(10, 0, -5)", json!([10, 5, 0]));
    check("$range(1.7, 4.2, 1)", json!([1, 2, 3, 4]));
    check("$range(0, 10, -1)", json!([]));
    assert_eq!(error_code("$range(0, 10, 0)"), "range");
}

#[test]
fn hash_gives_hex_digests() {
    // Expected digests of "input data" from Python's hashlib; the SHA-1 one is AWS's
    // States.Hash example in the intrinsic functions page.
    let digests = [
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
        ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
        ("SHA-384", "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"),
        (
            "SHA-512",
            "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
        ),
    ];
    for (algorithm, digest) in digests {
        check(&format!("$hash('input data', '{algorithm}')"), json!(digest));
    }
    assert_eq!(error_code("$hash('x', 'SHA-3')"), "hash");
}

#[test]
fn parse_reads_a_json_string() {
    let scope = Fixed::new(json!({"FunctionInput": "{\"a\": [1, true, null]}"}));
    assert_eq!(eval("$parse($states.input.FunctionInput)", &scope), Some(json!({"a": [1, true, null]})));
    assert_eq!(error_code("$parse('{')"), "parse");
}

#[test]
fn undefined_arguments_and_missing_fields_give_undefined() {
    let scope = Fixed::new(json!({"a": 1}));
    for text in ["$states.input.missing", "$doesNotExist", "$partition($states.input.nope, 2)", "$states.result"] {
        assert_eq!(eval(text, &scope), None, "{text}");
    }
}

#[test]
fn eval_is_refused_at_compile_time() {
    let error = Expression::compile("$eval('1 + 1')").unwrap_err();
    assert_eq!(error.to_string(), "The JSONata function $eval is not supported");
    assert!(Expression::compile("$states.input.").is_err());
}

#[test]
fn clock_comes_from_the_scope() {
    check("$now()", json!("2026-01-02T03:04:05.000Z"));
    check("$millis()", json!(1_767_323_045_000_i64));
}

#[test]
fn randomness_comes_from_the_scope() {
    let text = "[$random(), $uuid(), $random()]";
    let first = eval(text, &Fixed::new(json!({}))).unwrap();
    assert_eq!(Some(first.clone()), eval(text, &Fixed::new(json!({}))));
    let mut other = Fixed::new(json!({}));
    other.random = 0.75;
    assert_ne!(Some(first.clone()), eval(text, &other));
    let x = first[0].as_f64().unwrap();
    assert!((0.0..1.0).contains(&x) && first[0] != first[2]);
    let uuid = uuid::Uuid::parse_str(first[1].as_str().unwrap()).unwrap();
    assert_eq!(uuid.get_version_num(), 4);
    // Seeded: the same seed gives the same number, whatever the scope.
    let seeded = eval("$random(42)", &Fixed::new(json!({})));
    assert_eq!(seeded, eval("$random(42.9)", &other));
}

#[test]
fn reads_name_the_parts_of_states_and_variables() {
    let reads = |text: &str| Expression::compile(text).unwrap().reads();
    assert_eq!(reads("$states.input.a"), Reads { input: true, ..Reads::default() });
    assert_eq!(reads("$states.result.Payload"), Reads { result: true, ..Reads::default() });
    assert_eq!(reads("$states.errorOutput"), Reads { error_output: true, ..Reads::default() });
    assert_eq!(reads("$x + $states.context.State.Name"), Reads { context: true, variables: true, ..Reads::default() });
    assert_eq!(reads("$partition([1], 1)"), Reads::default());
    assert!(reads("$states").result);
}

#[test]
fn variables_and_local_bindings() {
    let scope = Fixed::new(json!({"input_values": [1, 2]})).var("var_constant_1", json!(10));
    assert_eq!(eval("$sum($states.input.input_values) + $var_constant_1", &scope), Some(json!(13)));
    assert_eq!(eval("($x := 1; $x + 1)", &scope), Some(json!(2)));
    assert_eq!(eval("$maxItems := 2", &scope), Some(json!(2)));
}

#[test]
fn every_recorded_expression_compiles() {
    let data = include_str!("recorded-expressions.txt");
    let mut count = 0;
    for line in data.lines().skip(1) {
        let text: String = serde_json::from_str(line).unwrap();
        Expression::compile(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        count += 1;
    }
    assert_eq!(count, 51);
}

#[test]
fn compiled_expressions_are_shared_between_threads() {
    fn shareable<T: Send + Sync + Clone>(_: &T) {}
    let expression = Expression::compile("$states.input.id").unwrap();
    shareable(&expression);
    let scope = Fixed::new(json!({"id": 1}));
    let copy = expression.clone();
    let from_thread = std::thread::spawn(move || copy.eval(&Fixed::new(json!({"id": 2}))).unwrap());
    assert_eq!(expression.eval(&scope).unwrap(), Some(json!(1)));
    assert_eq!(from_thread.join().unwrap(), Some(json!(2)));
}

/// Hostile expressions end with an error, quickly, instead of taking memory or time.
#[test]
fn hostile_expressions_hit_the_evaluation_limits() {
    // A range past the crate's own 10^7 (D2014), a string doubled past MAX_BYTES, endless
    // recursion.
    for text in [
        "[1..16000000]",
        "($s := function($x, $n){ $n = 0 ? $x : $s($x & $x, $n - 1) }; $s('ab', 40))",
        "($f := function($x){ $f($x + 1) }; $f(0))",
    ] {
        let code = error_code(text);
        assert!(["U1001", "U1006", "D1011", "D2014"].contains(&code.as_str()), "{text}: {code}");
    }
}
