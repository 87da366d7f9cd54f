//! Lambda Tasks without a functions file call AWS Lambda's Invoke API (restJson1): played here
//! by a small responder, since moto runs functions only in Docker. Results and failures have
//! the shapes Step Functions gives them, as for local functions. Also the client's ceiling on
//! a response body, on the same path.

mod http_support;

use std::sync::Arc;

use http_support::{Received, Reply, Server};
use serde_json::{Value, json};
use shared::asl::eval::TaskRequest;
use shared::asl::resource::Resource;
use worker::integrations::aws::profile::Env;
use worker::integrations::aws::{Aws, AwsOptions, lambda};

/// Plays Lambda: `price` doubles `n`; `broken` fails as the Python runtime reports an error.
async fn lambda_service() -> Server {
    Server::start(|r: &Received| {
        let event: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        // The function as the Task wrote it, a name or an ARN (percent-encoded in the path).
        let function = r.target.strip_prefix("/2015-03-31/functions/").and_then(|p| p.strip_suffix("/invocations"));
        let function = function.map(|f| f.replace("%3A", ":")).unwrap_or_default();
        match function.rsplit(':').next().unwrap_or_default() {
            "price" => Reply::json(200, json!({"price": event["n"].as_i64().unwrap_or(0) * 2}))
                .header("x-amz-executed-version", "$LATEST")
                .header("x-amzn-requestid", "req-1"),
            "broken" => Reply::json(200, json!({"errorMessage": "no price", "errorType": "ValueError"}))
                .header("x-amz-function-error", "Unhandled")
                .header("x-amzn-requestid", "req-2"),
            _ => Reply::json(404, json!({"Type": "User", "message": format!("Function not found: {function}")}))
                .header("x-amzn-errortype", "ResourceNotFoundException"),
        }
    })
    .await
}

fn aws(url: String) -> Aws {
    let env = Env::from_pairs(vec![
        ("AWS_ENDPOINT_URL", url),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
    ]);
    Aws::new(AwsOptions { env: Some(env), ..AwsOptions::default() }).unwrap()
}

fn task(resource: &str, input: Value) -> TaskRequest {
    TaskRequest {
        state_name: "Price".into(),
        resource: Arc::new(Resource::parse(resource).unwrap()),
        input,
        timeout_seconds: 60,
        heartbeat_seconds: None,
        credentials: None,
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:Orders:run-1".into(),
        call_id: 2,
        task_token: None,
    }
}

#[tokio::test]
async fn lambda_invoke_sends_the_payload_and_wraps_the_result_as_step_functions_does() {
    let mut server = lambda_service().await;
    let aws = aws(server.url(""));
    let request = task("arn:aws:states:::lambda:invoke", json!({"FunctionName": "price", "Payload": {"n": 21}}));
    let out = lambda::invoke(&aws, &request).await.unwrap();
    assert_eq!(out["Payload"], json!({"price": 42}));
    assert_eq!(out["StatusCode"], 200);
    assert_eq!(out["ExecutedVersion"], "$LATEST");
    let sent = server.request();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.header("x-amz-invocation-type"), Some("RequestResponse"));
    assert_eq!(serde_json::from_slice::<Value>(&sent.body).unwrap(), json!({"n": 21}));
    assert!(sent.header("authorization").is_some_and(|a| a.contains("/us-east-1/lambda/aws4_request")));
}

#[tokio::test]
async fn a_function_arn_returns_the_result_as_is_and_a_function_error_by_its_type() {
    let server = lambda_service().await;
    let aws = aws(server.url(""));
    let ok = task("arn:aws:lambda:us-east-1:123456789012:function:price", json!({"n": 5}));
    assert_eq!(lambda::invoke(&aws, &ok).await.unwrap(), json!({"price": 10}));
    let broken = task("arn:aws:lambda:us-east-1:123456789012:function:broken", json!({}));
    let failure = lambda::invoke(&aws, &broken).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("ValueError"));
    let cause: Value = serde_json::from_str(failure.cause.as_deref().unwrap()).unwrap();
    assert_eq!((cause["errorMessage"].as_str(), cause["errorType"].as_str()), (Some("no price"), Some("ValueError")));
    let missing = task("arn:aws:states:::lambda:invoke", json!({"FunctionName": "nosuch"}));
    let failure = lambda::invoke(&aws, &missing).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("Lambda.ResourceNotFoundException"));
}

/// An endpoint whose answer never ends fails the call once 64 MiB have been read, instead of
/// growing the process without bound.
#[tokio::test]
async fn an_endless_response_fails_the_call_at_the_ceiling() {
    static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];
    let server = Server::always(Reply::endless(&CHUNK)).await;
    let aws = aws(server.url(""));
    let request = task("arn:aws:states:::lambda:invoke", json!({"FunctionName": "price", "Payload": {}}));
    let failure = lambda::invoke(&aws, &request).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("Lambda.SdkClientException"));
    assert!(failure.cause.as_deref().is_some_and(|c| c.contains("larger than 64 MiB")), "{failure:?}");
}
