//! Run a Job (`.sync`): after the start call, poll the job's describe call on a tokio timer
//! until its status is terminal, as [`super::jobs`] says for that integration. Waiting costs
//! a timer, not a thread, so thousands of jobs can wait at once.
//!
//! While the job runs it is *armed*: if the Task stops waiting for it — the Task's future is
//! dropped (a Parallel branch failed, the execution was stopped) or its `TimeoutSeconds`
//! expired — the job's stop call is made, best effort, as Step Functions does ("Step Functions
//! will make a best-effort attempt to cancel the task").
//!
//! Owns: the polling loop, the outcome of a poll, and the stop-on-abandon guard. Must not:
//! know any job type (the table does).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use shared::asl::Failure;

use super::api::{Api, ApiError};
use super::errors::Naming;
use super::jobs::{Bind, Call, Job, Output, Source};
use super::path;

/// A stop call that has not been made yet.
#[derive(Debug)]
pub struct Stop {
    service: &'static str,
    operation: &'static str,
    input: Value,
}

impl Stop {
    async fn run(self, api: &dyn Api) {
        if let Err(e) = api.call(self.service, self.operation, &self.input).await {
            tracing::warn!(service = self.service, operation = self.operation, error = %e, "stopping a .sync job failed");
        }
    }
}

/// Holds the stop call of a running job; dropping it while armed makes the call on the
/// runtime (the drop cannot wait for it).
pub struct Armed {
    api: Arc<dyn Api>,
    stop: Mutex<Option<Stop>>,
}

impl Armed {
    pub fn new(api: Arc<dyn Api>) -> Self {
        Armed { api, stop: Mutex::new(None) }
    }

    fn arm(&self, stop: Stop) {
        *self.stop.lock().unwrap_or_else(|e| e.into_inner()) = Some(stop);
    }

    fn disarm(&self) {
        self.take();
    }

    pub fn take(&self) -> Option<Stop> {
        self.stop.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Makes the stop call now, if armed, and waits for it.
    pub async fn stop_now(&self) {
        if let Some(stop) = self.take() {
            stop.run(&*self.api).await;
        }
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        let Some(stop) = self.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(operation = stop.operation, "no runtime to stop an abandoned .sync job");
            return;
        };
        let api = Arc::clone(&self.api);
        runtime.spawn(async move { stop.run(&*api).await });
    }
}

/// What a `.sync` wait needs besides the table row.
pub struct Wait<'a> {
    pub api: &'a dyn Api,
    /// The `aws-sdk` service name of the integration (`glue`).
    pub service: &'static str,
    pub naming: Naming,
    /// The Task's parameters and the start call's (reshaped) result.
    pub request: &'a Value,
    pub started: &'a Value,
    /// Overrides the row's interval (tests poll fast).
    pub poll: Option<Duration>,
}

/// Waits for the job `started` began and returns the Task's result, or its failure: the
/// service's error, or `States.TaskFailed` with the job's description as Cause.
pub async fn wait(w: Wait<'_>, job: &'static Job, armed: &Armed) -> Result<Value, Failure> {
    if let Some((member, error)) = job.start_failures
        && let Some(failures) = path::get(w.started, member).and_then(Value::as_array).filter(|f| !f.is_empty())
    {
        return Err(Failure::new(error, Value::Array(failures.clone()).to_string()));
    }
    if let Some(stop) = &job.stop {
        armed.arm(Stop { service: w.service, operation: stop.operation, input: build(stop, w.request, w.started)? });
    }
    let describe = build(&job.describe, w.request, w.started)?;
    let interval = w.poll.unwrap_or(Duration::from_secs(job.poll_seconds));
    loop {
        tokio::time::sleep(interval).await;
        let answer = match w.api.call(w.service, job.describe.operation, &describe).await {
            Ok(answer) => answer.output,
            Err(ApiError::Service { code, .. }) if job.gone == Some(code.as_str()) => {
                armed.disarm();
                return Ok(w.started.clone());
            }
            Err(e) if transient(&e) => continue,
            Err(e) => return Err(w.naming.failure(&e, &describe)),
        };
        let Some(description) = path::get(&answer, job.job) else {
            return Err(Failure::new(
                "States.TaskFailed",
                format!("{} did not describe the job: {answer}", job.describe.operation),
            ));
        };
        let status = path::get(description, job.status).and_then(Value::as_str).unwrap_or_default();
        if job.failed.contains(&status)
            || (job.succeeded.contains(&status) && job.failed_anyway.is_some_and(|f| f(description)))
        {
            armed.disarm();
            return Err(Failure::new("States.TaskFailed", description.to_string()));
        }
        if job.succeeded.contains(&status) {
            armed.disarm();
            return Ok(match job.output {
                Output::Job => description.clone(),
                Output::Wrapped(member) => Value::Object(Map::from_iter([(member.to_owned(), description.clone())])),
                Output::Describe => answer,
                Output::Started => w.started.clone(),
            });
        }
    }
}

/// Errors worth polling again for: no answer, throttling, the service's own failure.
fn transient(error: &ApiError) -> bool {
    match error {
        ApiError::Transport(_) | ApiError::Malformed(_) => true,
        ApiError::Service { status, code, .. } => {
            *status >= 500 || code.contains("Throttl") || code == "TooManyRequestsException"
        }
        ApiError::InvalidParameters(_) | ApiError::Model(_) | ApiError::Credentials(_) => false,
    }
}

/// A describe or stop request from the Task's parameters and the start result.
fn build(call: &Call, request: &Value, started: &Value) -> Result<Value, Failure> {
    let mut input = Map::new();
    for Bind { to, from, list } in call.input {
        let value = match from {
            Source::Request(p) => path::get(request, p).cloned(),
            Source::Started(p) => path::get(started, p).cloned(),
            Source::Text(text) => Some(Value::String((*text).to_owned())),
        };
        let Some(value) = value else {
            return Err(Failure::new(
                "States.TaskFailed",
                format!(
                    "cannot call {} for the job: {to} is not in the parameters or the start result {started}",
                    call.operation
                ),
            ));
        };
        input.insert((*to).to_owned(), if *list { Value::Array(vec![value]) } else { value });
    }
    Ok(Value::Object(input))
}
