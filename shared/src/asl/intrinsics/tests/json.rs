//! `States.StringToJson`, `States.JsonToString` and `States.JsonMerge`.

use serde_json::json;

use super::check;
use crate::asl::intrinsics::ERROR;

#[test]
fn string_to_json() {
    // test_string_to_json.
    let f = "States.StringToJson($.a)";
    check(f, json!({"a": ""}), Ok(json!(null)));
    check(f, json!({"a": " "}), Ok(json!(null)));
    check(f, json!({"a": "null"}), Ok(json!(null)));
    check(f, json!({"a": "-0"}), Ok(json!(0)));
    check(f, json!({"a": "1"}), Ok(json!(1)));
    check(f, json!({"a": "1.1"}), Ok(json!(1.1)));
    check(f, json!({"a": "true"}), Ok(json!(true)));
    check(f, json!({"a": "\"HelloWorld\""}), Ok(json!("HelloWorld")));
    check(f, json!({"a": "[1, 2, \"HelloWorld\"]"}), Ok(json!([1, 2, "HelloWorld"])));
    check(f, json!({"a": "{\"Arg1\": 1, \"Arg2\": []}"}), Ok(json!({"Arg1": 1, "Arg2": []})));
    check(f, json!({"a": "{nope"}), Err(ERROR));
    check(f, json!({"a": 1}), Err(ERROR));
}

#[test]
fn json_to_string() {
    // test_json_to_string: compact, keys in order.
    let f = "States.JsonToString($.a)";
    check(f, json!({"a": null}), Ok(json!("null")));
    check(f, json!({"a": 1}), Ok(json!("1")));
    check(f, json!({"a": 1.1}), Ok(json!("1.1")));
    check(f, json!({"a": "HelloWorld"}), Ok(json!("\"HelloWorld\"")));
    check(f, json!({"a": [1, 2, "HelloWorld"]}), Ok(json!("[1,2,\"HelloWorld\"]")));
    check(f, json!({"a": {"Arg1": 1, "Arg2": []}}), Ok(json!("{\"Arg1\":1,\"Arg2\":[]}")));
}

#[test]
fn json_merge() {
    // test_json_merge: shallow, the second object wins, members in Java HashMap order.
    check(
        "States.JsonMerge($.fst, $.snd, false)",
        json!({"fst": {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3}, "snd": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}}),
        Ok(json!({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4})),
    );
    // test_json_merge_escaped_argument.
    check(
        "States.JsonMerge(States.StringToJson('{\"constant_in_literal\": \"false\"}'), $$.Execution.Input.input_field, false)",
        json!({}),
        Ok(json!({"constant_input_field": "constant_value", "constant_in_literal": "false"})),
    );
    check("States.JsonMerge($.a, $.b, $.deep)", json!({"a": {}, "b": {}, "deep": true}), Err(ERROR));
    check("States.JsonMerge($.a, $.b, false)", json!({"a": {}, "b": [1]}), Err(ERROR));
}
