//! Shared by the `lambda_*` tests: functions files in temporary directories, Task requests,
//! the Python example runtime, and a host that runs whole state machines against real
//! functions (so that Retry and Catch see the errors as the engine does).

#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Once;

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::eval::{ExecutionOptions, Host, Outcome, TaskRequest, execute};
use shared::asl::resource::Resource;
use tempfile::TempDir;
use worker::integrations::config::FunctionsFile;
use worker::integrations::lambda::Lambda;

pub const ARN_PREFIX: &str = "arn:aws:lambda:us-east-1:123456789012:function:";
pub const EXECUTION_ARN: &str = "arn:aws:states:eu-west-1:111111111111:execution:Machine:run";

/// The directory of the Python example runtime and handlers.
pub fn python_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/python").canonicalize().expect("examples/python exists")
}

/// Fails loudly, once, when python3 is missing: these tests run real processes.
pub fn require_python() {
    static CHECK: Once = Once::new();
    CHECK.call_once(|| {
        let ok = std::process::Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "these tests run Python functions: install python3 (e.g. `apt-get install python3`) and put it on PATH"
        );
    });
}

/// A `[functions.NAME]` table running `price.py`'s `handler` in the example runtime.
pub fn python_function(name: &str, handler: &str, extra: &str) -> String {
    require_python();
    let dir = python_dir();
    let runtime = dir.join("dmap_runtime.py");
    format!(
        "[functions.{name}]\ncommand = [\"python3\", {runtime:?}, \"price:{handler}\"]\nworking_dir = {dir:?}\n{extra}\n"
    )
}

/// A functions file with `text` in a fresh directory, and the `Lambda` built from it.
pub fn lambda(text: &str) -> (TempDir, Lambda) {
    lambda_with_limit(text, Some(256 * 1024))
}

pub fn lambda_with_limit(text: &str, limit: Option<usize>) -> (TempDir, Lambda) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("functions.toml");
    std::fs::write(&path, text).unwrap();
    let file = FunctionsFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
    (dir, Lambda::new(&file).with_max_response_bytes(limit))
}

/// A Task `Resource` as the parser types it.
pub fn resource(arn: &str) -> Resource {
    Resource::parse(arn).unwrap_or_else(|e| panic!("{arn}: {e}"))
}

/// A Task request as the engine makes it, with AWS's default timeout.
pub fn request(resource: &str, input: Value) -> TaskRequest {
    TaskRequest {
        state_name: "Work".into(),
        resource: std::sync::Arc::new(self::resource(resource)),
        input,
        timeout_seconds: 99_999_999,
        heartbeat_seconds: None,
        credentials: None,
        execution_arn: EXECUTION_ARN.into(),
        call_id: 2,
        task_token: None,
    }
}

pub fn arn(name: &str) -> String {
    format!("{ARN_PREFIX}{name}")
}

/// Calls the function `name` through its ARN.
pub async fn call(lambda: &Lambda, name: &str, event: Value) -> Result<Value, Failure> {
    lambda.invoke(request(&arn(name), event)).await
}

/// The error name of a failed call, and its cause parsed as JSON (`Null` when absent or not
/// JSON).
pub fn error_of(result: Result<Value, Failure>) -> (String, Value) {
    let failure = result.expect_err("the call should fail");
    let cause = failure.cause.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or(Value::Null);
    (failure.error.unwrap_or_default(), cause)
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Wall clock; waits (retry back-offs) end at once, so that Retry tests take no time.
pub struct LambdaHost {
    pub lambda: Lambda,
}

impl Host for LambdaHost {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep_until(&self, _deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        Box::pin(self.lambda.invoke(request))
    }
}

/// Runs a definition on `input` with the functions of `lambda`.
pub async fn run(lambda: Lambda, definition: Value, input: Value) -> Outcome {
    let (machine, _warnings) =
        shared::asl::parse::parse_value(&definition).unwrap_or_else(|d| panic!("invalid definition: {d:?}"));
    let host = LambdaHost { lambda };
    execute(&machine, input, &ExecutionOptions::default(), &host).await
}
