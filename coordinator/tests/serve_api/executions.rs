//! Executions: starting (up to the engine), and reading what the store holds.

use chrono::{TimeZone, Utc};
use coordinator::serve::api::definition::hash;
use coordinator::serve::store::{EventRecord, ExecutionStatus, MachineType, MapRunCounts, MapRunRecord, Write};
use serde_json::{Value, json};

use crate::harness::{Api, PASS, PASS_B, arn};

#[tokio::test]
async fn starts_are_checked_resolved_and_named_as_aws_names_them() {
    let api = Api::start().await;
    let sm = api.create("HelloWorld", PASS, json!({"publish": true})).await;
    let started = api.ok("StartExecution", json!({"stateMachineArn": sm, "name": "run-1", "input": "{\"a\":1}"})).await;
    assert_eq!(started["executionArn"], arn("execution:HelloWorld:run-1"));
    assert!(started["startDate"].is_number());
    let routing = json!([{"stateMachineVersionArn": format!("{sm}:1"), "weight": 100}]);
    api.ok("CreateStateMachineAlias", json!({"name": "PROD", "routingConfiguration": routing})).await;
    api.ok("UpdateStateMachine", json!({"stateMachineArn": sm, "definition": PASS_B})).await;
    api.ok("StartExecution", json!({"stateMachineArn": format!("{sm}:PROD"), "name": "run-2"})).await;
    {
        let specs = api.recorder.started.lock().expect("recorder");
        assert_eq!(specs[0].input, "{\"a\":1}");
        assert_eq!(specs[0].definition, PASS);
        assert_eq!(
            (specs[1].version_arn.as_deref(), specs[1].alias_arn.as_deref()),
            (Some(&*format!("{sm}:1")), Some(&*format!("{sm}:PROD")))
        );
        // The alias routes to version 1, which runs the definition it was published with.
        assert_eq!(specs[1].definition, PASS);
        assert_eq!(specs[1].definition_hash, hash(PASS));
        assert_eq!(specs[1].input, "{}");
    }
    let (code, _) = api.fails("StartExecution", json!({"stateMachineArn": sm, "name": "has space"})).await;
    assert_eq!(code, "InvalidName");
    let (code, message) = api.fails("StartExecution", json!({"stateMachineArn": sm, "input": "{not json"})).await;
    assert_eq!(code, "InvalidExecutionInput");
    assert!(message.starts_with("Invalid State Machine Execution Input: '"), "{message}");
    let huge = format!("\"{}\"", "x".repeat(256 * 1024));
    let (code, _) = api.fails("StartExecution", json!({"stateMachineArn": sm, "input": huge})).await;
    assert_eq!(code, "InvalidExecutionInput");
    let (code, _) = api.fails("StartSyncExecution", json!({"stateMachineArn": sm})).await;
    assert_eq!(code, "StateMachineTypeNotSupported");
    api.stop().await;
}

#[tokio::test]
async fn express_executions_get_express_arns_and_sync_answers() {
    let api = Api::start().await;
    let sm = api.create("Fast", PASS, json!({"type": "EXPRESS"})).await;
    let out = api.ok("StartSyncExecution", json!({"stateMachineArn": sm, "name": "once", "input": "[1]"})).await;
    let prefix = arn("express:Fast:once:");
    let execution_arn = out["executionArn"].as_str().expect("an ARN");
    assert!(execution_arn.starts_with(&prefix) && execution_arn.len() == prefix.len() + 36, "{execution_arn}");
    assert_eq!(
        (out["status"].as_str(), out["output"].as_str(), out["input"].as_str()),
        (Some("SUCCEEDED"), Some("[1]"), Some("[1]"))
    );
    assert_eq!(out["billingDetails"]["billedDurationInMilliseconds"], 200);
    let (code, _) = api.fails("ListExecutions", json!({"stateMachineArn": sm})).await;
    assert_eq!(code, "StateMachineTypeNotSupported");
    let (code, _) = api.fails("GetExecutionHistory", json!({"executionArn": execution_arn})).await;
    assert_eq!(code, "InvalidArn");
    api.stop().await;
}

/// A finished execution of `HelloWorld` with a Map Run, written to the store as the engine
/// writes them.
async fn seeded(api: &Api) -> (String, String) {
    let sm = api.create("HelloWorld", PASS, json!({})).await;
    let start = Utc.timestamp_millis_opt(1_700_000_000_000).single().expect("a time");
    let execution = arn("execution:HelloWorld:run-1");
    let mut record = coordinator::serve::engine::StartSpec {
        execution_arn: execution.clone(),
        name: "run-1".into(),
        state_machine_arn: sm.clone(),
        state_machine_name: "HelloWorld".into(),
        version_arn: None,
        alias_arn: None,
        machine_type: MachineType::Standard,
        definition: PASS.into(),
        definition_hash: hash(PASS),
        role_arn: crate::harness::ROLE.into(),
        input: "{\"in\":1}".into(),
        trace_header: None,
        mock_test_case: None,
    }
    .record(start);
    record.status = ExecutionStatus::Succeeded;
    record.output = Some("{\"out\":2}".into());
    record.stop_date = Some(start + chrono::Duration::seconds(1));
    let event = |id: u64, kind: &str, details: Value| EventRecord {
        execution_arn: execution.clone(),
        id,
        previous_event_id: id - 1,
        timestamp: start + chrono::Duration::milliseconds(id as i64),
        event_type: kind.into(),
        details: Some(details.to_string()),
        key: None,
    };
    let events = vec![
        event(
            1,
            "ExecutionStarted",
            json!({"input": "{\"in\":1}", "inputDetails": {"truncated": false}, "roleArn": crate::harness::ROLE}),
        ),
        event(2, "PassStateEntered", json!({"name": "A", "input": "{\"in\":1}", "inputDetails": {"truncated": false}})),
        event(
            3,
            "PassStateExited",
            json!({"name": "A", "output": "{\"out\":2}", "outputDetails": {"truncated": false}}),
        ),
        event(4, "ExecutionSucceeded", json!({"output": "{\"out\":2}", "outputDetails": {"truncated": false}})),
    ];
    let map_run = arn("mapRun:HelloWorld/Map:5d8d7b24-9cf1-3c8f-8bfc-3d4c9e9f1a11");
    let run = MapRunRecord {
        arn: map_run.clone(),
        execution_arn: execution.clone(),
        state_machine_arn: arn("stateMachine:HelloWorld/Map"),
        status: "SUCCEEDED".into(),
        start_date: start,
        stop_date: Some(start),
        max_concurrency: 10,
        tolerated_failure_percentage: 0.0,
        tolerated_failure_count: 0,
        item_counts: MapRunCounts { succeeded: 3, total: 3, ..MapRunCounts::default() },
        execution_counts: MapRunCounts { succeeded: 1, total: 1, ..MapRunCounts::default() },
        redrive_count: 0,
        redrive_date: None,
    };
    api.commit(vec![
        Write::PutDefinition { hash: hash(PASS), text: PASS.into() },
        Write::CreateExecution(record),
        Write::AppendEvents(events),
        Write::PutMapRun(run),
    ])
    .await;
    (execution, map_run)
}

#[tokio::test]
async fn executions_are_described_and_listed_from_the_store() {
    let api = Api::start().await;
    let (execution, map_run) = seeded(&api).await;
    let d = api.ok("DescribeExecution", json!({"executionArn": execution})).await;
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["stateMachineArn"], arn("stateMachine:HelloWorld"));
    assert_eq!((d["input"].as_str(), d["output"].as_str()), (Some("{\"in\":1}"), Some("{\"out\":2}")));
    assert_eq!(d["startDate"], json!(1_700_000_000.0));
    assert_eq!(d["stopDate"], json!(1_700_000_001.0));
    assert_eq!(d["redriveStatus"], "NOT_REDRIVABLE");
    let meta = api.ok("DescribeExecution", json!({"executionArn": execution, "includedData": "METADATA_ONLY"})).await;
    assert!(meta.get("input").is_none() && meta.get("output").is_none(), "{meta}");
    assert_eq!(meta["inputDetails"], json!({"included": false}));
    let sm = arn("stateMachine:HelloWorld");
    let listed = api.ok("ListExecutions", json!({"stateMachineArn": sm})).await;
    assert_eq!(listed["executions"][0]["executionArn"], execution);
    let running = api.ok("ListExecutions", json!({"stateMachineArn": sm, "statusFilter": "RUNNING"})).await;
    assert_eq!(running["executions"], json!([]));
    let (code, _) = api.fails("ListExecutions", json!({})).await;
    assert_eq!(code, "ValidationException");
    let runs = api.ok("ListMapRuns", json!({"executionArn": execution})).await;
    assert_eq!(runs["mapRuns"][0]["mapRunArn"], map_run);
    let run = api.ok("DescribeMapRun", json!({"mapRunArn": map_run})).await;
    assert_eq!((run["status"].as_str(), run["maxConcurrency"].as_u64()), (Some("SUCCEEDED"), Some(10)));
    assert_eq!(run["itemCounts"]["succeeded"], 3);
    assert_eq!(run["itemCounts"]["timedOut"], 0);
    let (status, answer) = api.call("UpdateMapRun", json!({"mapRunArn": map_run, "maxConcurrency": 5})).await;
    assert_eq!((status, answer["reason"].as_str()), (400, Some("CANNOT_UPDATE_COMPLETED_MAP_RUN")));
    // The definition the execution ran, even after the state machine changed.
    api.ok("UpdateStateMachine", json!({"stateMachineArn": sm, "definition": PASS_B})).await;
    let ran = api.ok("DescribeStateMachineForExecution", json!({"executionArn": execution})).await;
    assert_eq!((ran["definition"].as_str(), ran["name"].as_str()), (Some(PASS), Some("HelloWorld")));
    api.stop().await;
}

#[tokio::test]
async fn history_pages_forwards_and_backwards_with_or_without_data() {
    let api = Api::start().await;
    let (execution, _) = seeded(&api).await;
    let all = api.ok("GetExecutionHistory", json!({"executionArn": execution})).await;
    let types: Vec<&str> =
        all["events"].as_array().expect("events").iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);
    // botocore's HistoryEvent members for these types.
    assert_eq!(all["events"][1]["stateEnteredEventDetails"]["name"], "A");
    assert_eq!(all["events"][2]["stateExitedEventDetails"]["output"], "{\"out\":2}");
    assert_eq!(all["events"][3]["executionSucceededEventDetails"]["output"], "{\"out\":2}");
    assert_eq!((all["events"][1]["id"].as_u64(), all["events"][1]["previousEventId"].as_u64()), (Some(2), Some(1)));
    let first =
        api.ok("GetExecutionHistory", json!({"executionArn": execution, "maxResults": 3, "reverseOrder": true})).await;
    let ids: Vec<u64> = first["events"].as_array().expect("events").iter().filter_map(|e| e["id"].as_u64()).collect();
    assert_eq!(ids, [4, 3, 2]);
    let token = first["nextToken"].clone();
    let rest = api
        .ok(
            "GetExecutionHistory",
            json!({"executionArn": execution, "maxResults": 3, "reverseOrder": true, "nextToken": token}),
        )
        .await;
    assert_eq!(
        rest["events"].as_array().map(|e| e.iter().filter_map(|e| e["id"].as_u64()).collect::<Vec<_>>()),
        Some(vec![1])
    );
    assert!(rest.get("nextToken").is_none(), "{rest}");
    // A reverse listing's token does not continue the forward one.
    let (code, _) = api.fails("GetExecutionHistory", json!({"executionArn": execution, "nextToken": token})).await;
    assert_eq!(code, "InvalidToken");
    let bare = api.ok("GetExecutionHistory", json!({"executionArn": execution, "includeExecutionData": false})).await;
    let entered = &bare["events"][1]["stateEnteredEventDetails"];
    assert!(entered.get("input").is_none(), "{entered}");
    assert_eq!(entered["inputDetails"], json!({"truncated": false}));
    api.stop().await;
}

#[tokio::test]
async fn executions_of_a_version_or_alias_are_listed_under_its_arn() {
    let api = Api::start().await;
    let sm = api.create("HelloWorld", PASS, json!({"publish": true})).await;
    let routing = json!([{"stateMachineVersionArn": format!("{sm}:1"), "weight": 100}]);
    api.ok("CreateStateMachineAlias", json!({"name": "PROD", "routingConfiguration": routing})).await;
    for (name, target) in [("plain", sm.clone()), ("pinned", format!("{sm}:1")), ("aliased", format!("{sm}:PROD"))] {
        api.ok("StartExecution", json!({"stateMachineArn": target, "name": name})).await;
    }
    // The stand-in engine records; the store holds what the engine would have written.
    let specs = api.recorder.started.lock().expect("recorder").clone();
    let start = Utc.timestamp_millis_opt(1_700_000_000_000).single().expect("a time");
    let mut unit = vec![Write::PutDefinition { hash: hash(PASS), text: PASS.into() }];
    unit.extend(specs.iter().map(|s| Write::CreateExecution(s.record(start))));
    api.commit(unit).await;
    let names = |answer: &Value| -> Vec<String> {
        let mut n: Vec<String> = answer["executions"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|e| e["name"].as_str().map(str::to_string))
            .collect();
        n.sort();
        n
    };
    let all = api.ok("ListExecutions", json!({"stateMachineArn": sm})).await;
    assert_eq!(names(&all), ["aliased", "pinned", "plain"]);
    let version = api.ok("ListExecutions", json!({"stateMachineArn": format!("{sm}:1")})).await;
    assert_eq!(names(&version), ["aliased", "pinned"]);
    let alias = api.ok("ListExecutions", json!({"stateMachineArn": format!("{sm}:PROD")})).await;
    assert_eq!(names(&alias), ["aliased"]);
    let aliased = alias["executions"][0].clone();
    assert_eq!(
        (aliased["stateMachineVersionArn"].as_str(), aliased["stateMachineAliasArn"].as_str()),
        (Some(&*format!("{sm}:1")), Some(&*format!("{sm}:PROD")))
    );
    let (code, _) = api.fails("ListExecutions", json!({"stateMachineArn": format!("{sm}:7")})).await;
    assert_eq!(code, "ResourceNotFound");
    api.stop().await;
}
