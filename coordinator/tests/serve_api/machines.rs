//! State machines: create (idempotent), describe, update, delete, tags, validation.

use serde_json::{Value, json};

use crate::harness::{Api, PASS, PASS_B, ROLE, arn};

#[tokio::test]
async fn a_created_state_machine_is_described_as_given_with_awss_defaults() {
    let api = Api::start().await;
    let created =
        api.ok("CreateStateMachine", json!({"name": "HelloWorld", "definition": PASS, "roleArn": ROLE})).await;
    // The ARN form of the API reference's examples.
    assert_eq!(created["stateMachineArn"], "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld");
    assert!(created["creationDate"].is_number(), "{created}");
    assert!(created.get("stateMachineVersionArn").is_none());
    let d = api.ok("DescribeStateMachine", json!({"stateMachineArn": created["stateMachineArn"]})).await;
    assert_eq!(d["name"], "HelloWorld");
    assert_eq!(d["definition"], PASS);
    assert_eq!(d["roleArn"], ROLE);
    assert_eq!(d["type"], "STANDARD");
    assert_eq!(d["status"], "ACTIVE");
    assert_eq!(d["creationDate"], created["creationDate"]);
    assert_eq!(d["loggingConfiguration"], json!({"level": "OFF", "includeExecutionData": false}));
    assert_eq!(d["tracingConfiguration"], json!({"enabled": false}));
    api.stop().await;
}

#[tokio::test]
async fn creating_again_is_idempotent_unless_something_differs() {
    let api = Api::start().await;
    let body = json!({"name": "HelloWorld", "definition": PASS, "roleArn": ROLE});
    let first = api.ok("CreateStateMachine", body.clone()).await;
    // AWS ignores a different roleArn or tags on an idempotent request.
    let other_role = json!({"name": "HelloWorld", "definition": PASS, "roleArn": "arn:aws:iam::123456789012:role/other",
                            "tags": [{"key": "team", "value": "a"}]});
    assert_eq!(api.ok("CreateStateMachine", other_role).await, first);
    let d = api.ok("DescribeStateMachine", json!({"stateMachineArn": first["stateMachineArn"]})).await;
    assert_eq!(d["roleArn"], ROLE);
    let changed = json!({"name": "HelloWorld", "definition": PASS_B, "roleArn": ROLE});
    assert_eq!(api.fails("CreateStateMachine", changed).await.0, "StateMachineAlreadyExists");
    let express = json!({"name": "HelloWorld", "definition": PASS, "roleArn": ROLE, "type": "EXPRESS"});
    assert_eq!(api.fails("CreateStateMachine", express).await.0, "StateMachineAlreadyExists");
    api.stop().await;
}

#[tokio::test]
async fn names_definitions_and_roles_are_checked() {
    let api = Api::start().await;
    for name in ["Hello World", "a/b", "x:y", "semi;colon"] {
        let (code, message) =
            api.fails("CreateStateMachine", json!({"name": name, "definition": PASS, "roleArn": ROLE})).await;
        assert_eq!(code, "InvalidName", "{name}");
        assert_eq!(message, format!("Invalid Name: '{name}'"));
    }
    let broken = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Missing"}}}"#;
    let (code, message) =
        api.fails("CreateStateMachine", json!({"name": "m", "definition": broken, "roleArn": ROLE})).await;
    assert_eq!(code, "InvalidDefinition");
    assert!(message.starts_with("Invalid State Machine Definition: '"), "{message}");
    assert!(message.contains("at /States/A/Next"), "{message}");
    let (code, _) = api.fails("CreateStateMachine", json!({"name": "m", "definition": PASS, "roleArn": "role"})).await;
    assert_eq!(code, "InvalidArn");
    // Express state machines cannot wait for a callback (AWS refuses them at creation).
    let callback = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}}"#;
    let express = json!({"name": "e", "definition": callback, "roleArn": ROLE, "type": "EXPRESS"});
    let (code, message) = api.fails("CreateStateMachine", express).await;
    assert_eq!(code, "InvalidDefinition");
    assert!(
        message.contains("SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration at /States/T/Resource"),
        "{message}"
    );
    api.stop().await;
}

#[tokio::test]
async fn updates_change_the_revision_and_deletes_leave_nothing() {
    let api = Api::start().await;
    let sm = api.create("HelloWorld", PASS, json!({})).await;
    let before = api.ok("DescribeStateMachine", json!({"stateMachineArn": sm})).await;
    let updated = api.ok("UpdateStateMachine", json!({"stateMachineArn": sm, "definition": PASS_B})).await;
    assert!(updated["updateDate"].is_number());
    assert_ne!(updated["revisionId"], before["revisionId"]);
    let after = api.ok("DescribeStateMachine", json!({"stateMachineArn": sm})).await;
    assert_eq!((after["definition"].as_str(), &after["revisionId"]), (Some(PASS_B), &updated["revisionId"]));
    let (code, _) = api.fails("UpdateStateMachine", json!({"stateMachineArn": sm})).await;
    assert_eq!(code, "MissingRequiredParameter");
    api.ok("DeleteStateMachine", json!({"stateMachineArn": sm})).await;
    let (code, _) = api.fails("DescribeStateMachine", json!({"stateMachineArn": sm})).await;
    assert_eq!(code, "StateMachineDoesNotExist");
    // DeleteStateMachine has no "does not exist" error: deleting again succeeds.
    assert_eq!(api.ok("DeleteStateMachine", json!({"stateMachineArn": sm})).await, json!({}));
    api.stop().await;
}

#[tokio::test]
async fn tags_are_added_replaced_removed_and_bounded_at_fifty() {
    let api = Api::start().await;
    let sm = api.create("Tagged", PASS, json!({"tags": [{"key": "team", "value": "a"}]})).await;
    let tag = |tags: Value| json!({"resourceArn": sm, "tags": tags});
    api.ok("TagResource", tag(json!([{"key": "team", "value": "b"}, {"key": "env", "value": "dev"}]))).await;
    let listed = api.ok("ListTagsForResource", json!({"resourceArn": sm})).await;
    assert_eq!(listed["tags"], json!([{"key": "team", "value": "b"}, {"key": "env", "value": "dev"}]));
    api.ok("UntagResource", json!({"resourceArn": sm, "tagKeys": ["team", "absent"]})).await;
    let listed = api.ok("ListTagsForResource", json!({"resourceArn": sm})).await;
    assert_eq!(listed["tags"], json!([{"key": "env", "value": "dev"}]));
    let many: Vec<Value> = (0..50).map(|i| json!({"key": format!("k{i}"), "value": "v"})).collect();
    let (code, _) = api.fails("TagResource", tag(Value::Array(many))).await;
    assert_eq!(code, "TooManyTags");
    let (code, _) = api.fails("UntagResource", json!({"resourceArn": sm})).await;
    assert_eq!(code, "ValidationException");
    api.stop().await;
}

#[tokio::test]
async fn validation_reports_diagnostics_in_awss_shape() {
    let api = Api::start().await;
    let ok = api.ok("ValidateStateMachineDefinition", json!({"definition": PASS})).await;
    assert_eq!(ok, json!({"result": "OK", "diagnostics": [], "truncated": false}));
    let broken = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"X"},"B":{"Type":"Pass","Next":"Y"}}}"#;
    let fail = api.ok("ValidateStateMachineDefinition", json!({"definition": broken})).await;
    assert_eq!(fail["result"], "FAIL");
    let diagnostics = fail["diagnostics"].as_array().expect("a list");
    assert!(diagnostics.len() >= 2, "{fail}");
    for d in diagnostics {
        assert_eq!(d["severity"], "ERROR");
        assert!(d["code"].is_string() && d["message"].is_string() && d["location"].is_string(), "{d}");
    }
    let one = api.ok("ValidateStateMachineDefinition", json!({"definition": broken, "maxResults": 1})).await;
    assert_eq!((one["diagnostics"].as_array().map(Vec::len), &one["truncated"]), (Some(1), &json!(true)));
    let not_json = api.ok("ValidateStateMachineDefinition", json!({"definition": "{"})).await;
    // AWS's code for a definition that is not JSON.
    assert_eq!(not_json["diagnostics"][0]["code"], "INVALID_JSON_DESCRIPTION");
    let (code, _) = api.fails("ValidateStateMachineDefinition", json!({"definition": PASS, "maxResults": 101})).await;
    assert_eq!(code, "ValidationException");
    let labelled = arn("stateMachine:HelloWorld/Map");
    let (code, _) = api.fails("DescribeStateMachine", json!({"stateMachineArn": labelled})).await;
    assert_eq!(code, "ValidationException");
    api.stop().await;
}
