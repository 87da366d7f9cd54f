//! `command` functions (pools of JSON Lines processes) against real Python processes running
//! `examples/python/dmap_runtime.py`: results, AWS's error shapes, crashes, timeouts,
//! heartbeats, the environment, the response limit and the pool size.

mod lambda_support;

use std::time::{Duration, Instant};

use lambda_support::*;
use serde_json::{Value, json};
use shared::asl::eval::TaskRequest;
use worker::integrations::lambda::LAMBDA_INVOKE;

#[tokio::test]
async fn a_function_arn_returns_the_result_as_is() {
    let (_dir, lambda) = lambda(&python_function("price", "price", "env = { CURRENCY = \"EUR\" }"));
    let got = call(&lambda, "price", json!({"sku": "a-1", "quantity": 3, "unit_price": 2.5})).await;
    assert_eq!(got, Ok(json!({"sku": "a-1", "total": 7.5, "currency": "EUR"})));
    let batch = json!({"Items": [{"quantity": 1, "unit_price": 1}, {"quantity": 2, "unit_price": 1}]});
    let got = call(&lambda, "price", batch).await.unwrap();
    assert_eq!(got.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn lambda_invoke_wraps_the_result_for_every_form_of_function_name() {
    let (_dir, lambda) = lambda(&python_function("echo", "echo", ""));
    for name in [
        "echo",
        "echo:live",
        "123456789012:function:echo",
        "123456789012:function:echo:7",
        "arn:aws:lambda:eu-west-1:123456789012:function:echo:$LATEST",
    ] {
        let input = json!({"FunctionName": name, "Payload": {"a": [1, "two"]}});
        let got = lambda.invoke(request(LAMBDA_INVOKE, input)).await.unwrap_or_else(|f| panic!("{name}: {f}"));
        let keys: Vec<&str> = got.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"]);
        assert_eq!(got["Payload"], json!({"a": [1, "two"]}));
        assert_eq!(got["StatusCode"], 200);
        assert_eq!(got["ExecutedVersion"], "$LATEST");
        assert_eq!(got["SdkHttpMetadata"]["HttpStatusCode"], 200);
        let id = &got["SdkResponseMetadata"]["RequestId"];
        assert_eq!(&got["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"], id);
        assert_eq!(&got["SdkHttpMetadata"]["AllHttpHeaders"]["x-amzn-RequestId"][0], id);
    }
    // Without `Payload` the function receives an empty object, as on AWS.
    let got = lambda.invoke(request(LAMBDA_INVOKE, json!({"FunctionName": "echo"}))).await.unwrap();
    assert_eq!(got["Payload"], json!({}));
}

#[tokio::test]
async fn the_context_names_the_function_and_its_deadline() {
    let (_dir, ctx) = lambda_fn_returning_context();
    let got = ctx.invoke(request(LAMBDA_INVOKE, json!({"FunctionName": "ctx:live", "Payload": {}}))).await.unwrap();
    let context = &got["Payload"];
    assert_eq!(context["function_name"], "ctx");
    assert_eq!(context["invoked_function_arn"], "arn:aws:lambda:eu-west-1:111111111111:function:ctx:live");
    assert_eq!(context["memory_limit_in_mb"], 128);
    assert_eq!(context["aws_request_id"], got["SdkResponseMetadata"]["RequestId"]);
    let remaining = context["remaining"].as_u64().unwrap();
    assert!(remaining > 50_000 && remaining <= 60_000, "{remaining}");
}

/// A function whose handler is defined inline: it returns its context.
fn lambda_fn_returning_context() -> (tempfile::TempDir, worker::integrations::lambda::Lambda) {
    require_python();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ctx.py"),
        "def handler(event, context):\n    d = {k: v for k, v in vars(context).items() if not k.startswith('_')}\n    \
         d['remaining'] = context.get_remaining_time_in_millis()\n    return d\n",
    )
    .unwrap();
    let runtime = python_dir().join("dmap_runtime.py");
    let text =
        format!("[functions.ctx]\ncommand = [\"python3\", {runtime:?}, \"ctx:handler\"]\ntimeout_seconds = 60\n");
    std::fs::write(dir.path().join("functions.toml"), text).unwrap();
    let file = worker::integrations::config::FunctionsFile::load(&dir.path().join("functions.toml")).unwrap();
    (dir, worker::integrations::lambda::Lambda::new(&file))
}

#[tokio::test]
async fn a_function_error_is_named_by_its_error_type_with_lambdas_cause() {
    let (_dir, lambda) = lambda(&python_function("fail", "fail", ""));
    let failure = call(&lambda, "fail", json!({"sku": "x"})).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("PriceNotFound"));
    let cause: Value = serde_json::from_str(failure.cause.as_deref().unwrap()).unwrap();
    let keys: Vec<&str> = cause.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["errorMessage", "errorType", "requestId", "stackTrace"]);
    assert_eq!(cause["errorMessage"], "no price for sku 'x'");
    assert_eq!(cause["errorType"], "PriceNotFound");
    assert!(cause["stackTrace"][0].as_str().unwrap().contains("price.py"));
    assert!(!failure.cause.unwrap().contains(": "), "the cause is compact JSON");
}

#[tokio::test]
async fn a_module_that_cannot_be_imported_fails_every_call_with_import_module_error() {
    require_python();
    let runtime = python_dir().join("dmap_runtime.py");
    let (_dir, lambda) = lambda(&format!("[functions.gone]\ncommand = [\"python3\", {runtime:?}, \"nope:handler\"]\n"));
    for _ in 0..2 {
        let (error, cause) = error_of(call(&lambda, "gone", json!({})).await);
        assert_eq!(error, "Runtime.ImportModuleError");
        assert!(cause["errorMessage"].as_str().unwrap().contains("Unable to import module 'nope:handler'"));
    }
}

#[tokio::test]
async fn a_crashed_process_fails_its_call_and_is_replaced() {
    let (_dir, lambda) = lambda(&python_function("crash", "crash", "concurrency = 1"));
    let first = call(&lambda, "crash", json!({"crash": false})).await.unwrap();
    let (error, cause) = error_of(call(&lambda, "crash", json!({"crash": true})).await);
    assert_eq!(error, "Runtime.ExitError");
    let message = cause["errorMessage"].as_str().unwrap();
    assert!(message.starts_with("RequestId: "), "{message}");
    assert!(message.contains("Error: Runtime exited with error: exit status 3"), "{message}");
    assert!(message.contains("crashing on purpose"), "stderr's last lines are quoted: {message}");
    let next = call(&lambda, "crash", json!({"crash": false})).await.unwrap();
    assert_ne!(first["pid"], next["pid"], "a new process serves the next call");
}

#[tokio::test]
async fn processes_are_reused_between_calls() {
    let (_dir, lambda) = lambda(&python_function("crash", "crash", "concurrency = 1"));
    let a = call(&lambda, "crash", json!({})).await.unwrap();
    let b = call(&lambda, "crash", json!({})).await.unwrap();
    assert_eq!(a["pid"], b["pid"]);
}

#[tokio::test]
async fn the_functions_own_timeout_is_sandbox_timedout_and_the_process_is_replaced() {
    let (_dir, lambda) = lambda(&python_function("slow", "slow", "timeout_seconds = 1\nconcurrency = 1"));
    let started = Instant::now();
    let (error, cause) = error_of(call(&lambda, "slow", json!({"seconds": 60})).await);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(error, "Sandbox.Timedout");
    assert_eq!(cause["errorType"], "Sandbox.Timedout");
    let message = cause["errorMessage"].as_str().unwrap();
    assert!(message.starts_with("RequestId: ") && message.ends_with("Error: Task timed out after 1.00 seconds"));
    // The killed process is replaced: the next call is served.
    let got = call(&lambda, "slow", json!({"seconds": 0})).await.unwrap();
    assert_eq!(got["slept"], 0);
}

#[tokio::test]
async fn timeout_seconds_is_states_timeout_without_a_cause() {
    let (_dir, lambda) = lambda(&python_function("slow", "slow", ""));
    let request = TaskRequest { timeout_seconds: 1, ..request(&arn("slow"), json!({"seconds": 60})) };
    let failure = lambda.invoke(request).await.unwrap_err();
    assert_eq!((failure.error.as_deref(), failure.cause), (Some("States.Timeout"), None));
}

#[tokio::test]
async fn heartbeats_keep_a_call_alive_past_heartbeat_seconds() {
    let (_dir, lambda) = lambda(&python_function("beat", "heartbeat", "concurrency = 1"));
    // A warm process: its start-up time is not what this test measures.
    call(&lambda, "beat", json!({"beats": 0, "interval": 0})).await.unwrap();
    let started = Instant::now();
    let input = json!({"beats": 6, "interval": 0.3});
    let request = TaskRequest { heartbeat_seconds: Some(1), ..request(&arn("beat"), input) };
    let got = lambda.invoke(request).await.unwrap();
    assert_eq!(got["beats"], 6);
    assert!(started.elapsed() > Duration::from_secs(1), "the call outlived HeartbeatSeconds");
}

#[tokio::test]
async fn a_call_without_heartbeats_times_out_at_heartbeat_seconds() {
    let (_dir, lambda) = lambda(&python_function("slow", "slow", ""));
    let request = TaskRequest { heartbeat_seconds: Some(1), ..request(&arn("slow"), json!({"seconds": 60})) };
    let failure = lambda.invoke(request).await.unwrap_err();
    assert_eq!((failure.error.as_deref(), failure.cause), (Some("States.Timeout"), None));
}

#[tokio::test]
async fn an_unknown_function_names_itself_and_the_functions_file() {
    let (dir, lambda) = lambda(&python_function("price", "price", ""));
    let (error, _) = error_of(call(&lambda, "nope", json!({})).await);
    assert_eq!(error, "Lambda.ResourceNotFoundException");
    let failure = call(&lambda, "nope", json!({})).await.unwrap_err();
    let cause = failure.cause.unwrap();
    assert!(cause.starts_with("Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"), "{cause}");
    assert!(
        cause.contains("[functions.nope]") && cause.contains(&dir.path().join("functions.toml").display().to_string())
    );

    assert!(lambda.has_function("price") && lambda.has_function("123456789012:function:price:live"));
    assert!(!lambda.has_function("nope"));
    assert_eq!(lambda.resolves(&resource(LAMBDA_INVOKE), &json!({"FunctionName": "price:1"})), Some("price"));
    assert_eq!(lambda.resolves(&resource(&arn("nope")), &json!({})), None);
    assert_eq!(lambda.describe_missing(&resource(&arn("price")), &json!({})), None);
    let missing =
        lambda.describe_missing(&resource(LAMBDA_INVOKE), &json!({"FunctionName": "nope", "Payload.$": "$"})).unwrap();
    assert!(missing.contains("[functions.nope]"), "{missing}");
    // Only known at run time, or not a Lambda resource: nothing to say up front.
    assert_eq!(lambda.describe_missing(&resource(LAMBDA_INVOKE), &json!({"FunctionName.$": "$.f"})), None);
    assert_eq!(lambda.describe_missing(&resource("arn:aws:states:::http:invoke"), &json!({})), None);
}

#[tokio::test]
async fn lambda_invoke_without_a_function_name_is_a_runtime_error() {
    let (_dir, lambda) = lambda(&python_function("echo", "echo", ""));
    let (error, _) = error_of(lambda.invoke(request(LAMBDA_INVOKE, json!({"Payload": {}}))).await);
    assert_eq!(error, "States.Runtime");
}

#[tokio::test]
async fn the_process_sees_only_the_configured_environment_and_path() {
    let (_dir, lambda) = lambda(&python_function("env", "environment", "env = { CURRENCY = \"EUR\", LEVEL = 3 }"));
    let got = call(&lambda, "env", json!({})).await.unwrap();
    assert_eq!(got["CURRENCY"], "EUR");
    assert_eq!(got["LEVEL"], "3");
    // A version manager's shim (pyenv) may put its own directories in front.
    assert!(got["PATH"].as_str().unwrap().ends_with(&std::env::var("PATH").unwrap()));
    for leaked in ["HOME", "CARGO_MANIFEST_DIR", "CARGO_PKG_NAME", "USER"] {
        assert!(got.get(leaked).is_none(), "{leaked} leaked into the function's environment");
    }
}

#[tokio::test]
async fn a_response_over_the_limit_fails_the_call_and_the_next_one_works() {
    let (_dir, lambda) = lambda_with_limit(&python_function("big", "big", "concurrency = 1"), Some(10_000));
    let (error, _) = error_of(call(&lambda, "big", json!({"bytes": 50_000})).await);
    assert_eq!(error, "States.DataLimitExceeded");
    assert_eq!(call(&lambda, "big", json!({"bytes": 5})).await, Ok(json!("xxxxx")));
}

#[tokio::test]
async fn without_payload_limits_lambdas_own_cap_still_bounds_a_response() {
    let (_dir, lambda) = lambda_with_limit(&python_function("big", "big", ""), None);
    assert_eq!(call(&lambda, "big", json!({"bytes": 300_000})).await.unwrap().as_str().map(str::len), Some(300_000));
    let (error, cause) = error_of(call(&lambda, "big", json!({"bytes": 7_000_000})).await);
    assert_eq!(error, "Function.ResponseSizeTooLarge");
    assert_eq!(cause["errorType"], "Function.ResponseSizeTooLarge");
}

#[tokio::test]
async fn the_pool_runs_at_most_concurrency_processes() {
    let (_dir, lambda) = lambda(&python_function("slow", "slow", "concurrency = 2"));
    let lambda = std::sync::Arc::new(lambda);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let lambda = lambda.clone();
        calls.spawn(async move { call(&lambda, "slow", json!({"seconds": 0.2})).await });
    }
    let mut pids = Vec::new();
    while let Some(done) = calls.join_next().await {
        pids.push(done.unwrap().unwrap()["pid"].as_i64().unwrap());
    }
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), 2, "two processes served six calls");
}

#[tokio::test]
async fn a_line_that_breaks_the_protocol_is_a_service_exception() {
    // The script is constant; the event only ever reaches the process on stdin.
    let (_dir, lambda) = lambda("[functions.bad]\ncommand = [\"sh\", \"-c\", \"read line; echo not-json\"]\n");
    let (error, _) = error_of(call(&lambda, "bad", json!({})).await);
    assert_eq!(error, "Lambda.ServiceException");
}

#[tokio::test]
async fn a_program_that_cannot_start_is_an_invalid_entrypoint() {
    let (_dir, lambda) = lambda("[functions.none]\ncommand = [\"./does-not-exist\"]\n");
    let (error, cause) = error_of(call(&lambda, "none", json!({})).await);
    assert_eq!(error, "Runtime.InvalidEntrypoint");
    assert!(cause["errorMessage"].as_str().unwrap().contains("'none'"));
}
