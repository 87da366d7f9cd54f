//! `States.Format` and `States.StringSplit`.

use serde_json::json;

use super::{check, check2};
use crate::asl::intrinsics::ERROR;

#[test]
fn format() {
    // test_format_1 / test_format_2: every argument type.
    let one = "States.Format('Formatting argument {}.', $.a)";
    check(one, json!({"a": ""}), Ok(json!("Formatting argument .")));
    check(one, json!({"a": " "}), Ok(json!("Formatting argument  .")));
    check(one, json!({"a": "HelloWorld"}), Ok(json!("Formatting argument HelloWorld.")));
    check(one, json!({"a": null}), Ok(json!("Formatting argument null.")));
    check(one, json!({"a": 1}), Ok(json!("Formatting argument 1.")));
    check(one, json!({"a": 1.1}), Ok(json!("Formatting argument 1.1.")));
    check(
        one,
        json!({"a": "{\"Arg1\": 1, \"Arg2\": []}"}),
        Ok(json!("Formatting argument {\"Arg1\": 1, \"Arg2\": []}.")),
    );
    let two = "States.Format('Formatting arguments fst={} and snd={}.', $.fst, $.snd)";
    check(
        two,
        json!({"fst": {"Arg1": 1, "Arg2": []}, "snd": {"Arg1": 1, "Arg2": []}}),
        Ok(json!("Formatting arguments fst={Arg1=1, Arg2=[]} and snd={Arg1=1, Arg2=[]}.")),
    );
    check(two, json!({"fst": " ", "snd": " "}), Ok(json!("Formatting arguments fst=  and snd= .")));
    // test_context_json_path: a context object renders as a Java map.
    check(
        "States.Format('fst={} and snd={}.', $$.Execution.Name, $$.StateMachine)",
        json!({}),
        Ok(json!("fst=exec-1 and snd={Id=arn:aws:states:us-east-1:111111111111:stateMachine:sm-name, Name=sm-name}.")),
    );
    // Spec: arrays as [a, b] with raw strings, nested containers, booleans.
    check(
        "States.Format('{} {}', $.a, true)",
        json!({"a": ["x", 1, [null, {"k": "v"}]]}),
        Ok(json!("[x, 1, [null, {k=v}]] true")),
    );
    // Java's Double.toString for floats.
    check("States.Format('{} {} {} {}', 100.0, 1e20, 0.00001, -2.5)", json!({}), Ok(json!("100.0 1.0E20 1.0E-5 -2.5")));
    // BASE_REFERENCE_IN_INTRINSIC_FUNCTION and test_state_fail_intrinsic.
    check(
        "States.Format('Hello {}, welcome to {}!', $name, $place)",
        json!({}),
        Ok(json!("Hello John, welcome to LocalStack!")),
    );
    check("States.Format('{}', $.Error)", json!({"Error": "error string"}), Ok(json!("error string")));
    // Escaped braces are text, not placeholders.
    check(r"States.Format('\{\} {} \\ it\'s', 1)", json!({}), Ok(json!(r"{} 1 \ it's")));
    // MAP_STATE_REFERENCE_IN_INTRINSIC_FUNCTION: the template may come from the data.
    check("States.Format($.t, 'Pikachu')", json!({"t": "It's {}!"}), Ok(json!("It's Pikachu!")));
    check("States.Format($.t, 1)", json!({"t": "no placeholder"}), Err(ERROR));
    check("States.Format($.t, 1)", json!({"t": "{} \\"}), Err(ERROR));
    check("States.Format($.t)", json!({"t": 5}), Err(ERROR));
}

#[test]
fn string_split() {
    // test_string_split: each delimiter character splits; empty tokens are dropped.
    let f = "States.StringSplit";
    check2(f, json!(" "), json!(","), Ok(json!([" "])));
    check2(f, json!(" , "), json!(","), Ok(json!([" ", " "])));
    check2(f, json!(", , ,"), json!(","), Ok(json!([" ", " "])));
    check2(f, json!(",,,,"), json!(","), Ok(json!([])));
    check2(f, json!("split on T and \nnew line"), json!("T\n"), Ok(json!(["split on ", " and ", "new line"])));
    // test_string_split_context_object.
    check(
        "States.StringSplit($.s, ',')",
        json!({"s": "Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n"}),
        Ok(json!([
            "Value1",
            "Value2",
            "Value3\nValue4",
            "Value5",
            "Value6\n",
            "\ntrue",
            "1",
            "'HelloWorld'\nNull",
            "None",
            "\n   \n"
        ])),
    );
    // test_escape_sequence: real newlines inside literals.
    check("States.StringSplit('Hello\nWorld', '\n')", json!({}), Ok(json!(["Hello", "World"])));
    check2(f, json!(1), json!(","), Err(ERROR));
}
