//! Lambda resources served by local implementations named in the functions file.
//!
//! A Task reaches a function in two ways, both as on AWS:
//! - `Resource` = the function's ARN: the effective input is the event, the function's result
//!   is the Task's result as is;
//! - `Resource` = `arn:aws:states:::lambda:invoke` with `FunctionName` (name, partial or full
//!   ARN, with or without version or alias) and `Payload`: the result is wrapped as Lambda's
//!   Invoke response (`Payload`, `StatusCode`, `ExecutedVersion`, `Sdk…Metadata`).
//!
//! Failures carry AWS's names and causes (`reply`), and the Task's `TimeoutSeconds` and
//! `HeartbeatSeconds` are enforced here (`deadline`), the only place that sees heartbeats.
//! This module does not decide which resources a host routes to it: the host asks
//! [`is_lambda_resource`].

mod deadline;
mod group;
mod once;
mod pool;
mod process;
mod reply;
mod resource;
mod stderr;
mod url;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use shared::asl::Failure;
use shared::asl::error_name::{RUNTIME, TASK_FAILED};
use shared::asl::eval::TaskRequest;
use shared::asl::resource::Resource;

pub use group::kill_all as kill_all_processes;
pub use reply::{LAMBDA_RESPONSE_LIMIT, invoke_response};
pub use resource::{LAMBDA_INVOKE, bare_name, is_lambda_resource};

use self::deadline::Deadlines;
use self::resource::{Style, Target};
use crate::integrations::config::{FunctionsFile, Implementation};

/// AWS's payload limit, the default bound on a function's response.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// The configured functions, ready to be called. Processes start on first use and are killed
/// when the `Lambda` is dropped.
pub struct Lambda {
    file: PathBuf,
    functions: BTreeMap<String, Runner>,
    max_response_bytes: usize,
}

impl std::fmt::Debug for Lambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lambda").field("file", &self.file).field("functions", &self.functions.keys()).finish()
    }
}

/// How one function is served.
enum Runner {
    Pool(pool::Pool),
    Once(once::Once),
    Url(url::Url),
}

impl Lambda {
    /// Every function of `file`, with responses limited to 256 KiB.
    pub fn new(file: &FunctionsFile) -> Lambda {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // One HTTP client for every `url` function: they share its connection pool.
        let mut client = None;
        let functions = file
            .functions
            .iter()
            .map(|(name, f)| {
                let runner = match &f.implementation {
                    Implementation::Command { command, per_invocation: false } => {
                        Runner::Pool(pool::Pool::new(f.clone(), command.clone(), f.concurrency_or(cores)))
                    }
                    Implementation::Command { command, per_invocation: true } => {
                        Runner::Once(once::Once::new(f.clone(), command.clone(), f.concurrency_or(cores)))
                    }
                    Implementation::Url { url } => {
                        let client = client.get_or_insert_with(|| {
                            reqwest::Client::builder().build().map_err(|e| format!("cannot build an HTTP client: {e}"))
                        });
                        Runner::Url(url::Url::new(f.clone(), url.clone(), client.clone()))
                    }
                };
                (name.clone(), runner)
            })
            .collect();
        Lambda { file: file.path.clone(), functions, max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES }
    }

    /// Sets the response limit; `None` (`--no-payload-limits`) leaves only Lambda's own 6 MB
    /// cap, which also keeps memory bounded.
    pub fn with_max_response_bytes(mut self, limit: Option<usize>) -> Lambda {
        self.max_response_bytes = limit.map_or(LAMBDA_RESPONSE_LIMIT, |n| n.min(LAMBDA_RESPONSE_LIMIT));
        self
    }

    /// The functions file the functions come from.
    pub fn functions_file(&self) -> &Path {
        &self.file
    }

    /// The names of every configured function, sorted.
    pub fn function_names(&self) -> impl Iterator<Item = &str> {
        self.functions.keys().map(String::as_str)
    }

    /// Whether a function is configured under this name (also given as a partial or full ARN,
    /// with or without qualifier).
    pub fn has_function(&self, name: &str) -> bool {
        bare_name(name).is_some_and(|n| self.functions.contains_key(n))
    }

    /// The configured function a Task call would reach, if any. `input` is the effective input
    /// (for `lambda:invoke`, the object holding `FunctionName`).
    pub fn resolves(&self, resource: &Resource, input: &Value) -> Option<&str> {
        let target = resource::target(resource, input).ok()??;
        self.functions.get_key_value(target.name).map(|(k, _)| k.as_str())
    }

    /// Why a Task's Lambda call cannot be served, for refusing a definition before it runs:
    /// `Some` when the function is named statically (a function ARN resource, or a literal
    /// `FunctionName` in `input`, the Task's `Parameters`) and is not configured. `None` when
    /// it is configured, not a Lambda resource, or only known at run time.
    pub fn describe_missing(&self, resource: &Resource, input: &Value) -> Option<String> {
        let target = resource::target(resource, input).ok()??;
        if self.functions.contains_key(target.name) {
            return None;
        }
        Some(self.not_configured(&target))
    }

    fn not_configured(&self, target: &Target<'_>) -> String {
        format!(
            "the functions file {} has no [functions.{}] (the Task calls '{}')",
            self.file.display(),
            target.name,
            target.written
        )
    }

    /// Calls the function a Task names and returns the Task's result, or its failure with
    /// AWS's error name and cause.
    pub async fn invoke(&self, request: TaskRequest) -> Result<Value, Failure> {
        let target = match resource::target(&request.resource, &request.input) {
            Ok(Some(target)) => target,
            Ok(None) => {
                let cause = format!("'{}' is not a Lambda resource", request.resource);
                return Err(Failure::new(TASK_FAILED, cause));
            }
            Err(cause) => return Err(Failure::new(RUNTIME, cause)),
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let invoked_arn = resource::invoked_arn(target.written, target.name, &request.execution_arn);
        let Some(runner) = self.functions.get(target.name) else {
            let cause = format!(
                "Function not found: {invoked_arn} (Service: AWSLambda; Status Code: 404; Error Code: \
                 ResourceNotFoundException; Request ID: {request_id}). dmap: {}",
                self.not_configured(&target)
            );
            return Err(Failure::new("Lambda.ResourceNotFoundException", cause));
        };
        // AWS invokes with an empty object when `Payload` is left out.
        let empty = Value::Object(Map::new());
        let event = match target.style {
            Style::Arn => &request.input,
            Style::Invoke => request.input.get("Payload").unwrap_or(&empty),
        };
        let function = runner.function();
        let mut call = Call {
            state_name: &request.state_name,
            function_name: &function.name,
            event,
            request_id,
            invoked_arn,
            deadlines: Deadlines::new(request.timeout_seconds, request.heartbeat_seconds, function.timeout_seconds),
            limit: self.max_response_bytes,
        };
        let result = match runner {
            Runner::Pool(p) => p.call(&mut call).await,
            Runner::Once(o) => o.call(&mut call).await,
            Runner::Url(u) => u.call(&mut call).await,
        }?;
        Ok(match target.style {
            Style::Arn => result,
            Style::Invoke => reply::invoke_response(result, &call.request_id, chrono::Utc::now()),
        })
    }
}

impl Runner {
    fn function(&self) -> &crate::integrations::config::Function {
        match self {
            Runner::Pool(p) => p.function(),
            Runner::Once(o) => o.function(),
            Runner::Url(u) => u.function(),
        }
    }
}

/// One call in progress, as the runners see it.
struct Call<'a> {
    state_name: &'a str,
    function_name: &'a str,
    event: &'a Value,
    request_id: String,
    invoked_arn: String,
    deadlines: Deadlines,
    /// Most bytes of response accepted.
    limit: usize,
}

impl Call<'_> {
    /// The Lambda context object (the Python runtime's attribute names).
    fn context(&self) -> Value {
        json!({
            "function_name": self.function_name,
            "function_version": "$LATEST",
            "invoked_function_arn": self.invoked_arn,
            "memory_limit_in_mb": 128,
            "aws_request_id": self.request_id,
            "log_group_name": format!("/aws/lambda/{}", self.function_name),
            "log_stream_name": "dmap",
            "deadline_ms": self.deadlines.deadline_epoch_ms(),
        })
    }
}
