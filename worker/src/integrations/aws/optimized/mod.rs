//! The optimized integrations (`arn:aws:states:::<service>:<action>[.sync]`): the request and
//! result shapes AWS's pages document for each, and Run a Job (`.sync`) for those that start
//! jobs. Most actions pass the Task's parameters to the API unchanged and hand back its output
//! ([`actions::Shape::Api`]); the table says where Step Functions differs, and a family module
//! holds each difference (`messaging`, `emr`, `apigateway`, `bedrock`). Errors are named the
//! way these integrations name them (`errors`), which is not the `aws-sdk:` way.
//!
//! Every call goes through the narrow [`Api`] trait: the shared signed client implements it
//! (`client`: [`Bound`], and [`invoke_task`], the entry point for a Task state), the tests a fake.
//!
//! Owns: the dispatch from a resource's service, action and pattern to the calls it makes, and
//! the Task's `TimeoutSeconds` around them. Must not: sign or send (the [`Api`] does), or parse
//! resources (they arrive typed).

pub mod actions;
mod api;
mod apigateway;
mod bedrock;
mod client;
mod emr;
mod errors;
mod jobs;
mod messaging;
mod metadata;
mod path;
mod sync;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use shared::asl::Failure;

pub use actions::{Action, Shape, all, find};
pub use api::{Api, ApiError, ApiOutput, HttpRequest, HttpResponse};
pub use client::{Bound, invoke_task};
/// How the Task waits: the resource's pattern as validation typed it.
pub use shared::asl::resource::Pattern;

use actions::adds_sdk_metadata;
use errors::{Naming, naming_of};
use jobs::Job;
use sync::{Armed, Wait};

/// Settings of the optimized integrations.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// One interval between `.sync` polls for every job, instead of each job's own.
    pub poll_interval: Option<Duration>,
}

/// The environment variable that sets [`Options::poll_interval`], in milliseconds.
pub const POLL_INTERVAL_ENV: &str = "DMAP_SYNC_POLL_INTERVAL_MS";

impl Options {
    /// Options from the environment ([`POLL_INTERVAL_ENV`]).
    pub fn from_env() -> Self {
        let poll_interval =
            std::env::var(POLL_INTERVAL_ENV).ok().and_then(|v| v.trim().parse().ok()).map(Duration::from_millis);
        Options { poll_interval }
    }
}

/// One Task's call of an optimized integration.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub service: &'a str,
    pub action: &'a str,
    pub pattern: Pattern,
    /// The Task's effective parameters.
    pub input: Value,
    /// The Task's `TimeoutSeconds` for this attempt; `None` for no limit.
    pub timeout: Option<Duration>,
    /// The execution's ARN (EventBridge appends it to each event's `Resources`).
    pub execution_arn: &'a str,
}

/// A failure of a family's call: the service's error, named by the integration's naming, or
/// a failure the family decided itself.
#[derive(Debug)]
pub enum Called {
    Api(ApiError),
    /// The parameters do not fit the integration (as [`ApiError::InvalidParameters`]).
    Invalid(String),
    Refused(Failure),
}

impl From<ApiError> for Called {
    fn from(e: ApiError) -> Self {
        Called::Api(e)
    }
}

/// Why dmap cannot run `service:action` with `pattern`, or `None` when it can: checked before
/// a run (to refuse the definition with a diagnostic) and again at the call.
pub fn refusal(service: &str, action: &str, pattern: Pattern) -> Option<String> {
    served(service, action, pattern).err()
}

/// The table's row for `service:action` and, for `.sync`, its job row.
fn served(service: &str, action: &str, pattern: Pattern) -> Result<(&'static Action, Option<&'static Job>), String> {
    if service == "states" {
        return Err(format!(
            "'states:{action}' starts a nested execution, which needs a server that outlives one command (dmap serve)"
        ));
    }
    let Some(found) = find(service, action) else {
        return Err(format!("'{service}:{action}' is not an optimized integration dmap serves"));
    };
    if found.shape == Shape::Kubernetes {
        return Err(format!("'eks:{action}' talks to the cluster's Kubernetes API, which dmap does not speak yet"));
    }
    match (pattern, found.job) {
        (Pattern::RequestResponse, _) => Ok((found, None)),
        (Pattern::Sync, Some(job)) => Ok((found, Some(job))),
        (Pattern::Sync, None) | (Pattern::Sync2, _) => Err(format!("'{service}:{action}' has no Run a Job pattern")),
        // The callback pattern makes the request-response call; the host then waits for the
        // token's callback. Only where AWS's table of supported services allows it.
        (Pattern::WaitForTaskToken, _) if callbacks_allowed(service, action) => Ok((found, None)),
        (Pattern::WaitForTaskToken, _) => Err(format!("'{service}:{action}' has no .waitForTaskToken pattern")),
    }
}

/// Whether AWS allows `.waitForTaskToken` for `service:action` (the resource table of `shared`,
/// from "Integrating services with Step Functions", which the parser checks already).
fn callbacks_allowed(service: &str, action: &str) -> bool {
    shared::asl::resource::Service::from_name(service)
        .and_then(|s| s.action(action))
        .is_some_and(|p| p.contains(Pattern::WaitForTaskToken))
}

/// Runs `call` through `api`: the Task's result, or its failure as Step Functions names it.
pub async fn invoke(api: Arc<dyn Api>, call: Call<'_>, options: &Options) -> Result<Value, Failure> {
    let (action, job) = served(call.service, call.action, call.pattern).map_err(runtime)?;
    let naming = naming_of(action.service).ok_or_else(|| runtime(format!("no error naming for {}", action.service)))?;
    let armed = Armed::new(Arc::clone(&api));
    let work = async {
        // The parameters are only copied when a job's `prepare` changes them.
        let prepared = job.and_then(|j| j.prepare).map(|prepare| {
            let mut request = call.input.clone();
            prepare(&mut request);
            request
        });
        let started = start(&*api, action, naming, &call, prepared.as_ref().unwrap_or(&call.input)).await?;
        let Some(job) = job else { return Ok(started) };
        let wait = Wait {
            api: &*api,
            service: action.api,
            naming,
            request: &call.input,
            started: &started,
            poll: options.poll_interval,
        };
        sync::wait(wait, job, &armed).await
    };
    let Some(timeout) = call.timeout else { return work.await };
    let mut work = std::pin::pin!(work);
    tokio::select! {
        result = &mut work => result,
        () = tokio::time::sleep(timeout) => {
            armed.stop_now().await;
            Err(Failure::named("States.Timeout"))
        }
    }
}

fn runtime(message: String) -> Failure {
    Failure::new("States.Runtime", message)
}

/// The start call (the only call of a request-response Task) and its result as the Task sees
/// it.
async fn start(
    api: &dyn Api,
    action: &Action,
    naming: Naming,
    call: &Call<'_>,
    input: &Value,
) -> Result<Value, Failure> {
    let result = match action.shape {
        Shape::Emr(wrapped) => emr::call(api, wrapped, action.operation, input.clone()).await,
        Shape::ApiGatewayInvoke => apigateway::invoke(api, input).await,
        Shape::InvokeModel => bedrock::invoke(api, action.operation, input.clone()).await,
        Shape::Kubernetes => Err(Called::Refused(runtime("the Kubernetes API is not spoken".into()))),
        Shape::Api | Shape::Stringify(_) | Shape::PutEvents | Shape::EchoRequest(_) | Shape::EchoApplicationId => {
            plain(api, action, call, input).await
        }
    };
    match result {
        Ok(v) => Ok(v),
        // Failures quote the Task's parameters as written (before any `.sync` tag was added).
        Err(Called::Api(e)) => Err(naming.failure(&e, &call.input)),
        Err(Called::Invalid(why)) => Err(errors::invalid_parameters(&call.input, &why)),
        Err(Called::Refused(f)) => Err(f),
    }
}

/// One API call with the table's request and result changes.
async fn plain(api: &dyn Api, action: &Action, call: &Call<'_>, input: &Value) -> Result<Value, Called> {
    let changed = match action.shape {
        Shape::Stringify(member) => Some(messaging::stringify(input.clone(), member)),
        Shape::PutEvents => Some(messaging::put_events_request(input.clone(), call.execution_arn)),
        _ => None,
    };
    let mut answer = api.call(action.api, action.operation, changed.as_ref().unwrap_or(input)).await?;
    let output = std::mem::take(&mut answer.output);
    let mut result = match action.shape {
        Shape::PutEvents => messaging::put_events_result(output).map_err(Called::Refused)?,
        Shape::EchoRequest(member) => echo(output, &call.input, member),
        Shape::EchoApplicationId => echo(Value::Object(Default::default()), &call.input, "ApplicationId"),
        _ => output,
    };
    if adds_sdk_metadata(action.service) {
        result = metadata::add(result, &mut answer);
    }
    Ok(result)
}

/// `output` with `member` of the request added (an absent output is an empty object).
fn echo(output: Value, request: &Value, member: &str) -> Value {
    let mut map = match output {
        Value::Object(map) => map,
        _ => Default::default(),
    };
    if let Some(value) = request.get(member) {
        map.insert(member.to_owned(), value.clone());
    }
    Value::Object(map)
}
