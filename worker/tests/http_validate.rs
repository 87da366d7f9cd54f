//! `validate_parameters`: an HTTP Task's `Parameters` checked as the definition writes them,
//! before any run — literal values checked, `.$` values left for run time, every problem
//! reported at once.

use serde_json::{Value, json};
use worker::integrations::http::validate_parameters;

fn problems(parameters: Value) -> Vec<String> {
    match validate_parameters(&parameters) {
        Ok(()) => Vec::new(),
        Err(text) => text.split("; ").map(str::to_owned).collect(),
    }
}

#[test]
fn complete_parameters_pass() {
    let cases = [
        json!({"ApiEndpoint": "https://api.example.com/v1", "Method": "POST"}),
        json!({"ApiEndpoint.$": "$.url", "Method.$": "$.method"}),
        json!({"ApiEndpoint.$": "States.Format('https://x/{}', $.id)", "Method": "GET"}),
        json!({
            "ApiEndpoint": "http://127.0.0.1:8080/x",
            "Method": "PATCH",
            "Authentication": {"ConnectionArn": "arn:aws:events:eu-west-1:123456789012:connection/c/0f1e"},
            "Headers": {"x-static": "1", "x-dynamic.$": "$.value"},
            "QueryParameters": {"a": [1, 2]},
            "QueryParameters.$": "$.q",
            "RequestBody": {"k.$": "$.v"},
            "Transform": {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat.$": "$.f"}}
        }),
        json!({"ApiEndpoint": "https://x/", "Method": "GET", "Authentication": {"ConnectionArn.$": "$.arn"}}),
        json!({"ApiEndpoint": "https://x/", "Method": "GET", "Transform": {"RequestBodyEncoding.$": "$.e"}}),
    ];
    for parameters in cases {
        assert_eq!(problems(parameters.clone()), Vec::<String>::new(), "{parameters}");
    }
}

#[test]
fn missing_fields_are_reported() {
    assert_eq!(problems(json!({})), ["ApiEndpoint: required", "Method: required"]);
    assert_eq!(problems(json!({"Method": "GET"})), ["ApiEndpoint: required"]);
    assert!(validate_parameters(&json!("not an object")).is_err());
}

#[test]
fn every_literal_problem_is_reported_at_once() {
    let parameters = json!({
        "ApiEndpoint": "not a url",
        "Method": "FETCH",
        "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:rule/r"},
        "Headers": {"Host.$": "$.h", "x-ok": {"nested": true}},
        "QueryParameters": [1],
        "Transform": {"RequestEncodingOptions": {"ArrayFormat": "SEMICOLONS"}},
        "Retries": 3,
        "Body.$": "$.b"
    });
    let fields: Vec<String> = problems(parameters).iter().map(|p| p.split(':').next().unwrap().to_owned()).collect();
    assert_eq!(
        fields,
        [
            "ApiEndpoint",
            "Method",
            "Authentication.ConnectionArn",
            "Headers.Host",
            "QueryParameters",
            "Transform.RequestEncodingOptions.ArrayFormat",
            "Retries",
            "Body",
        ]
    );
}

#[test]
fn unknown_members_of_nested_fields_are_reported() {
    let cases = [
        (json!({"Authentication": {"ConnectionArn.$": "$.arn", "Role": "y"}}), "Authentication.Role"),
        (json!({"Transform": {"Encoding": "NONE"}}), "Transform.Encoding"),
        (json!({"Transform": {"RequestBodyEncoding": "GZIP"}}), "Transform.RequestBodyEncoding"),
        (json!({"Headers": "x-a: 1"}), "Headers"),
    ];
    for (extra, field) in cases {
        let mut parameters = json!({"ApiEndpoint": "https://x/", "Method": "GET"});
        parameters.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let found = problems(parameters);
        assert!(found.len() == 1 && found[0].starts_with(&format!("{field}:")), "{field}: {found:?}");
    }
}
