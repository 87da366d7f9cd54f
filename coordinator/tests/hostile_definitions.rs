//! The probe's (2026-12) hostile definitions and data, through the `dmap` binary: nesting
//! that overflowed the parser (H1/H2), data that grew too deep (H3), loops without end (M6)
//! and oversized inputs (M2). Each ends with a diagnostic, a `States.*` error or a usage
//! error, and the process lives to report it.

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::dmap::{Run, read_results};

fn write(dir: &std::path::Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).expect("write");
    p.to_str().expect("utf-8 path").to_string()
}

fn dmap(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dmap")).args(args).output().expect("dmap runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// The probe's `paren.json` with `n` nested parentheses.
fn parens(n: usize) -> Value {
    let filter = format!("$[?({}@.a == 1{})]", "(".repeat(n), ")".repeat(n));
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"r.$": filter}, "End": true}}})
}

#[test]
fn deeply_nested_filters_are_diagnosed_not_crashed_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bangs = json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
        "Parameters": {"r.$": format!("$[?({}@.a)]", "!".repeat(20_000))}, "End": true}}});
    for (name, def) in [("paren6000.json", parens(6_000)), ("paren3000.json", parens(3_000)), ("bang.json", bangs)] {
        let file = write(dir.path(), name, &def);
        let (code, text) = dmap(&["validate", &file]);
        assert_eq!(code, 1, "validate {name}: {text}");
        assert!(text.contains("INVALID_JSONPATH") && text.contains("/States/P/Parameters/r.$"), "{text}");
        let (code, text) = dmap(&["run", &file, "--quiet"]);
        assert_eq!(code, 2, "run {name}: {text}");
        assert!(text.contains("INVALID_JSONPATH") && text.contains("/States/P/Parameters/r.$"), "{text}");
    }
    // H2: the same filter in a Distributed Map child is refused before any worker sees it.
    let filter = format!("$.xs[?({}@.a == 1{})]", "(".repeat(3_000), ")".repeat(3_000));
    let child = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "C", "States": {"C": {"Type": "Pass", "Parameters": {"r.$": filter}, "End": true}}},
        "End": true}}});
    let file = write(dir.path(), "deepchild_3000.json", &child);
    let (code, text) = dmap(&["validate", &file]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("/States/M/ItemProcessor/States/C/Parameters/r.$"), "{text}");
}

/// The probe's `nest.json`.
fn nest_states() -> Value {
    json!({
        "Init": {"Type": "Pass", "Parameters": {"n": 0, "d": 1, "limit.$": "$.limit"}, "Next": "Nest"},
        "Nest": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)", "d": {"x.$": "$.d"},
                 "limit.$": "$.limit"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThanPath": "$.limit", "Next": "Nest"}],
                  "Default": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": true}})
}

#[test]
fn data_nested_too_deep_fails_the_execution_and_the_process_lives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "nest.json", &json!({"StartAt": "Init", "States": nest_states()}));
    let (code, text) = dmap(&["run", &file, "--quiet", "--input-json", r#"{"limit":20000}"#]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("States.DataLimitExceeded") && text.contains("Nest"), "{text}");

    // As an embedded Distributed Map child: the one deep item fails, the other 100 succeed,
    // and the results are all written.
    let results = tempfile::tempdir().expect("tempdir");
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "Init", "States": nest_states()},
        "ToleratedFailureCount": 1,
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "p"}},
        "End": true}}});
    let file = write(dir.path(), "nestchild.json", &def);
    let mut items = vec![json!({"limit": 10}); 50];
    items.push(json!({"limit": 6_000}));
    items.extend(vec![json!({"limit": 10}); 50]);
    let input = write(dir.path(), "input.json", &json!({"items": items}));
    let run = Run::new(&file).bucket("out", results.path()).arg("--input").arg(&input).go();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).expect("output is JSON");
    let key = out["ResultWriterDetails"]["Key"].as_str().expect("manifest key");
    let files = read_results(results.path(), key);
    assert_eq!((files.succeeded.len(), files.failed.len(), files.pending.len()), (100, 1, 0));
    assert_eq!(files.failed[0]["Error"], "States.DataLimitExceeded", "{:?}", files.failed[0]);
}

/// The probe's `loop.json`, `loopw.json` and a Task loop (`looptask.json`) under `dmap test`.
#[test]
fn loops_without_end_stop_at_the_history_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cause = "The execution reached the maximum number of history events (25000).";
    for (name, first) in [
        ("loop.json", json!({"Type": "Pass", "Next": "C"})),
        ("loopw.json", json!({"Type": "Wait", "Seconds": 0, "Next": "C"})),
    ] {
        let def = json!({"StartAt": "A", "States": {"A": first,
            "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "A"}], "Default": "D"},
            "D": {"Type": "Succeed"}}});
        let file = write(dir.path(), name, &def);
        let (code, text) = dmap(&["run", &file, "--quiet", "--input-json", "1"]);
        assert_eq!(code, 1, "{name}: {text}");
        assert!(text.contains("States.Runtime") && text.contains(cause), "{name}: {text}");
    }
    let resource = "arn:aws:lambda:us-east-1:111111111111:function:echo";
    let case = json!({"name": "looptask", "source": {"about": "probe M6: a Task loop without end"},
        "definition": {"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": resource, "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "T"}],
                  "Default": "D"},
            "D": {"Type": "Succeed"}}},
        "input": {"go": true},
        "expected": {"status": "FAILED", "error": "States.Runtime", "cause": cause},
        "tasks": [{"resource": resource, "behaviour": "identity"}]});
    let file = write(dir.path(), "looptask.json", &case);
    let (code, text) = dmap(&["test", &file]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn an_execution_input_over_256_kib_is_refused_as_bad_usage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let def = write(
        dir.path(),
        "p.json",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": true}}}),
    );
    // (Linux refuses a single argument over 128 KiB, so `--input-json` cannot carry this much;
    // its check is a unit test of `cli::input`.)
    let big = json!({"s": "x".repeat(300_000)}).to_string();
    let input = dir.path().join("big.json");
    std::fs::write(&input, &big).expect("write");
    let input = input.to_str().expect("utf-8 path");
    let (code, text) = dmap(&["run", &def, "--quiet", "--input", input]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--input") && text.contains(&big.len().to_string()), "{text}");
    let (code, text) = dmap(&["run", &def, "--quiet", "--input", input, "--no-payload-limits"]);
    assert_eq!(code, 0, "{text}");
}
