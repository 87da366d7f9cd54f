//! JSONata states end to end: mixed with JSONPath states, `$states` scoping, the host's clock,
//! and every refusal a validation diagnostic at its pointer (expected values written from the
//! spec, §5, and AWS's documented rules, not from the code).

use serde_json::{Value, json};

use super::tests::ManualHost;
use super::*;
use crate::asl::diagnostic::code;
use crate::asl::parse::parse_value;

fn run(definition: Value, input: Value) -> Outcome {
    let (machine, _) = parse_value(&definition).unwrap_or_else(|d| panic!("invalid: {d:?}"));
    let host = ManualHost::new();
    futures::executor::block_on(execute(&machine, input, &ExecutionOptions::default(), &host))
}

/// The (code, pointer) of every diagnostic of an invalid definition.
fn refused(definition: Value) -> Vec<(String, String)> {
    match parse_value(&definition) {
        Ok(_) => panic!("accepted: {definition}"),
        Err(d) => d.into_iter().map(|d| (d.code.to_string(), d.location)).collect(),
    }
}

#[test]
fn jsonpath_and_jsonata_states_mix_in_a_jsonpath_machine() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "Assign": {"seen.$": "$.n"}, "Next": "B"},
        "B": {"Type": "Pass", "QueryLanguage": "JSONata",
              "Output": {"double": "{% $states.input.n * 2 %}", "seen": "{% $seen %}"}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.double", "NumericEquals": 14, "Next": "D"}]},
        "D": {"Type": "Succeed"}}});
    let out = run(def, json!({"n": 7}));
    assert_eq!(out.output, Some(json!({"double": 14, "seen": 7})), "{out:?}");
}

#[test]
fn task_result_output_and_catch_error_output() {
    // The ManualHost's task echoes its input, and fails when the input has "fail".
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
              "Arguments": {"x": "{% $states.input.x %}", "fail": "{% $states.input.fail %}"},
              "Output": {"got": "{% $states.result.x %}", "was": "{% $states.input.x %}"},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Output": {"caught": "{% $states.errorOutput.Error %}"}, "Next": "Done"}],
              "End": true},
        "Done": {"Type": "Succeed"}}});
    let ok = run(def.clone(), json!({"x": 1, "fail": false}));
    assert_eq!(ok.output, Some(json!({"got": 1, "was": 1})), "{ok:?}");
}

#[test]
fn now_reads_the_host_clock() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% $now() %}", "End": true}}});
    // ManualHost's clock starts at 2025-01-01T00:00:00Z.
    assert_eq!(run(def, json!({})).output, Some(json!("2025-01-01T00:00:00.000Z")));
}

#[test]
fn inline_map_items_and_item_selector_read_states() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map",
        "Items": "{% $states.input.xs %}",
        "ItemSelector": {"i": "{% $states.context.Map.Item.Index %}", "v": "{% $states.context.Map.Item.Value %}", "k": "{% $states.input.k %}"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let out = run(def, json!({"xs": ["a", "b"], "k": 9}));
    assert_eq!(out.output, Some(json!([{"i": 0, "v": "a", "k": 9}, {"i": 1, "v": "b", "k": 9}])), "{out:?}");
}

#[test]
fn undefined_results_are_query_evaluation_errors() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": {"r": "{% $states.input.missing %}"}, "End": true}}});
    let out = run(def, json!({}));
    let f = out.failure.expect("a failure");
    assert_eq!(f.error.as_deref(), Some("States.QueryEvaluationError"));
    assert_eq!(
        f.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'P' (entered at the event id #2). The JSONata expression '$states.input.missing' specified for the field 'Output/r' returned nothing (undefined)."
        )
    );
}

#[test]
fn refusals_are_diagnostics_at_their_pointers() {
    let jsonpath_field = refused(json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"a": 1}, "End": true}}}));
    assert!(
        jsonpath_field.contains(&(code::JSONPATH_FIELD_IN_JSONATA.into(), "/States/P/Parameters".into())),
        "{jsonpath_field:?}"
    );

    let path_twin = refused(json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
        "W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}}));
    assert!(
        path_twin.contains(&(code::JSONPATH_FIELD_IN_JSONATA.into(), "/States/W/SecondsPath".into())),
        "{path_twin:?}"
    );

    let eval = refused(json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": {"x": "{% $eval('1') %}"}, "End": true}}}));
    assert!(eval.contains(&(code::INVALID_JSONATA.into(), "/States/P/Output/x".into())), "{eval:?}");

    let syntax = refused(json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% $states.input. %}", "End": true}}}));
    assert!(syntax.contains(&(code::INVALID_JSONATA.into(), "/States/P/Output".into())), "{syntax:?}");

    let no_result = refused(json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% $states.result %}", "End": true}}}));
    assert!(no_result.contains(&(code::INVALID_JSONATA.into(), "/States/P/Output".into())), "{no_result:?}");

    let no_error_output = refused(json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
              "Arguments": "{% $states.errorOutput %}", "End": true}}}));
    assert!(
        no_error_output.contains(&(code::INVALID_JSONATA.into(), "/States/T/Arguments".into())),
        "{no_error_output:?}"
    );

    let jsonpath_under_jsonata = refused(json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}));
    assert!(
        jsonpath_under_jsonata.contains(&(code::INVALID_VALUE.into(), "/States/P/QueryLanguage".into())),
        "{jsonpath_under_jsonata:?}"
    );

    let jsonata_field_in_jsonpath = refused(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": {"a": 1}, "End": true}}}));
    assert!(
        jsonata_field_in_jsonpath.contains(&(code::UNKNOWN_FIELD.into(), "/States/P/Output".into())),
        "{jsonata_field_in_jsonpath:?}"
    );
}

#[test]
fn path_twins_in_nested_jsonata_objects_are_refused_once() {
    let d = refused(json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Arguments": {"Bucket": "b", "Key": "k"},
            "ReaderConfig": {"InputType": "JSONL", "MaxItemsPath": "$.n"}},
        "MaxConcurrencyPath": "$.c", "End": true}}}));
    let at = |p: &str| d.iter().filter(|(c, l)| c == code::JSONPATH_FIELD_IN_JSONATA && l == p).count();
    assert_eq!(at("/States/M/ItemReader/ReaderConfig/MaxItemsPath"), 1, "{d:?}");
    assert_eq!(at("/States/M/MaxConcurrencyPath"), 1, "{d:?}");
}

/// A Distributed Map's children are compiled from the ItemProcessor's text alone (by
/// workers): that text must give each state the language it has in the parent.
#[test]
fn a_distributed_processor_keeps_its_states_languages_on_its_own() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "QueryLanguage": "JSONata",
        "Items": "{% $states.input.xs %}", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "A", "States": {
                "A": {"Type": "Pass", "Output": {"x": "{% $states.input %}"}, "Next": "B"},
                "B": {"Type": "Pass", "QueryLanguage": "JSONPath", "Parameters": {"y.$": "$.x"}, "End": true}}}}}});
    let (parent, _) = parse_value(&def).unwrap_or_else(|d| panic!("{d:?}"));
    let crate::asl::model::StateKind::Map(m) = &parent.states[0].kind else { panic!("a Map") };
    // As a worker compiles it (worker/src/nats/definitions.rs): without its ProcessorConfig.
    let mut text = (*m.processor_definition).clone();
    text.as_object_mut().map(|o| o.remove("ProcessorConfig"));
    let (child, _) = parse_value(&text).unwrap_or_else(|d| panic!("{d:?}"));
    let languages: Vec<bool> = child.states.iter().map(|s| s.flow.is_jsonata()).collect();
    assert_eq!(languages, [true, false]);
    let out = futures::executor::block_on(execute(&child, json!(5), &ExecutionOptions::default(), &ManualHost::new()));
    assert_eq!(out.output, Some(json!({"y": 5})), "{out:?}");
}

#[test]
fn a_condition_must_give_a_boolean() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n %}", "Next": "D"}], "Default": "D"},
        "D": {"Type": "Succeed"}}});
    let f = run(def, json!({"n": 1})).failure.expect("a failure");
    assert_eq!(f.error.as_deref(), Some("States.QueryEvaluationError"));
    assert_eq!(
        f.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'C' (entered at the event id #2). The JSONata expression '$states.input.n' specified for the field 'Choices[0]/Condition' returned an unexpected result type. Expected 'boolean', but was 'number' for value: 1"
        )
    );
}
