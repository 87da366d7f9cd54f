use serde_json::json;

use super::*;

/// The example of AWS's page "Configuration file for mocked service integrations", typed in.
const AWS_EXAMPLE: &str = r#"{
  "StateMachines": {
    "LambdaSQSIntegration": {
      "TestCases": {
        "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
        "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
        "HybridPath": {"LambdaState": "MockedLambdaSuccess"}
      }
    }
  },
  "MockedResponses": {
    "MockedLambdaSuccess": {
      "0": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}
    },
    "LambdaMockedResourceNotReady": {
      "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}}
    },
    "MockedSQSSuccess": {
      "0": {"Return": {"MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51", "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}}
    },
    "MockedLambdaRetry": {
      "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}},
      "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
      "3": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}
    }
  }
}"#;

fn throw(error: &str, cause: &str) -> Option<Response> {
    Some(Response::Throw(Failure::new(error, cause)))
}

#[test]
fn reads_aws_example_with_inclusive_ranges() {
    let config = MockConfig::parse(AWS_EXAMPLE).expect("AWS's own example is valid");
    assert_eq!(config.state_machines["LambdaSQSIntegration"]["HybridPath"].len(), 1);
    assert_eq!(config.state_machines["LambdaSQSIntegration"]["RetryPath"]["LambdaState"], "MockedLambdaRetry");
    let retry = &config.responses["MockedLambdaRetry"];
    assert_eq!(retry.get(0).cloned(), throw("Lambda.ResourceNotReadyException", "Lambda resource is not ready."));
    assert_eq!(retry.get(1).cloned(), throw("Lambda.TimeoutException", "Lambda timed out."));
    assert_eq!(retry.get(2).cloned(), throw("Lambda.TimeoutException", "Lambda timed out."));
    assert_eq!(
        retry.get(3).cloned(),
        Some(Response::Return(
            json!({"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}})
        ))
    );
    assert_eq!(retry.get(4), None);
    assert_eq!(retry.describe_keys(), "0, 1-2, 3");
}

#[test]
fn a_return_may_be_any_json_and_a_throw_may_omit_its_cause() {
    let text = r#"{"StateMachines": {}, "MockedResponses": {
        "Scalar": {"0": {"Return": "text"}, "1": {"Return": null}},
        "NoCause": {"0": {"Throw": {"Error": "Custom.Error"}}},
        "Gap": {"1": {"Return": 1}},
        "Empty": {}
    }}"#;
    let config = MockConfig::parse(text).expect("valid");
    assert_eq!(config.responses["Scalar"].get(0).cloned(), Some(Response::Return(json!("text"))));
    assert_eq!(config.responses["Scalar"].get(1).cloned(), Some(Response::Return(Value::Null)));
    assert_eq!(config.responses["NoCause"].get(0).cloned(), Some(Response::Throw(Failure::named("Custom.Error"))));
    // Step Functions Local accepts a response without invocation 0, and one without any:
    // the invocation that finds nothing fails at run time.
    assert_eq!(config.responses["Gap"].get(0), None);
    assert_eq!(config.responses["Empty"].get(0), None);
}

fn problems(text: &str) -> Vec<(String, String)> {
    MockConfig::parse(text).expect_err("invalid").into_iter().map(|p| (p.pointer, p.message)).collect()
}

fn pointers(text: &str) -> Vec<String> {
    let mut p: Vec<String> = problems(text).into_iter().map(|(p, _)| p).collect();
    p.sort();
    p
}

#[test]
fn every_problem_is_reported_at_its_pointer() {
    let text = r#"{
      "StateMachines": {"M": {"TestCases": {
          "C": {"A": "Ok", "B": "Missing", "C/1": 7}
      }}},
      "MockedResponses": {
        "Ok": {"0": {"Return": 1}},
        "Bad": {
          "2-1": {"Return": 1},
          "x": {"Return": 1},
          "-1": {"Return": 1},
          "1-": {"Return": 1},
          "3": {"Return": 1, "Throw": {"Error": "E", "Cause": "c"}},
          "4": {},
          "5": {"Throw": {"Cause": "no error"}},
          "6": {"Throw": {"Error": 5}},
          "7": {"Retrun": 1}
        }
      }
    }"#;
    assert_eq!(
        pointers(text),
        [
            "/MockedResponses/Bad/-1",
            "/MockedResponses/Bad/1-",
            "/MockedResponses/Bad/2-1",
            "/MockedResponses/Bad/3",
            "/MockedResponses/Bad/4",
            "/MockedResponses/Bad/5/Throw",
            "/MockedResponses/Bad/6/Throw/Error",
            "/MockedResponses/Bad/7",
            "/MockedResponses/Bad/7/Retrun",
            "/MockedResponses/Bad/x",
            "/StateMachines/M/TestCases/C/B",
            "/StateMachines/M/TestCases/C/C~11",
        ]
    );
    let by_pointer: std::collections::HashMap<String, String> = problems(text).into_iter().collect();
    assert!(by_pointer["/MockedResponses/Bad/2-1"].contains("ends before it starts"));
    assert!(by_pointer["/StateMachines/M/TestCases/C/B"].contains("no mocked response named 'Missing'"));
    assert!(by_pointer["/MockedResponses/Bad/3"].contains("not both"));
}

#[test]
fn overlapping_invocations_are_refused() {
    let text = r#"{"StateMachines": {}, "MockedResponses": {"R": {
        "0-2": {"Return": 1}, "2": {"Return": 2}, "5-6": {"Return": 3}, "4-5": {"Return": 4}
    }}}"#;
    assert_eq!(pointers(text), ["/MockedResponses/R/2", "/MockedResponses/R/5-6"]);
}

#[test]
fn the_document_shape_is_checked() {
    assert_eq!(pointers("[]"), [""]);
    assert_eq!(pointers("{"), [""]);
    // The singular spelling in one sentence of AWS's page is not what its examples use.
    assert_eq!(pointers(r#"{"StateMachines": {}, "MockedResponse": {}}"#), ["", "/MockedResponse"]);
    assert_eq!(
        pointers(r#"{"StateMachines": {"M": {"Cases": {}}}, "MockedResponses": {}}"#),
        ["/StateMachines/M", "/StateMachines/M/Cases"]
    );
    assert_eq!(
        pointers(r#"{"StateMachines": {"M": {"TestCases": {"C": []}}}, "MockedResponses": {"R": []}}"#),
        ["/MockedResponses/R", "/StateMachines/M/TestCases/C"]
    );
}
