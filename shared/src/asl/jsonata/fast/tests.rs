//! Tests of the fast paths: on every case, the fast path and the crate's interpreter must
//! give the same value (members in the same order) or the same error code. The interpreter is
//! the reference; no expected value here is computed by the code under test.

use serde_json::{Value, json};

use super::super::tests::Fixed;
use super::super::{EvalError, Expression};

#[test]
fn fast_paths_agree_with_the_interpreter() {
    let input = json!({
        "id": 7, "v": 7.5, "f": 7.0, "big": 1e300, "neg": -0.0, "s": "x", "n": null, "t": true,
        "o": {"a": {"b": [1, 2]}}, "huge": 9007199254740993_u64, "i": -12, "nested": {"x": [1.0, {"y": 2.0}]}, "arr": [{"a": 1}, {"a": 2}], "one": [5], "empty": [], "eo": {},
        "deep": [[1, 2], [3]], "mixed": [1, [2.0, [3.5]], {"k": [4.0]}], "single": [[5]], "hollow": [[]]
    });
    let scope =
        Fixed::new(input).var("myVar", json!({"a": {"b": "deep"}})).var("list", json!([1])).var("num", json!(3));
    let texts = [
        "$states.input",
        "$states.input.id",
        "$states.input.v",
        "$states.input.f",
        "$states.input.big",
        "$states.input.huge",
        "$states.input.i",
        "$states.input.nested",
        "$states.input.neg",
        "$states.input.s",
        "$states.input.n",
        "$states.input.t",
        "$states.input.o",
        "$states.input.o.a.b",
        "$states.input.arr.a",
        "$states.input.one",
        "$states.input.empty",
        "$states.input.eo",
        "$states.input.deep",
        "$states.input.mixed",
        "$states.input.single",
        "$states.input.hollow",
        "$states.input.o.a",
        "$states.input.missing.x",
        "$states.input.s.x",
        "$states.context.Map.Item.Value",
        "$states.result.x",
        "$states.errorOutput",
        "$myVar.a.b",
        "$myVar",
        "$list",
        "$num",
        "$num.x",
        "$unset",
        "$sum",
        "$states.nothing",
        "1",
        "'s'",
        "true",
        "null",
        "[0]",
        "[1, 'two', 3]",
        "{'foo': 'bar'}",
        "-1.5",
        "1 + 2",
        "1 / 3",
        "[1..3]",
        "[[1]]",
        "[]",
        "{}",
        "2.0",
    ];
    for text in texts {
        agree(text, &scope);
    }
    // The input itself as an array or a scalar: a path ending in an array must agree too.
    for input in [json!([5]), json!([1, 2]), json!([]), json!(3.0), json!("s")] {
        let scope = Fixed::new(input.clone()).var("one", json!([[1]]));
        for text in ["$states.input", "$states.input.a", "$one", "$states.context.Map.Item.Value.id"] {
            agree(text, &scope);
        }
    }
}

/// The fast path and the interpreter give the same value, with members in the same order, or
/// the same error code.
fn agree(text: &str, scope: &Fixed) {
    let expression = Expression::compile(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let written =
        |result: Result<Option<Value>, EvalError>| result.map(|value| value.map(|v| v.to_string())).map_err(|e| e.code);
    let fast = written(expression.eval(scope));
    let interpreted = written(expression.eval_interpreted(scope));
    assert_eq!(fast, interpreted, "{text} on {}", scope.input);
}

/// Operands of every JSON type, and the corner cases of doubles.
fn operand_scope() -> Fixed {
    let input = json!({
        "i": 7, "j": -3, "z": 0, "nz": -0.0, "f": 0.1, "g": 0.2, "h": 2.5, "big": 1e300,
        "huge": 9007199254740993_u64, "max": 9007199254740992_u64, "s": "abc", "t": "abd", "e": "",
        "u": "\u{e9}", "astral": "\u{1F600}", "bmp": "\u{FF61}", "yes": true, "no": false, "n": null,
        "o": {"a": 1, "b": [1, {"c": 2.0}]}, "p": {"b": [1.0, {"c": 2}], "a": 1.0}, "q": {"a": 2},
        "eo": {}, "arr": [1, 2], "one": [5], "empty": [], "objs": [{"a": 1}], "id": 42, "v": 1.5,
        "double": 3
    });
    Fixed::new(input)
        .var("w", json!({"k": 1}))
        .var("count", json!(2))
        .var("merge", json!({"k": 1}))
        .var("not", json!(true))
}

#[test]
fn fast_operators_agree_with_the_interpreter() {
    let scope = operand_scope();
    let operands = [
        "$states.input.i",
        "$states.input.j",
        "$states.input.z",
        "$states.input.nz",
        "$states.input.f",
        "$states.input.g",
        "$states.input.h",
        "$states.input.big",
        "$states.input.huge",
        "$states.input.max",
        "$states.input.s",
        "$states.input.t",
        "$states.input.e",
        "$states.input.u",
        "$states.input.astral",
        "$states.input.bmp",
        "$states.input.yes",
        "$states.input.no",
        "$states.input.n",
        "$states.input.o",
        "$states.input.p",
        "$states.input.q",
        "$states.input.eo",
        "$states.input.arr",
        "$states.input.one",
        "$states.input.empty",
        "$states.input.missing",
        "$states.input.s.x",
        "$w.k",
        "$count",
        "$merge",
        "$not",
        "$unset",
        "0",
        "-0",
        "1",
        "2.5",
        "1e308",
        "'abc'",
        "''",
        "true",
        "false",
        "null",
        "{'a': 1}",
        "{'a': 1, 'b': [1, {'c': 2}]}",
        "[1, 2]",
        "[5]",
    ];
    let ops = ["+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "and", "or"];
    for op in ops {
        for lhs in operands {
            for rhs in operands {
                agree(&format!("{lhs} {op} {rhs}"), &scope);
            }
        }
    }
    for operand in operands {
        agree(&format!("$not({operand})"), &scope);
        agree(&format!("{{'k': {operand}, 'id': $states.input.id}}"), &scope);
        agree(&format!("$merge([{operand}, {{'meta': 1}}])"), &scope);
        agree(&format!("$merge([{{'i': 0, 'meta': 1}}, {operand}])"), &scope);
    }
    let composite = [
        "$states.input.f + $states.input.g",
        "$states.input.f + $states.input.g = 0.3",
        "($states.input.i + 1) * $states.input.j - $states.input.h / 2",
        "$states.input.i % $states.input.j",
        "$states.input.j % $states.input.i",
        "$states.input.i / $states.input.z",
        "$states.input.z / $states.input.z",
        "$states.input.big * $states.input.big",
        "$states.input.huge + 0",
        "$states.input.huge = $states.input.max",
        "$states.input.nz * -1",
        "$states.input.i > 0 and $states.input.s = 'abc'",
        "$states.input.i > 0 and $states.input.missing",
        "$states.input.missing or $states.input.i < 0",
        "false and $states.input.s + 1",
        "true or $states.input.s + 1",
        "$states.input.arr and true",
        "$states.input.o = $states.input.p",
        "$states.input.o != $states.input.q",
        "$states.input.o = {'b': [1, {'c': 2}], 'a': 1}",
        "$not($states.input.i > 1)",
        "$merge([$states.input.o, $states.input.q, $states.input.p])",
        "$merge([$states.input, {'meta': {'by': 'dmap'}}])",
        "$merge([])",
        "$merge([$states.input.missing])",
        "$merge([{'a': 1}, [{'b': 2}]])",
        "$merge([$merge([$states.input.q, {'x': 1}]), {'a': $states.input.i}])",
        "{'id': $states.input.id, 'double': $states.input.v + $states.input.v}",
        "{'id': $states.input.id, 'gone': $states.input.missing, 'n': {'m': $states.input.f * 3}}",
        "{'a': 1, 'a': $states.input.i}",
        "$states.input.double >= 0",
        "$states.input.i = 7 ? 1 : 2",
    ];
    for text in composite {
        agree(text, &scope);
    }
}

#[test]
fn target_shapes_take_the_fast_path() {
    let scope = operand_scope();
    let texts = [
        "{'id': $states.input.id, 'double': $states.input.v + $states.input.v}",
        "$states.input.double >= 0",
        "{'id': $states.input.id, 'double': $states.input.double}",
        "$merge([$states.input, {'meta': {'by': 'dmap'}}])",
        "$states.input.i - 1 != $states.input.j * 2 or $not($states.input.yes)",
        "$states.input.s < 'b' and $w.k % 2 = 1",
    ];
    for text in texts {
        let expression = Expression::compile(text).unwrap();
        let fast = expression.eval_fast(&scope);
        assert!(fast.is_some(), "{text} went to the interpreter");
        assert_eq!(fast, Some(expression.eval_interpreted(&scope).unwrap()), "{text}");
    }
    // A string in arithmetic is the interpreter's to report (T2001).
    let expression = Expression::compile("$states.input.s + 1").unwrap();
    assert_eq!(expression.eval_fast(&scope), None);
    assert_eq!(expression.eval(&scope).unwrap_err().code, "T2001");
}
