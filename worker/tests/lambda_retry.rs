//! Whole state machines whose Tasks call real functions: Retry and Catch see each kind of
//! Lambda failure under the name AWS gives it.

mod lambda_support;

use lambda_support::*;
use serde_json::{Value, json};
use shared::asl::eval::Status;

/// A machine with one Task `Work` (the given fields). Its catchers put the error output under
/// `$.error` and go to `Caught` (or the Pass they name), which ends the execution.
fn machine(task: Value) -> Value {
    let mut task = task;
    task["Type"] = json!("Task");
    task["End"] = json!(true);
    let mut states = serde_json::Map::new();
    if let Some(catch) = task.get_mut("Catch").and_then(Value::as_array_mut) {
        for catcher in catch {
            catcher["ResultPath"] = json!("$.error");
            let next = catcher.as_object_mut().unwrap().entry("Next").or_insert(json!("Caught"));
            let pass = json!({"Type": "Pass", "Result": next.clone(), "ResultPath": "$.caught_by", "End": true});
            states.insert(next.as_str().unwrap().to_string(), pass);
        }
    }
    states.insert("Work".into(), task);
    json!({"StartAt": "Work", "States": states})
}

/// Runs `task` over `input` and returns the output, which must exist.
async fn check(functions: &str, task: Value, input: Value) -> Value {
    let (_dir, lambda) = lambda(functions);
    let outcome = run(lambda, machine(task), input).await;
    assert_eq!(outcome.status, Status::Succeeded, "{outcome:?}");
    outcome.output.unwrap()
}

fn cause(output: &Value) -> Value {
    serde_json::from_str(output["error"]["Cause"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn retry_on_a_custom_error_reaches_the_same_long_lived_process() {
    let functions = python_function("flaky", "flaky", "concurrency = 1");
    let task = json!({
        "Resource": arn("flaky"),
        "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 3}],
    });
    assert_eq!(check(&functions, task, json!({"failures": 2})).await, json!({"calls": 3}));
}

#[tokio::test]
async fn catch_on_a_custom_error_gets_lambdas_cause() {
    let task = json!({
        "Resource": arn("fail"),
        "Catch": [{"ErrorEquals": ["PriceNotFound"]}],
    });
    let output = check(&python_function("fail", "fail", ""), task, json!({"sku": "z"})).await;
    assert_eq!(output["error"]["Error"], "PriceNotFound");
    assert_eq!(cause(&output)["errorMessage"], "no price for sku 'z'");
    assert_eq!(output["sku"], "z", "ResultPath kept the input");
}

#[tokio::test]
async fn catch_on_sandbox_timedout() {
    let task = json!({"Resource": arn("slow"), "Catch": [{"ErrorEquals": ["Sandbox.Timedout"]}]});
    let output = check(&python_function("slow", "slow", "timeout_seconds = 1"), task, json!({"seconds": 60})).await;
    assert_eq!(output["error"]["Error"], "Sandbox.Timedout");
    assert_eq!(cause(&output)["errorType"], "Sandbox.Timedout");
}

#[tokio::test]
async fn timeout_seconds_is_caught_as_states_timeout_and_not_as_task_failed() {
    let task = json!({
        "Resource": arn("slow"),
        "TimeoutSeconds": 1,
        "Catch": [
            {"ErrorEquals": ["States.TaskFailed"], "Next": "TaskFailed"},
            {"ErrorEquals": ["States.Timeout"]},
        ],
    });
    let output = check(&python_function("slow", "slow", ""), task, json!({"seconds": 60})).await;
    assert_eq!(output["error"], json!({"Error": "States.Timeout"}));
    assert_eq!(output["caught_by"], "Caught");
}

#[tokio::test]
async fn heartbeat_seconds_lets_a_heartbeating_function_finish_and_times_out_a_silent_one() {
    let functions = python_function("beat", "heartbeat", "") + &python_function("slow", "slow", "");
    let task = json!({"Resource": arn("beat"), "HeartbeatSeconds": 2, "TimeoutSeconds": 60});
    let output = check(&functions, task, json!({"beats": 10, "interval": 0.3})).await;
    assert_eq!(output["beats"], 10);

    let task = json!({
        "Resource": arn("slow"),
        "HeartbeatSeconds": 1,
        "TimeoutSeconds": 60,
        "Catch": [{"ErrorEquals": ["States.Timeout"]}],
    });
    let output = check(&functions, task, json!({"seconds": 60})).await;
    assert_eq!(output["error"]["Error"], "States.Timeout");
}

#[tokio::test]
async fn a_crash_is_retried_then_caught_as_runtime_exit_error() {
    let task = json!({
        "Resource": arn("crash"),
        "Retry": [{"ErrorEquals": ["Runtime.ExitError"], "MaxAttempts": 1}],
        "Catch": [{"ErrorEquals": ["States.TaskFailed"]}],
    });
    let output = check(&python_function("crash", "crash", ""), task, json!({"crash": true})).await;
    assert_eq!(output["error"]["Error"], "Runtime.ExitError");
}

#[tokio::test]
async fn an_unknown_function_is_caught_by_states_all() {
    let task = json!({"Resource": arn("nope"), "Catch": [{"ErrorEquals": ["States.ALL"]}]});
    let output = check(&python_function("price", "price", ""), task, json!({})).await;
    assert_eq!(output["error"]["Error"], "Lambda.ResourceNotFoundException");
}

#[tokio::test]
async fn lambda_invoke_with_parameters_and_result_selector() {
    let task = json!({
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "price:live", "Payload.$": "$.line"},
        "ResultSelector": {"total.$": "$.Payload.total", "status.$": "$.StatusCode"},
        "ResultPath": "$.priced",
    });
    let input = json!({"line": {"sku": "a", "quantity": 4, "unit_price": 0.5}});
    let output = check(&python_function("price", "price", ""), task, input).await;
    assert_eq!(output["priced"], json!({"total": 2.0, "status": 200}));
}
