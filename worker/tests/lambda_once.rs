//! `per_invocation = true` functions: one real process per call (`cat`, `env`, `sh` scripts
//! whose text is fixed in the functions file; events only ever travel on stdin).

mod lambda_support;

use std::os::unix::fs::PermissionsExt;

use lambda_support::*;
use serde_json::json;
use shared::asl::eval::TaskRequest;
use worker::integrations::config::FunctionsFile;
use worker::integrations::lambda::{LAMBDA_INVOKE, Lambda};

fn once(name: &str, command: &str, extra: &str) -> String {
    format!("[functions.{name}]\ncommand = {command}\nper_invocation = true\n{extra}\n")
}

#[tokio::test]
async fn the_event_goes_to_stdin_untouched_and_stdout_is_the_result() {
    let (_dir, lambda) = lambda(&once("echo", r#"["cat"]"#, ""));
    // Shell syntax in item data is inert: it never reaches a command line.
    let event = json!({"s": "$(touch pwned); `id`; ' \" \\ \n", "n": [1, 2.5, null, true]});
    assert_eq!(call(&lambda, "echo", event.clone()).await, Ok(event));
}

#[tokio::test]
async fn plain_text_output_is_a_string_payload() {
    let (_dir, lambda) = lambda(&once("hello", r#"["sh", "-c", "cat >/dev/null; printf 'hello world'"]"#, ""));
    let input = json!({"FunctionName": "hello", "Payload": {"x": 1}});
    let got = lambda.invoke(request(LAMBDA_INVOKE, input)).await.unwrap();
    assert_eq!(got["Payload"], "hello world");
    assert_eq!(call(&lambda, "hello", json!({})).await, Ok(json!("hello world")));
}

#[tokio::test]
async fn only_the_configured_environment_path_and_aws_variables_reach_the_process() {
    let (_dir, lambda) = lambda(&once("env", r#"["env"]"#, "env = { CURRENCY = \"EUR\" }"));
    let got = call(&lambda, "env", json!({})).await.unwrap();
    let mut lines: Vec<&str> = got.as_str().unwrap().lines().collect();
    lines.sort();
    // Lambda gives a function its execution role's AWS_* variables; the worker passes its own.
    let mut want: Vec<String> =
        std::env::vars().filter(|(k, _)| k.starts_with("AWS_")).map(|(k, v)| format!("{k}={v}")).collect();
    want.push("CURRENCY=EUR".into());
    want.push(format!("PATH={}", std::env::var("PATH").unwrap()));
    want.sort();
    assert_eq!(lines, want);
}

#[tokio::test]
async fn a_non_zero_exit_is_runtime_exit_error_with_the_last_stderr_lines() {
    let script = r#"["sh", "-c", "cat >/dev/null; echo first >&2; echo 'it broke' >&2; exit 4"]"#;
    let (_dir, lambda) = lambda(&once("broken", script, ""));
    let (error, cause) = error_of(call(&lambda, "broken", json!({})).await);
    assert_eq!(error, "Runtime.ExitError");
    let message = cause["errorMessage"].as_str().unwrap();
    assert!(message.contains("Runtime exited with error: exit status 4\nfirst\nit broke"), "{message}");
}

#[tokio::test]
async fn an_error_object_on_stdout_is_the_functions_own_error() {
    let script = r#"["sh", "-c", "cat >/dev/null; echo '{\"errorType\": \"OutOfStock\", \"errorMessage\": \"none left\"}'; exit 1"]"#;
    let (_dir, lambda) = lambda(&once("stock", script, ""));
    let (error, cause) = error_of(call(&lambda, "stock", json!({})).await);
    assert_eq!(error, "OutOfStock");
    assert_eq!(cause["errorMessage"], "none left");
}

#[tokio::test]
async fn both_timeouts_end_the_call() {
    let (_dir, lambda) = lambda(&once("sleepy", r#"["sh", "-c", "exec sleep 60"]"#, "timeout_seconds = 1"));
    let (error, cause) = error_of(call(&lambda, "sleepy", json!({})).await);
    assert_eq!(error, "Sandbox.Timedout");
    assert!(cause["errorMessage"].as_str().unwrap().ends_with("Task timed out after 1.00 seconds"));
    let request = TaskRequest { timeout_seconds: 1, ..request(&arn("sleepy"), json!({})) };
    let (_dir, lambda) = lambda_support::lambda(&once("sleepy", r#"["sh", "-c", "exec sleep 60"]"#, ""));
    assert_eq!(error_of(lambda.invoke(request).await).0, "States.Timeout");
}

#[tokio::test]
async fn output_over_the_limit_fails_the_call() {
    let script = r#"["sh", "-c", "cat >/dev/null; head -c 50000 /dev/zero | tr '\\0' x"]"#;
    let (_dir, lambda) = lambda_with_limit(&once("flood", script, ""), Some(10_000));
    assert_eq!(error_of(call(&lambda, "flood", json!({})).await).0, "States.DataLimitExceeded");
}

#[tokio::test]
async fn relative_programs_and_working_dirs_resolve_against_the_functions_file() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("echo.sh");
    std::fs::write(&script, "#!/bin/sh\ncat\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let text = once("echo", r#"["./echo.sh"]"#, "") + &once("where", r#"["pwd"]"#, "working_dir = \"sub\"");
    std::fs::write(dir.path().join("functions.toml"), text).unwrap();
    let lambda = Lambda::new(&FunctionsFile::load(&dir.path().join("functions.toml")).unwrap());
    assert_eq!(call(&lambda, "echo", json!([1])).await, Ok(json!([1])));
    let got = call(&lambda, "where", json!({})).await.unwrap();
    let sub = dir.path().join("sub").canonicalize().unwrap();
    assert_eq!(std::path::Path::new(got.as_str().unwrap().trim()).canonicalize().unwrap(), sub);
}
