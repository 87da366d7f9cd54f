//! The `States.Array*` functions.

use serde_json::{Value, json};

use super::{check, check2};
use crate::asl::intrinsics::ERROR;

#[test]
fn array() {
    // test_array_0 and test_array_2.
    check("States.Array()", json!({}), Ok(json!([])));
    check2("States.Array", json!(null), json!(null), Ok(json!([null, null])));
    check2("States.Array", json!({"Arg1": 1, "Arg2": []}), json!(""), Ok(json!([{"Arg1": 1, "Arg2": []}, ""])));
}

#[test]
fn array_partition() {
    // test_array_partition.
    let f = "States.ArrayPartition";
    check2(f, json!([]), json!(1), Ok(json!([])));
    check2(f, json!([]), json!(5), Ok(json!([])));
    check2(f, json!([0]), json!(5), Ok(json!([[0]])));
    check2(f, json!([0, 1]), json!(1), Ok(json!([[0], [1]])));
    check2(f, json!([0, 1, 2]), json!(2), Ok(json!([[0, 1], [2]])));
    check2(f, json!([0, 1, 2, 3]), json!(3), Ok(json!([[0, 1, 2], [3]])));
    check2(f, json!([0, 1, 2, 3]), json!(4), Ok(json!([[0, 1, 2, 3]])));
    check2(f, json!([0, 1, 2, 3]), json!(2), Ok(json!([[0, 1], [2, 3]])));
    check2(f, json!([0, 1]), json!(0), Err(ERROR));
    check2(f, json!("x"), json!(1), Err(ERROR));
}

#[test]
fn array_contains() {
    // test_array_contains: deep equality.
    let f = "States.ArrayContains";
    check2(f, json!([]), json!(null), Ok(json!(false)));
    check2(f, json!([]), json!([]), Ok(json!(false)));
    check2(f, json!([[1, 2, 3], 2]), json!(null), Ok(json!(false)));
    check2(f, json!([[1, 2, 3], 2]), json!([1, 2, 3]), Ok(json!(true)));
    check2(f, json!([{"1": 2, "2": []}]), json!({"1": 2, "2": []}), Ok(json!(true)));
    check2(f, json!([true, false]), json!(false), Ok(json!(true)));
}

#[test]
fn array_range() {
    // test_array_range; spec: inclusive, step ≠ 0, at most 1000 elements.
    let f = "States.ArrayRange($.a, $.b, $.c)";
    check(f, json!({"a": 0, "b": 10, "c": 3}), Ok(json!([0, 3, 6, 9])));
    check(f, json!({"a": 1, "b": 9, "c": 2}), Ok(json!([1, 3, 5, 7, 9])));
    check("States.ArrayRange(0, 3, 1)", json!({}), Ok(json!([0, 1, 2, 3])));
    check("States.ArrayRange(10, 1, -3)", json!({}), Ok(json!([10, 7, 4, 1])));
    check("States.ArrayRange(1, 1000, 1)", json!({}), Ok(Value::Array((1..=1000).map(Value::from).collect())));
    check("States.ArrayRange(0, 1000, 1)", json!({}), Err(ERROR));
    check("States.ArrayRange(0, 5, 0)", json!({}), Err(ERROR));
}

#[test]
fn array_get_item_length_unique() {
    // test_array_get_item, test_array_length, test_nested_calls_2.
    check2("States.ArrayGetItem", json!([1, 2, 3, 4, 5, 6, 7, 8, 9]), json!(5), Ok(json!(6)));
    check2("States.ArrayGetItem", json!([1]), json!(1), Err(ERROR));
    check2("States.ArrayGetItem", json!([1]), json!(-1), Err(ERROR));
    // test_array_unique (which in fact calls ArrayLength).
    check(
        "States.ArrayLength($.a)",
        json!({"a": [null, null, true, true, false, false, 1, 1, 1.1, 0, 0, "HelloWorld", "HelloWorld",
            [], [], [null], [null], {"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1, "b": 1}]}),
        Ok(json!(20)),
    );
    check("States.ArrayLength($.a)", json!({"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}), Ok(json!(9)));
    let nested = "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), \
        States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))";
    check(nested, json!({}), Ok(json!("name")));
    // Spec: duplicates removed, first occurrence kept.
    check(
        "States.ArrayUnique($.a)",
        json!({"a": [null, null, true, true, 1, 1, 1.1, 0, "x", "x", [], [], [null], [null],
            {"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1, "b": 1}]}),
        Ok(json!([null, true, 1, 1.1, 0, "x", [], [null], {"a": 1, "b": 2}, {"a": 1, "b": 1}])),
    );
}
