//! The protocol's error shapes: targets, bodies, constraints, ARNs, tokens, and the
//! operational endpoints.

use serde_json::json;

use crate::harness::{Api, PASS, ROLE, arn};

#[tokio::test]
async fn targets_that_name_no_action_are_unknown_operations() {
    let api = Api::start().await;
    for target in [Some("AWSStepFunctions.DoSomething"), Some("DynamoDB_20120810.ListTables"), None] {
        let (status, body) = api.raw(target, b"{}".to_vec()).await;
        assert_eq!((status, body["__type"].as_str()), (400, Some("UnknownOperationException")), "{target:?}");
    }
    api.stop().await;
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_are_serialization_errors() {
    let api = Api::start().await;
    let target = Some("AWSStepFunctions.ListStateMachines");
    for body in [&b"not json"[..], b"[1, 2]", b"\"text\"", b"{\"maxResults\": "] {
        let (status, answer) = api.raw(target, body.to_vec()).await;
        assert_eq!((status, answer["__type"].as_str()), (400, Some("SerializationException")), "{body:?}");
    }
    // A member of the wrong JSON type cannot be deserialized either.
    let (code, _) = api.fails("ListStateMachines", json!({"maxResults": "ten"})).await;
    assert_eq!(code, "SerializationException");
    let (code, _) = api.fails("CreateStateMachine", json!({"name": 7, "definition": PASS, "roleArn": ROLE})).await;
    assert_eq!(code, "SerializationException");
    api.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_they_are_read() {
    let api = Api::with_limit(4096).await;
    let big = json!({"name": "big", "definition": "x".repeat(8192), "roleArn": ROLE}).to_string();
    let (status, body) = api.raw(Some("AWSStepFunctions.CreateStateMachine"), big.into_bytes()).await;
    assert_eq!((status, body["__type"].as_str()), (413, Some("RequestEntityTooLargeException")));
    api.stop().await;
}

#[tokio::test]
async fn missing_and_out_of_range_members_are_validation_exceptions_in_awss_words() {
    let api = Api::start().await;
    let (code, message) = api.fails("CreateStateMachine", json!({"definition": PASS, "roleArn": ROLE})).await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
    );
    let (code, message) = api.fails("ListStateMachines", json!({"maxResults": 1001})).await;
    assert_eq!(code, "ValidationException");
    assert!(message.contains("Member must have value less than or equal to 1000"), "{message}");
    let (code, message) = api
        .fails("CreateStateMachine", json!({"name": "m", "definition": PASS, "roleArn": ROLE, "type": "FAST"}))
        .await;
    assert_eq!(code, "ValidationException");
    assert!(message.contains("Member must satisfy enum value set: [STANDARD, EXPRESS]"), "{message}");
    api.stop().await;
}

#[tokio::test]
async fn arns_that_do_not_parse_or_name_another_kind_are_invalid_arn() {
    let api = Api::start().await;
    for bad in ["HelloWorld", "arn:aws:lambda:us-east-1:123456789012:function:f", &arn("execution:HelloWorld:run")] {
        let (code, _) = api.fails("DescribeStateMachine", json!({"stateMachineArn": bad})).await;
        assert_eq!(code, "InvalidArn", "{bad}");
    }
    let (code, _) = api.fails("DescribeExecution", json!({"executionArn": arn("stateMachine:HelloWorld")})).await;
    assert_eq!(code, "InvalidArn");
    api.stop().await;
}

#[tokio::test]
async fn what_does_not_exist_is_answered_with_each_actions_code() {
    let api = Api::start().await;
    let cases = [
        ("DescribeStateMachine", json!({"stateMachineArn": arn("stateMachine:Nope")}), "StateMachineDoesNotExist"),
        ("DescribeExecution", json!({"executionArn": arn("execution:Nope:run")}), "ExecutionDoesNotExist"),
        ("GetExecutionHistory", json!({"executionArn": arn("execution:Nope:run")}), "ExecutionDoesNotExist"),
        (
            "DescribeStateMachineAlias",
            json!({"stateMachineAliasArn": arn("stateMachine:Nope:PROD")}),
            "ResourceNotFound",
        ),
        (
            "DescribeMapRun",
            json!({"mapRunArn": arn("mapRun:Nope/Map:5d8d7b24-9cf1-3c8f-8bfc-3d4c9e9f1a11")}),
            "ResourceNotFound",
        ),
        ("ListTagsForResource", json!({"resourceArn": arn("stateMachine:Nope")}), "ResourceNotFound"),
        ("StartExecution", json!({"stateMachineArn": arn("stateMachine:Nope")}), "StateMachineDoesNotExist"),
    ];
    for (action, body, expected) in cases {
        let (code, _) = api.fails(action, body).await;
        assert_eq!(code, expected, "{action}");
    }
    api.stop().await;
}

#[tokio::test]
async fn next_tokens_continue_their_listing_and_nothing_else() {
    let api = Api::start().await;
    for name in ["c-machine", "a-machine", "b-machine"] {
        api.create(name, PASS, json!({})).await;
    }
    let first = api.ok("ListStateMachines", json!({"maxResults": 2})).await;
    let names: Vec<&str> =
        first["stateMachines"].as_array().expect("a list").iter().filter_map(|m| m["name"].as_str()).collect();
    assert_eq!(names, ["a-machine", "b-machine"]);
    let token = first["nextToken"].as_str().expect("a token").to_string();
    let second = api.ok("ListStateMachines", json!({"maxResults": 2, "nextToken": token})).await;
    assert_eq!(second["stateMachines"][0]["name"], "c-machine");
    assert!(second.get("nextToken").is_none(), "{second}");
    let (code, _) = api.fails("ListStateMachines", json!({"nextToken": "bm90IGEgdG9rZW4"})).await;
    assert_eq!(code, "InvalidToken");
    // A token of one listing is no good for another.
    let (code, _) = api
        .fails(
            "ListStateMachineVersions",
            json!({"stateMachineArn": arn("stateMachine:a-machine"), "nextToken": token}),
        )
        .await;
    assert_eq!(code, "InvalidToken");
    api.stop().await;
}

#[tokio::test]
async fn healthz_and_metrics_answer_get() {
    let api = Api::start().await;
    api.ok("ListStateMachines", json!({})).await;
    assert_eq!(api.get("/healthz").await, (200, "ok\n".to_string()));
    let (status, text) = api.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(text.contains(r#"dmap_api_requests_total{action="ListStateMachines",code="OK"} 1"#), "{text}");
    assert!(text.contains(r#"dmap_api_request_duration_seconds_count{action="ListStateMachines"} 1"#), "{text}");
    api.stop().await;
}

#[tokio::test]
async fn with_access_keys_unsigned_and_badly_signed_requests_are_refused() {
    let api = Api::with_keys().await;
    // AWS's answer to a request without an Authorization header.
    let (status, body) = api.raw(Some("AWSStepFunctions.ListStateMachines"), b"{}".to_vec()).await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("MissingAuthenticationTokenException")), "{body}");
    assert_eq!(body["message"], "Request is missing Authentication Token");
    let (status, body) = api.signed("ListStateMachines", json!({}), crate::harness::SECRET).await;
    assert_eq!((status, &body), (200, &json!({"stateMachines": []})));
    let (status, body) = api.signed("ListStateMachines", json!({}), "not the secret").await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("InvalidSignatureException")), "{body}");
    api.stop().await;
}

#[tokio::test]
async fn chunked_bodies_are_cut_at_the_limit_too() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let api = Api::with_limit(4096).await;
    let mut stream = tokio::net::TcpStream::connect(api.url.trim_start_matches("http://")).await.expect("connected");
    let head = "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\n\
                Content-Type: application/x-amz-json-1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("head sent");
    // No length is declared: the server must count what arrives.
    let chunk = format!("{:x}\r\n{}\r\n", 1024, " ".repeat(1024));
    for _ in 0..8 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("RequestEntityTooLargeException"), "{answer}");
    api.stop().await;
}
