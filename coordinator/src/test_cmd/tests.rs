//! End-to-end tests of `dmap test`: small case files written here, run through [`run`] and
//! [`run_case_file`].

use serde_json::{Value, json};
use tempfile::TempDir;

use super::*;

fn write(dir: &TempDir, file: &str, case: &Value) -> PathBuf {
    let path = dir.path().join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, serde_json::to_string_pretty(case).unwrap()).unwrap();
    path
}

fn check(case: Value, expected: CaseStatus) {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "case.json", &case);
    let got = run_case_file(&path);
    assert_eq!(got.status, expected, "{case}");
}

fn run_text(paths: &[PathBuf], json: bool) -> (i32, String) {
    let mut out = Vec::new();
    let code = run(paths, &TestOptions { json, known_failures: None }, &mut out);
    (code, String::from_utf8(out).unwrap())
}

/// Waits a minute, calls a mocked Lambda twice and exceeds nothing: runs at once.
fn waiting_workflow() -> Value {
    let arn = "arn:aws:lambda:us-east-1:111111111111:function:echo";
    json!({
        "name": "waits_and_calls",
        "definition": {
            "StartAt": "Wait",
            "States": {
                "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Echo"},
                "Echo": {"Type": "Task", "Resource": arn, "ResultPath": "$.echoed", "Next": "Invoke"},
                "Invoke": {
                    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "constant", "Payload.$": "$"},
                    "ResultSelector": {"p.$": "$.Payload", "code.$": "$.StatusCode"},
                    "ResultPath": "$.invoked", "End": true
                }
            }
        },
        "input": {"n": 1},
        "expected": {"status": "SUCCEEDED", "output": {
            "n": 1, "echoed": {"n": 1}, "invoked": {"p": [1, 2.0], "code": 200}
        }},
        "tasks": [
            {"state": "Echo", "resource": arn, "integration": "lambda-arn", "function": "echo", "behaviour": "identity"},
            {"resource": "arn:aws:states:::lambda:invoke", "integration": "lambda:invoke", "function": "constant",
             "behaviour": "constant", "returns": [1, 2.0]}
        ]
    })
}

#[test]
fn a_case_with_waits_and_mocks_passes() {
    check(waiting_workflow(), CaseStatus::Passed);
}

#[test]
fn a_wrong_expectation_fails_with_a_diff() {
    let mut case = waiting_workflow();
    case["expected"]["output"]["invoked"]["p"] = json!([1, 2]);
    check(case, CaseStatus::Failed { diff: "output differs at $.invoked.p[1]: expected 2, got 2.0".into() });
}

#[test]
fn execution_timeout_resolves_at_once() {
    check(
        json!({
            "definition": {"TimeoutSeconds": 5, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}},
            "expected": {"status": "TIMED_OUT"}
        }),
        CaseStatus::Passed,
    );
}

#[test]
fn an_unmocked_task_fails_naming_its_resource() {
    let dir = TempDir::new().unwrap();
    let case = json!({
        "definition": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}},
        "expected": {"status": "SUCCEEDED", "output": {}}
    });
    let got = run_case_file(&write(&dir, "t.json", &case));
    let CaseStatus::Failed { diff } = got.status else { panic!("{got:?}") };
    assert!(diff.contains("status: expected SUCCEEDED, got FAILED") && diff.contains("sqs:sendMessage"), "{diff}");
    assert_eq!(got.name, "t");
}

#[test]
fn jsonata_cases_and_distributed_maps_run() {
    let jsonata = json!({
        "definition": {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
            "Type": "Pass", "Output": {"b": "{% $states.input.a + 1 %}"}, "End": true}}},
        "input": {"a": 1},
        "expected": {"status": "SUCCEEDED", "output": {"b": 2}}
    });
    check(jsonata, CaseStatus::Passed);
    let distributed = json!({
        "definition": {"StartAt": "B", "States": {"B": {"Type": "Parallel", "End": true, "Branches": [{
            "StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}
            }}}
        }]}}},
        "expected": {"status": "SUCCEEDED", "output": [[]]}
    });
    // Distributed Maps run (on the in-process worker pool), even nested in a branch.
    check(distributed, CaseStatus::Passed);
}

#[test]
fn an_invalid_definition_fails_with_its_diagnostics() {
    let dir = TempDir::new().unwrap();
    let case = json!({
        "definition": {"StartAt": "Nowhere", "States": {"P": {"Type": "Pass", "End": true}}},
        "expected": {"status": "SUCCEEDED", "output": {}}
    });
    let CaseStatus::Failed { diff } = run_case_file(&write(&dir, "c.json", &case)).status else { panic!() };
    assert!(diff.starts_with("the definition is invalid: ") && diff.contains("Nowhere"), "{diff}");
}

#[test]
fn s3_objects_are_written_for_the_run() {
    let mut case = waiting_workflow();
    case["s3_objects"] = json!({"bucket-1/data/file.csv": "a,b\n1,2\n"});
    case["s3_buckets"] = json!(["result-bucket"]);
    check(case, CaseStatus::Passed);
}

#[test]
fn run_reports_in_path_order_and_exits_by_the_results() {
    let dir = TempDir::new().unwrap();
    write(&dir, "b/ok.json", &waiting_workflow());
    let mut wrong = waiting_workflow();
    wrong["name"] = json!("wrong");
    wrong["input"] = json!({"n": 2});
    write(&dir, "a/wrong.json", &wrong);
    write(&dir, "c/broken.json", &json!({"definition": {}}));
    std::fs::write(dir.path().join("notes.txt"), "not a case").unwrap();

    let (code, text) = run_text(&[dir.path().to_path_buf()], false);
    assert_eq!(code, 1);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("FAIL wrong: output differs at $.n: expected 1, got 2"), "{text}");
    assert!(
        lines[1].starts_with("FAIL broken: ") && lines[1].contains("broken.json") && lines[1].contains("expected"),
        "{text}"
    );
    assert_eq!(lines[2], "1 passed, 2 failed");

    let (code, text) = run_text(&[dir.path().join("b")], true);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["cases"][0]["name"], "waits_and_calls");
    assert_eq!((doc["passed"].as_u64(), doc["failed"].as_u64()), (Some(1), Some(0)));
}

#[test]
fn usage_errors_exit_2() {
    let dir = TempDir::new().unwrap();
    let (code, text) = run_text(&[dir.path().join("missing")], false);
    assert_eq!((code, text.starts_with("error: ")), (2, true), "{text}");
    let (code, _) = run_text(&[dir.path().to_path_buf()], false);
    assert_eq!(code, 2, "an empty directory has nothing to run");
    let not_a_case = write(&dir, "x.json", &json!([1, 2]));
    let (code, text) = run_text(&[not_a_case], false);
    assert_eq!(code, 2);
    assert!(text.contains("x.json") && text.contains("not a valid case"), "{text}");
    assert_eq!(run_text(&[], false).0, 2);
}
