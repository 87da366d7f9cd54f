//! Versions and aliases.

use serde_json::json;

use crate::harness::{Api, PASS, PASS_B};

#[tokio::test]
async fn versions_are_published_numbered_and_listed_newest_first() {
    let api = Api::start().await;
    let created = api
        .ok(
            "CreateStateMachine",
            json!({"name": "HelloWorld", "definition": PASS, "roleArn": crate::harness::ROLE, "publish": true,
                   "versionDescription": "first"}),
        )
        .await;
    let sm = created["stateMachineArn"].as_str().expect("an ARN").to_string();
    assert_eq!(created["stateMachineVersionArn"], format!("{sm}:1"));
    let v1 = api.ok("DescribeStateMachine", json!({"stateMachineArn": format!("{sm}:1")})).await;
    assert_eq!(
        (v1["stateMachineArn"].as_str(), v1["description"].as_str()),
        (Some(&*format!("{sm}:1")), Some("first"))
    );
    // Publishing an unchanged revision again is idempotent.
    let again = api.ok("PublishStateMachineVersion", json!({"stateMachineArn": sm})).await;
    assert_eq!(again["stateMachineVersionArn"], format!("{sm}:1"));
    let updated =
        api.ok("UpdateStateMachine", json!({"stateMachineArn": sm, "definition": PASS_B, "publish": true})).await;
    assert_eq!(updated["stateMachineVersionArn"], format!("{sm}:2"));
    let (code, _) =
        api.fails("PublishStateMachineVersion", json!({"stateMachineArn": sm, "revisionId": "stale-revision"})).await;
    assert_eq!(code, "ConflictException");
    let listed = api.ok("ListStateMachineVersions", json!({"stateMachineArn": sm})).await;
    let arns: Vec<&str> = listed["stateMachineVersions"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|v| v["stateMachineVersionArn"].as_str())
        .collect();
    assert_eq!(arns, [format!("{sm}:2"), format!("{sm}:1")]);
    // Version 1 still runs the first definition.
    let v1 = api.ok("DescribeStateMachine", json!({"stateMachineArn": format!("{sm}:1")})).await;
    assert_eq!(v1["definition"], PASS);
    api.ok("DeleteStateMachineVersion", json!({"stateMachineVersionArn": format!("{sm}:1")})).await;
    let (code, _) = api.fails("DescribeStateMachine", json!({"stateMachineArn": format!("{sm}:1")})).await;
    assert_eq!(code, "StateMachineDoesNotExist");
    // Numbers are not reused after a deletion.
    let v3 = api.ok("UpdateStateMachine", json!({"stateMachineArn": sm, "definition": PASS, "publish": true})).await;
    assert_eq!(v3["stateMachineVersionArn"], format!("{sm}:3"));
    api.stop().await;
}

#[tokio::test]
async fn aliases_route_to_versions_and_protect_them() {
    let api = Api::start().await;
    let sm = api.create("HelloWorld", PASS, json!({"publish": true})).await;
    api.ok("UpdateStateMachine", json!({"stateMachineArn": sm, "definition": PASS_B, "publish": true})).await;
    let (v1, v2) = (format!("{sm}:1"), format!("{sm}:2"));
    let routing = json!([{"stateMachineVersionArn": v1, "weight": 90}, {"stateMachineVersionArn": v2, "weight": 10}]);
    let created = api.ok("CreateStateMachineAlias", json!({"name": "PROD", "routingConfiguration": routing})).await;
    assert_eq!(created["stateMachineAliasArn"], format!("{sm}:PROD"));
    let d = api.ok("DescribeStateMachineAlias", json!({"stateMachineAliasArn": format!("{sm}:PROD")})).await;
    assert_eq!((d["name"].as_str(), &d["routingConfiguration"]), (Some("PROD"), &routing));
    // AWS: updateDate equals creationDate until the first update.
    assert_eq!(d["updateDate"], d["creationDate"]);
    let bad = json!([{"stateMachineVersionArn": v1, "weight": 60}, {"stateMachineVersionArn": v2, "weight": 60}]);
    let (status, answer) =
        api.call("CreateStateMachineAlias", json!({"name": "BAD", "routingConfiguration": bad})).await;
    assert_eq!((status, answer["__type"].as_str()), (400, Some("ValidationException")));
    assert_eq!(answer["reason"], "INVALID_ROUTING_CONFIGURATION");
    let (code, _) = api.fails("CreateStateMachineAlias", json!({"name": "123", "routingConfiguration": routing})).await;
    assert_eq!(code, "ValidationException");
    let (code, _) = api.fails("DeleteStateMachineVersion", json!({"stateMachineVersionArn": v2})).await;
    assert_eq!(code, "ConflictException");
    let only_v1 = json!([{"stateMachineVersionArn": v1, "weight": 100}]);
    api.ok(
        "UpdateStateMachineAlias",
        json!({"stateMachineAliasArn": format!("{sm}:PROD"), "routingConfiguration": only_v1}),
    )
    .await;
    api.ok("DeleteStateMachineVersion", json!({"stateMachineVersionArn": v2})).await;
    let listed = api.ok("ListStateMachineAliases", json!({"stateMachineArn": sm})).await;
    assert_eq!(listed["stateMachineAliases"][0]["stateMachineAliasArn"], format!("{sm}:PROD"));
    api.ok("DeleteStateMachineAlias", json!({"stateMachineAliasArn": format!("{sm}:PROD")})).await;
    let (code, _) = api.fails("DeleteStateMachineAlias", json!({"stateMachineAliasArn": format!("{sm}:PROD")})).await;
    assert_eq!(code, "ResourceNotFound");
    api.stop().await;
}
