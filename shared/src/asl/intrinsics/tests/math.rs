//! `States.MathAdd`, `States.MathRandom` and `States.UUID`.

use serde_json::json;

use super::{check, check2, env};
use crate::asl::intrinsics::{Call, ERROR};

#[test]
fn math_add() {
    // test_math_add: Java Math.round (half toward +∞) before adding.
    let f = "States.MathAdd";
    check2(f, json!(-9), json!(3), Ok(json!(-6)));
    check2(f, json!(1.49), json!(1.5), Ok(json!(3)));
    check2(f, json!(1.5), json!(1.51), Ok(json!(4)));
    check2(f, json!(-1.49), json!(-1.5), Ok(json!(-2)));
    check2(f, json!(-1.5), json!(-1.51), Ok(json!(-3)));
    check2(f, json!(2.5), json!(0), Ok(json!(3)));
    check2(f, json!(3.5), json!(0), Ok(json!(4)));
    check2(f, json!(-0.5), json!(0.5), Ok(json!(1)));
    check2(f, json!(-0.5), json!(0), Ok(json!(0)));
    check2(f, json!(-2.5), json!(0), Ok(json!(-2)));
    check2(f, json!(-3.5), json!(0), Ok(json!(-3)));
    check("States.MathAdd(States.MathAdd($n, 2), -1)", json!({}), Ok(json!(6)));
    // Spec: arguments must be 32-bit integers.
    check2(f, json!(2147483647), json!(-2147483648), Ok(json!(-1)));
    check2(f, json!(2147483648_i64), json!(0), Err(ERROR));
    check2(f, json!("1"), json!(0), Err(ERROR));
}

#[test]
fn math_random() {
    let call = Call::parse("States.MathRandom($.s, $.e)").expect("parse");
    for _ in 0..200 {
        let v = call.eval(&json!({"s": 1, "e": 3}), &env()).expect("eval");
        assert!(v == json!(1) || v == json!(2), "end is exclusive: {v}");
    }
    let seeded = Call::parse("States.MathRandom(0, 1000, 42)").expect("parse");
    let first = seeded.eval(&json!({}), &env()).expect("eval");
    for _ in 0..10 {
        assert_eq!(seeded.eval(&json!({}), &env()).expect("eval"), first, "same seed, same value");
    }
    check("States.MathRandom(5, 5)", json!({}), Err(ERROR));
    check("States.MathRandom('a', 5)", json!({}), Err(ERROR));
}

#[test]
fn uuid() {
    let v = Call::parse("States.UUID()").expect("parse").eval(&json!({}), &env()).expect("eval");
    let s = v.as_str().expect("a string");
    assert_eq!(s.len(), 36);
    assert_eq!(s.as_bytes()[14], b'4', "version 4: {s}");
    assert!(s.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)), "{s}");
}
