//! State results shaped in memory, without export. `check` compares with a hand-written value.

use serde_json::{Value, json};
use shared::asl::model::{OutputType, WriterConfig, WriterTransformation};

use super::{child, none, returning};
use crate::map_run::record::{ChildRecord, ChildStatus};
use crate::map_run::writer::shape_results;

fn check(records: Vec<ChildRecord>, config: Option<(OutputType, WriterTransformation)>, expected: Value) {
    let config = config.map(|(output_type, transformation)| WriterConfig { output_type, transformation });
    assert_eq!(shape_results(records, config.as_ref()), expected);
}

fn record(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// No ResultWriter: COMPACT, failed and never-started children as NONE records.
#[test]
fn without_result_writer_outputs_are_compacted() {
    use ChildStatus::*;
    let records = vec![child(1, Succeeded), child(2, Failed), returning(3, "[1,2]"), child(5, Pending)];
    let expected = json!([{"n": 1, "ok": true}, record(none::FAILED_2), [1, 2], record(none::PENDING_5)]);
    check(records, None, expected);
}

#[test]
fn none_returns_records_with_string_encoded_input_and_output() {
    let records = vec![child(1, ChildStatus::Succeeded), child(4, ChildStatus::Aborted)];
    let succeeded = json!({
        "ExecutionArn": "arn:aws:states:us-east-1:1:execution:sm/Map:c1",
        "Input": "{\"n\":1}",
        "InputDetails": {"Included": true},
        "Name": "c1",
        "Output": "{\"n\":1,\"ok\":true}",
        "OutputDetails": {"Included": true},
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        "StartDate": "2025-02-04T01:49:49.001Z",
        "StateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:sm/Map",
        "Status": "SUCCEEDED",
        "StopDate": "2025-02-04T01:49:50.099Z",
    });
    let shaped = shape_results(
        records.clone(),
        Some(&WriterConfig { output_type: OutputType::Json, transformation: WriterTransformation::None }),
    );
    // Field order matters to readers that compare text, so it is checked on the serialised form.
    assert_eq!(shaped.to_string(), format!("[{},{}]", none::SUCCEEDED_1, none::ABORTED_4));
    check(records, Some((OutputType::Json, WriterTransformation::None)), json!([succeeded, record(none::ABORTED_4)]));
}

#[test]
fn compact_and_flatten_with_json_output() {
    let records =
        || vec![returning(1, "[1,[2,3]]"), returning(2, "[]"), child(3, ChildStatus::TimedOut), returning(4, "7")];
    let compact = json!([[1, [2, 3]], [], record(none::TIMED_OUT_3), 7]);
    check(records(), Some((OutputType::Json, WriterTransformation::Compact)), compact);
    let flat = json!([1, [2, 3], record(none::TIMED_OUT_3), 7]);
    check(records(), Some((OutputType::Json, WriterTransformation::Flatten)), flat);
}

/// JSONL without export: the JSON Lines text as one string.
#[test]
fn jsonl_is_a_string_of_lines() {
    let records = || vec![returning(1, "[1,[2,3]]"), child(2, ChildStatus::Failed)];
    let compact = format!("[1,[2,3]]\n{}\n", none::FAILED_2);
    check(records(), Some((OutputType::Jsonl, WriterTransformation::Compact)), Value::String(compact));
    let flat = format!("1\n[2,3]\n{}\n", none::FAILED_2);
    check(records(), Some((OutputType::Jsonl, WriterTransformation::Flatten)), Value::String(flat));
    check(vec![], Some((OutputType::Jsonl, WriterTransformation::None)), json!(""));
}
