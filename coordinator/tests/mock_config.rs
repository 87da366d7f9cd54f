//! AWS Step Functions Local's mock configuration file in `dmap run --mock-config FILE
//! --mock-test-case NAME` and in `dmap test` cases: services dmap cannot reach run fully
//! mocked; Return and Throw with Retry and Catch; ranges; counts shared by inline Map
//! iterations and kept apart per Distributed Map child; bad files refused before the run at
//! their JSON pointers. Expected values follow AWS's page on the mock configuration file.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support::dmap::{Ran, Run};
use tempfile::TempDir;

/// A directory holding the definition as `orders.asl.json` (state machine `orders`) and the
/// mock configuration as `mocks.json`.
struct Setup {
    dir: TempDir,
}

impl Setup {
    fn new(definition: Value, mocks: Value) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("orders.asl.json"), definition.to_string()).expect("write the definition");
        std::fs::write(dir.path().join("mocks.json"), mocks.to_string()).expect("write the mocks");
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, test_case: &str, extra: &[&str]) -> Ran {
        let mut run = Run::new(self.path("orders.asl.json").to_str().expect("a UTF-8 path"))
            .arg("--mock-config")
            .arg(self.path("mocks.json").to_str().expect("a UTF-8 path"))
            .arg("--mock-test-case")
            .arg(test_case);
        for a in extra {
            run = run.arg(a);
        }
        run.go()
    }
}

fn output(ran: &Ran) -> Value {
    serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("output is JSON ({e}): {}\n{}", ran.stdout, ran.stderr))
}

fn returns(v: Value) -> Value {
    json!({"Return": v})
}

fn throws(error: &str, cause: &str) -> Value {
    json!({"Throw": {"Error": error, "Cause": cause}})
}

/// S3 through the SDK integration, SNS through the optimized one, a Lambda function and the
/// HTTP Task: none reachable here, all answered by the mocks.
fn services_definition() -> Value {
    json!({"StartAt": "GetObject", "States": {
        "GetObject": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "orders-bucket", "Key": "order-7.json"},
            "ResultSelector": {"order.$": "States.StringToJson($.Body)"}, "Next": "Price"},
        "Price": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:price",
            "ResultPath": "$.price", "Next": "Notify"},
        "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:orders", "Message.$": "$.order.id"},
            "ResultPath": "$.published", "Next": "Call"},
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {"ApiEndpoint": "https://example.invalid/orders", "Method": "POST",
                "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/c/1"}},
            "ResultSelector": {"status.$": "$.StatusCode"}, "ResultPath": "$.http", "End": true}
    }})
}

fn services_mocks() -> Value {
    json!({
        "StateMachines": {"orders": {"TestCases": {
            "HappyPath": {"GetObject": "Order7", "Price": "Price", "Notify": "Published", "Call": "Accepted"},
            "OnlyS3": {"GetObject": "Order7"}
        }}},
        "MockedResponses": {
            "Order7": {"0": returns(json!({"Body": "{\"id\":\"order-7\"}", "ContentType": "application/json"}))},
            "Price": {"0": returns(json!(12.5))},
            "Published": {"0": returns(json!({"MessageId": "5a9c1e52-0001"}))},
            "Accepted": {"0": returns(json!({"StatusCode": 202, "ResponseBody": {}}))}
        }
    })
}

#[test]
fn services_dmap_cannot_reach_run_fully_mocked() {
    let s = Setup::new(services_definition(), services_mocks());
    let ran = s.run("HappyPath", &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        output(&ran),
        json!({
            "order": {"id": "order-7"},
            "price": 12.5,
            "published": {"MessageId": "5a9c1e52-0001"},
            "http": {"status": 202}
        })
    );
    // Without the mocks the same definition is refused before it runs.
    let unmocked = Run::new(s.path("orders.asl.json").to_str().unwrap()).go();
    assert_eq!(unmocked.code, 2, "{}", unmocked.stderr);
    // A test case that mocks only some states leaves the others to their integrations, which
    // are checked as without mocks: the Lambda function needs a functions file.
    let partial = s.run("OnlyS3", &[]);
    assert_eq!(partial.code, 2, "{}", partial.stderr);
    assert!(partial.stderr.contains("/States/Price/Resource"), "{}", partial.stderr);
    assert!(!partial.stderr.contains("/States/GetObject/Resource"), "{}", partial.stderr);
}

#[test]
fn a_throw_is_retried_into_the_next_response_and_caught_by_its_name() {
    let definition = json!({"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": "orders", "Item": {"id": {"S": "7"}}},
            "Retry": [{"ErrorEquals": ["DynamoDb.ProvisionedThroughputExceededException"],
                "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 2}],
            "ResultPath": "$.put", "Next": "Send"},
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "MessageBody": "7"},
            "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Wrong"},
                      {"ErrorEquals": ["SQS.QueueDoesNotExistException"], "ResultPath": "$.error", "Next": "Report"}],
            "End": true},
        "Wrong": {"Type": "Fail", "Error": "Wrong.Catcher"},
        "Report": {"Type": "Pass", "End": true}
    }});
    let mocks = json!({
        "StateMachines": {"orders": {"TestCases": {"RetryThenCatch": {"Put": "Throttled", "Send": "NoQueue"}}}},
        "MockedResponses": {
            "Throttled": {
                "0": throws("DynamoDb.ProvisionedThroughputExceededException", "Rate of requests exceeds the allowed throughput."),
                "1": returns(json!({"SdkHttpMetadata": {"HttpStatusCode": 200}}))
            },
            "NoQueue": {"0": throws("SQS.QueueDoesNotExistException", "The specified queue does not exist.")}
        }
    });
    let s = Setup::new(definition, mocks);
    let ran = s.run("RetryThenCatch", &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        output(&ran),
        json!({
            "put": {"SdkHttpMetadata": {"HttpStatusCode": 200}},
            "error": {"Error": "SQS.QueueDoesNotExistException", "Cause": "The specified queue does not exist."}
        })
    );
}

/// An inline Map's iterations share their state's count (in execution order: MaxConcurrency
/// 1, as AWS's page advises), and a range answers every invocation it holds.
fn inline_map() -> Value {
    json!({"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
            "ItemProcessor": {"StartAt": "Lookup", "States": {
                "Lookup": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ssm:getParameter",
                    "Parameters": {"Name.$": "$"}, "OutputPath": "$.Parameter.Value", "End": true}
            }},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            "End": true},
        "Caught": {"Type": "Pass", "Result": "a catcher on States.ALL must not catch States.Runtime", "End": true}
    }})
}

fn parameter(value: &str) -> Value {
    returns(json!({"Parameter": {"Name": "p", "Type": "String", "Value": value}}))
}

fn map_mocks() -> Value {
    json!({
        "StateMachines": {"orders": {"TestCases": {"Sequence": {"Lookup": "Values"}}}},
        "MockedResponses": {"Values": {"0": parameter("first"), "1-2": parameter("middle"), "3": parameter("last")}}
    })
}

#[test]
fn inline_map_iterations_share_the_count_and_ranges_answer_each_invocation() {
    let s = Setup::new(inline_map(), map_mocks());
    let ran = s.run("Sequence", &["--input-json", r#"{"items": ["a", "b", "c", "d"]}"#]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(output(&ran), json!(["first", "middle", "middle", "last"]));
}

#[test]
fn an_invocation_without_a_response_fails_the_execution_with_states_runtime() {
    let s = Setup::new(inline_map(), map_mocks());
    let ran = s.run("Sequence", &["--input-json", r#"{"items": [1, 2, 3, 4, 5]}"#]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let out = output(&ran);
    assert_eq!(out["Error"], "States.Runtime", "{out}");
    let cause = out["Cause"].as_str().expect("a cause");
    assert!(cause.contains("invocation 4 of the Task state 'Lookup'"), "{cause}");
}

#[test]
fn each_distributed_map_child_counts_from_zero() {
    let definition = json!({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Map", "ItemsPath": "$.ids",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Put", "States": {
                    "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                        "Parameters": {"TableName": "orders", "Item": {"id": {"S.$": "States.Format('{}', $)"}}},
                        "Retry": [{"ErrorEquals": ["DynamoDb.InternalServerErrorException"],
                            "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 1}],
                        "End": true}
                }},
            "End": true}
    }});
    let mocks = json!({
        "StateMachines": {"orders": {"TestCases": {"FlakyOnce": {"Put": "FailsOnce"}}}},
        "MockedResponses": {"FailsOnce": {
            "0": throws("DynamoDb.InternalServerErrorException", "Internal server error"),
            "1": returns(json!({}))
        }}
    });
    let s = Setup::new(definition, mocks);
    // Each child throws once and then succeeds: a count shared by the children would leave
    // all but the first without a response.
    let ran = s.run("FlakyOnce", &["--input-json", r#"{"ids": [1, 2, 3, 4, 5, 6]}"#]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(output(&ran), json!([{}, {}, {}, {}, {}, {}]));
}

#[test]
fn bad_mock_files_are_refused_before_the_run_at_their_pointers() {
    let bad = json!({
        "StateMachines": {"orders": {"TestCases": {"Bad": {
            "GetObject": "Reversed", "Price": "NoSuchResponse", "Notify": "Both", "Missing/State": "Fine"
        }}}},
        "MockedResponses": {
            "Reversed": {"2-1": returns(json!(1))},
            "Both": {"0": {"Return": 1, "Throw": {"Error": "E", "Cause": "c"}}},
            "Fine": {"0": returns(json!(1))},
            "Neither": {"0": {}}
        }
    });
    let s = Setup::new(services_definition(), bad);
    let ran = s.run("Bad", &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    let file = s.path("mocks.json").display().to_string();
    for pointer in [
        "/MockedResponses/Reversed/2-1",
        "/MockedResponses/Both/0",
        "/MockedResponses/Neither/0",
        "/StateMachines/orders/TestCases/Bad/Price",
    ] {
        assert!(ran.stderr.contains(&format!("{file}: at {pointer}: ")), "{pointer} in:\n{}", ran.stderr);
    }
    assert!(ran.stdout.is_empty());

    // A well-formed file whose test case names states the definition does not have.
    let unknown = json!({
        "StateMachines": {"orders": {"TestCases": {"Typos": {"GetObjekt": "Fine", "Missing/State": "Fine"}}}},
        "MockedResponses": {"Fine": {"0": returns(json!(1))}}
    });
    let s = Setup::new(services_definition(), unknown);
    let ran = s.run("Typos", &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    for pointer in
        ["/StateMachines/orders/TestCases/Typos/GetObjekt", "/StateMachines/orders/TestCases/Typos/Missing~1State"]
    {
        assert!(ran.stderr.contains(pointer), "{pointer} in:\n{}", ran.stderr);
    }
    assert!(ran.stderr.contains("Call, GetObject, Notify, Price"), "the Task states are listed:\n{}", ran.stderr);
}

#[test]
fn the_test_case_is_found_or_the_choices_are_listed() {
    let mocks = json!({
        "StateMachines": {
            "orders": {"TestCases": {"HappyPath": {"GetObject": "Fine"}}},
            "other": {"TestCases": {"HappyPath": {}, "Shared": {}}},
            "third": {"TestCases": {"Shared": {}}}
        },
        "MockedResponses": {"Fine": {"0": returns(json!({"Body": "{\"id\":1}"}))}}
    });
    let s = Setup::new(
        json!({"StartAt": "GetObject", "States": {"GetObject": {"Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"}, "End": true}}}),
        mocks,
    );
    // The state machine named like the definition file wins.
    let ran = s.run("HappyPath", &[]);
    assert_eq!((ran.code, output(&ran)), (0, json!({"Body": "{\"id\":1}"})), "{}", ran.stderr);
    // Named explicitly, as in Step Functions Local's `…:stateMachine:other#HappyPath`.
    // The other machine does not mock the Task, so it calls S3: here a closed loopback port.
    let ran = Run::new(s.path("orders.asl.json").to_str().unwrap())
        .arg("--mock-config")
        .arg(s.path("mocks.json").to_str().unwrap())
        .arg("--mock-test-case")
        .arg("other#HappyPath")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .env("AWS_ACCESS_KEY_ID", "k")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .go();
    assert_eq!((ran.code, &output(&ran)["Error"]), (1, &json!("S3.SdkClientException")), "{}", ran.stderr);
    let ran = s.run("Shared", &[]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("other#Shared, third#Shared"), "{}", ran.stderr);
    let ran = s.run("Nope", &[]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("orders#HappyPath"), "{}", ran.stderr);
}

#[test]
fn mocks_are_refused_with_nats_and_need_both_flags() {
    let s = Setup::new(services_definition(), services_mocks());
    let ran = s.run("HappyPath", &["--nats", "nats://127.0.0.1:9"]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("--mock-config cannot be used with --nats"), "{}", ran.stderr);
    let ran = Run::new(s.path("orders.asl.json").to_str().unwrap())
        .arg("--mock-config")
        .arg(s.path("mocks.json").to_str().unwrap())
        .go();
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("--mock-test-case"), "{}", ran.stderr);
}

fn dmap_test(paths: &[&Path]) -> Ran {
    let out = Command::new(env!("CARGO_BIN_EXE_dmap")).arg("test").args(paths).output().expect("dmap runs");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn dmap_test_cases_use_a_mock_file_beside_them_or_inline() {
    let s = Setup::new(services_definition(), services_mocks());
    let cases = s.path("cases");
    std::fs::create_dir(&cases).expect("a cases directory");
    let happy = json!({
        "output": {"order": {"id": "order-7"}, "price": 12.5, "published": {"MessageId": "5a9c1e52-0001"}, "http": {"status": 202}}
    });
    let by_file = json!({
        "definition": services_definition(),
        "mock_config": "../mocks.json",
        "mock_test_case": "orders#HappyPath",
        "expected": {"status": "SUCCEEDED", "output": happy["output"]}
    });
    // Inline, with a state left to the case's own `tasks` mocks.
    let inline = json!({
        "definition": inline_map(),
        "input": {"items": ["x", "y"]},
        "mock_config": map_mocks(),
        "mock_test_case": "Sequence",
        "expected": {"status": "SUCCEEDED", "output": ["first", "middle"]}
    });
    let mixed = json!({
        "definition": services_definition(),
        "mock_config": "../mocks.json",
        "mock_test_case": "OnlyS3",
        "tasks": [
            {"resource": "arn:aws:lambda:us-east-1:123456789012:function:price", "behaviour": "constant", "returns": 3},
            {"resource": "arn:aws:states:::sns:publish", "behaviour": "constant", "returns": {"MessageId": "m"}},
            {"resource": "arn:aws:states:::http:invoke", "behaviour": "constant", "returns": {"StatusCode": 200}}
        ],
        "expected": {"status": "SUCCEEDED", "output": {"order": {"id": "order-7"}, "price": 3, "published": {"MessageId": "m"}, "http": {"status": 200}}}
    });
    let broken = json!({
        "definition": services_definition(),
        "mock_config": {"StateMachines": {"M": {"TestCases": {"T": {"Price": "R"}}}}, "MockedResponses": {"R": {"1-0": {"Return": 1}}}},
        "mock_test_case": "T",
        "expected": {"status": "SUCCEEDED"}
    });
    for (name, case) in [("by_file", by_file), ("inline", inline), ("mixed", mixed)] {
        std::fs::write(cases.join(format!("{name}.json")), case.to_string()).expect("write a case");
    }
    let ran = dmap_test(&[&cases]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("3 passed, 0 failed"), "{}", ran.stdout);

    let broken_path = s.path("broken.json");
    std::fs::write(&broken_path, broken.to_string()).expect("write a case");
    let ran = dmap_test(&[&broken_path]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("at /MockedResponses/R/1-0"), "{}", ran.stdout);
}
