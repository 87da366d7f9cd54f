//! Bounds must never be below the truth: for each template, path and intrinsic call, the
//! bound computed from the compiled form and the measured input is at least the measured
//! size and depth of what evaluation produces.

use serde_json::{Value, json};

use super::*;
use crate::asl::diagnostic::Diagnostics;
use crate::asl::path::FixedEnv;

fn inputs() -> Vec<Value> {
    vec![
        json!({}),
        json!({"a": 1, "s": "x\"y\n\u{1}", "arr": [1, [2, [3, [4]]], {"a": {"a": {"a": 5}}}], "n": 7, "b64": "AAECAw=="}),
        json!({"a": {"a": {"a": {"a": "deep"}}}, "s": "a,b,c,d,e,f", "arr": [[1, 2], [3, 4]], "n": -3, "b64": "eA=="}),
    ]
}

fn check(template: Value) {
    let mut diags = Diagnostics::default();
    let t = Template::compile(&template, "", &mut diags);
    assert!(diags.items.is_empty(), "{template}: {:?}", diags.items);
    assert_bound_holds(&template, &t, inputs(), false);
}

/// The bound of `t`, from each input's measurement, is at least what evaluating `t` gives;
/// with `finite`, the bound is also a real one (not "anything").
fn assert_bound_holds(template: &Value, t: &Template, inputs: Vec<Value>, finite: bool) {
    let g = Growth::of_template(t);
    for input in inputs {
        let env = FixedEnv {
            context: json!({"Execution": {"Input": input.clone()}}),
            variables: serde_json::Map::from_iter([("v".to_string(), input.clone())]),
        };
        let Ok(out) = t.eval(&input, &env) else { continue };
        let bound =
            g.apply(measure(&input, usize::MAX), measure(&env.context, usize::MAX), measure(&input, usize::MAX));
        let real = measure(&out, usize::MAX);
        assert!(
            real.size <= bound.size && real.depth <= bound.depth,
            "{template} on {input}: real {real:?} > bound {bound:?}"
        );
        assert!(!finite || bound.size < usize::MAX / 2, "{template}: no bound");
    }
}

#[test]
fn template_bounds_hold() {
    for t in [
        json!({"x.$": "$"}),
        json!({"x": {"y": [{"z.$": "$.a"}, 1, "lit"]}, "w.$": "$$.Execution.Input"}),
        json!({"all.$": "$..a", "star.$": "$.arr[*]", "union.$": "$.arr[0,0,1,1]", "f.$": "$.arr[?(@.a)]"}),
        json!({"names.$": "$['a','a','s']", "deep.$": "$..*", "v.$": "$v", "vv.$": "$v..a"}),
        json!({"fmt.$": "States.Format('{} and {}', $.s, $)", "js.$": "States.JsonToString($)"}),
        json!({"arr.$": "States.Array($, $.s, 1)", "part.$": "States.ArrayPartition($.arr, 1)"}),
        json!({"split.$": "States.StringSplit($.s, ',')", "range.$": "States.ArrayRange(-1000, 1000, 2)"}),
        json!({"enc.$": "States.Base64Encode($.s)", "dec.$": "States.Base64Decode($.b64)", "h.$": "States.Hash($.s, 'SHA-512')"}),
        json!({"p.$": "States.StringToJson(States.JsonToString($))", "m.$": "States.JsonMerge($, $, false)"}),
        json!({"u.$": "States.UUID()", "len.$": "States.ArrayLength($.arr)", "add.$": "States.MathAdd($.n, 2)"}),
        json!([{"a.$": "States.ArrayUnique($.arr)"}, {"b.$": "States.ArrayGetItem($.arr, 1)"}]),
    ] {
        check(t);
    }
}

#[test]
fn measure_stops_at_the_limits_without_recursing_further() {
    let mut deep = json!(1);
    for _ in 0..10_000 {
        deep = Value::Array(vec![deep]);
    }
    let m = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            let m = measure(&deep, usize::MAX);
            // Dropping a deep value recurses too; unwrap it iteratively.
            let mut v = deep;
            while let Value::Array(mut a) = v {
                v = a.pop().unwrap_or(Value::Null);
            }
            m
        })
        .expect("spawn")
        .join()
        .expect("no overflow");
    assert!(m.depth > MAX_DEPTH && !m.within(usize::MAX));
    assert_eq!(measure(&json!({"a": [1, {"b": "x"}]}), usize::MAX), Bound { size: 19, depth: 3 });
    assert!(measure(&json!("x".repeat(100)), 50).size > 50);
}

/// JSONata fields: the bound from the expressions the fast path recognises holds whichever
/// path answers (lookups through arrays are mapped by the interpreter).
#[test]
fn jsonata_template_bounds_hold() {
    for template in [
        json!({"x": "{% $states.input %}", "arr": "{% $states.input.arr %}", "mapped": "{% $states.input.arr.a %}"}),
        json!("{% $merge([$states.input, {'meta': {'by': 'dmap'}}]) %}"),
        json!({"o": "{% {'id': $states.input.n, 'd': $states.input.n + $states.input.n, 'big': $states.input.n * 1e300} %}"}),
        json!([
            "{% $states.input.n >= 0 %}",
            "{% $not($states.input.a) %}",
            "{% $states.input.s = 'x' or $states.input.n < 2 %}"
        ]),
        json!({"v": "{% $v.a.a %}", "c": "{% $states.context.Execution.Input.s %}", "l": "{% [1, 'two', {'x': [3]}] %}"}),
        json!({"flat": "{% $states.input.o.k %}", "deep": "{% $states.input.arr.a.a.a %}"}),
    ] {
        let mut diags = Diagnostics::default();
        let t = Template::compile_jsonata(&template, "", "Output", &mut diags);
        assert!(diags.items.is_empty(), "{template}: {:?}", diags.items);
        let mut all = inputs();
        all.push(json!({"o": [{"k": [1, 2]}, {"k": [[3]]}, {"k": {"z": [4]}}], "arr": [{"a": [{"a": 1}]}, {"a": {"a": [2]}}]}));
        assert_bound_holds(&template, &t, all, true);
    }
}
