//! Task: calls the integration named by `Resource` through the host, with its timeouts.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::asl::bound::measure;
use crate::asl::error_name::{Failure, HEARTBEAT_TIMEOUT, RUNTIME, TIMEOUT};
use crate::asl::eval::context::{Exec, StateEnv};
use crate::asl::eval::operand::{self, Field};
use crate::asl::eval::run::Halt;
use crate::asl::eval::{ActivityDispatch, CallbackWait, TaskRequest, time};
use crate::asl::eval::{flow, io};
use crate::asl::history::Event;
use crate::asl::model::{State, Task};
use crate::asl::resource::{Pattern, Resource, Target};

/// AWS's default Task timeout (the ASL spec's 60 s is not what AWS does).
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 99_999_999;

/// One attempt: InputPath → Parameters → invoke. Returns the raw result.
pub(crate) async fn attempt(
    exec: &Exec<'_>,
    state: &State,
    task: &Task,
    raw: &Value,
    env: &StateEnv<'_>,
) -> Result<Value, Halt> {
    let eff = flow::selected(state, raw, env)?;
    let timeout = match &task.timeout {
        Some(t) => operand::int(t, Field::TimeoutSeconds, &eff, env)?,
        None => DEFAULT_TIMEOUT_SECONDS,
    };
    let heartbeat = match &task.heartbeat {
        Some(h) => Some(operand::int(h, Field::HeartbeatSeconds, &eff, env)?),
        None => None,
    };
    let credentials = match &task.credentials {
        Some(t) => Some(t.eval(&eff, env)?),
        None => None,
    };
    // A Task that waits for a callback sees its token as `$$.Task.Token` while its
    // Parameters are evaluated.
    let resource = &task.resource;
    let activity = matches!(resource.target, Target::Activity { .. });
    let token = match activity || resource.pattern == Pattern::WaitForTaskToken {
        true => match exec.host.task_token(exec.execution_arn(), env.entered_id, env.retry_count.unwrap_or(0)) {
            Some(t) => Some(t),
            None => {
                return Err(Halt::Failed(Failure::new(
                    RUNTIME,
                    format!(
                        "the Task state '{}' waits for a callback ('{}'), and this host cannot take callbacks",
                        state.name, resource.arn
                    ),
                )));
            }
        },
        false => None,
    };
    let token_env = token.as_deref().map(|t| env.with_task_token(t));
    let arg_env = token_env.as_ref().unwrap_or(env);
    let input = flow::arguments(state, eff, raw, arg_env)?.into_owned();
    // The task's input (after Parameters) and its result are payloads too.
    io::check_bound(&state.name, "returned a result", measure(&input, exec.max_bytes), exec.max_bytes)?;
    let now = exec.host.now();
    let left = exec.deadline.map(|d| (d - now).num_seconds().max(0) as u64);
    let timeout_seconds = left.map_or(timeout, |l| l.min(timeout));
    let result = match (activity, token) {
        (true, Some(token)) => {
            let set = task.timeout.is_some().then_some(timeout);
            activity_call(exec, state, resource, input, timeout, set, heartbeat, token, env).await
        }
        (_, token) => {
            task_call(exec, state, resource, input, timeout, timeout_seconds, heartbeat, credentials, token, env).await
        }
    };
    match result {
        Ok(v) => {
            io::check_bound(&state.name, "returned a result", measure(&v, exec.max_bytes), exec.max_bytes)?;
            Ok(v)
        }
        Err(f) if f.error_name() == TIMEOUT && exec.timed_out(exec.host.now()) => Err(Halt::TimedOut),
        Err(f) => Err(Halt::Failed(f)),
    }
}

/// A Task's call and, for `.waitForTaskToken`, its wait: TaskScheduled and TaskStarted, then
/// the call (TaskSucceeded, TaskFailed or TaskTimedOut) or, with a token, TaskSubmitted after
/// the call and the callback's outcome after the wait.
#[allow(clippy::too_many_arguments)]
async fn task_call(
    exec: &Exec<'_>,
    state: &State,
    resource: &Arc<Resource>,
    input: Value,
    timeout: u64,
    timeout_seconds: u64,
    heartbeat: Option<u64>,
    credentials: Option<Value>,
    token: Option<String>,
    env: &StateEnv<'_>,
) -> Result<Value, Failure> {
    let scheduled = exec.record(env.scope, || Event::TaskScheduled {
        resource,
        region: &exec.options.region,
        parameters: &input,
        timeout: timeout_seconds,
        heartbeat,
    });
    let started = exec.record(env.scope, || Event::TaskStarted { resource });
    let call_key = exec.next_key(env.scope);
    // After a restart, a call whose outcome was recorded is not made again; one that was in
    // flight is (at least once, as AWS retries).
    let call = match exec.replayed(call_key.as_deref()) {
        Some(recorded) => recorded,
        None => {
            let request = TaskRequest {
                state_name: state.name.clone(),
                resource: resource.clone(),
                input,
                timeout_seconds,
                heartbeat_seconds: heartbeat,
                credentials,
                execution_arn: exec.execution_arn().to_string(),
                call_id: scheduled.id,
                task_token: token.clone(),
            };
            exec.host.invoke_task(request).await
        }
    };
    let (token, output) = match (token, call) {
        (Some(token), Ok(output)) => (token, output),
        (_, result) => {
            exec.record_keyed(env.scope, call_key.as_deref(), || outcome_event(resource, &result));
            return result;
        }
    };
    // The call was answered: the Task now waits for its token's callback, its timeout counted
    // from TaskStarted.
    exec.record_keyed(env.scope, call_key.as_deref(), || Event::TaskSubmitted { resource, output: &output });
    let outcome_key = exec.next_key(env.scope);
    let wait = Wait { state, token, heartbeat, started: started.at, timeout, activity: false };
    let result = wait_for_callback(exec, outcome_key.as_deref(), wait).await;
    exec.record_keyed(env.scope, outcome_key.as_deref(), || outcome_event(resource, &result));
    result
}

/// An activity Task: ActivityScheduled, then ActivityStarted when a worker takes the task
/// (or ActivityScheduleFailed/ActivityTimedOut when none can), then the worker's outcome.
/// The Task's timeout counts from ActivityStarted, as AWS's does.
#[allow(clippy::too_many_arguments)]
async fn activity_call(
    exec: &Exec<'_>,
    state: &State,
    resource: &Arc<Resource>,
    input: Value,
    timeout: u64,
    timeout_set: Option<u64>,
    heartbeat: Option<u64>,
    token: String,
    env: &StateEnv<'_>,
) -> Result<Value, Failure> {
    let scheduled = Event::ActivityScheduled { resource, input: &input, timeout: timeout_set, heartbeat };
    exec.record(env.scope, || scheduled);
    let started_key = exec.next_key(env.scope);
    let taken = match exec.replayed(started_key.as_deref()) {
        Some(recorded) => recorded,
        None => {
            let dispatch = ActivityDispatch {
                execution_arn: exec.execution_arn().to_string(),
                state_name: state.name.clone(),
                activity_arn: resource.arn.clone(),
                token: token.clone(),
                input,
                deadline: exec.deadline.unwrap_or(time::LATEST),
                heartbeat_seconds: heartbeat,
            };
            exec.host.dispatch_activity(dispatch).await.map(Value::String)
        }
    };
    let started = match &taken {
        Ok(worker) => {
            let worker_name = worker.as_str().unwrap_or_default();
            exec.record_keyed(env.scope, started_key.as_deref(), || Event::ActivityStarted { worker_name })
        }
        Err(failure) => {
            exec.record_keyed(env.scope, started_key.as_deref(), || match is_timeout(failure) {
                true => Event::ActivityTimedOut { failure },
                false => Event::ActivityScheduleFailed { failure },
            });
            return Err(failure.clone());
        }
    };
    let outcome_key = exec.next_key(env.scope);
    let wait = Wait { state, token, heartbeat, started: started.at, timeout, activity: true };
    let result = wait_for_callback(exec, outcome_key.as_deref(), wait).await;
    exec.record_keyed(env.scope, outcome_key.as_deref(), || match &result {
        Ok(output) => Event::ActivitySucceeded { output },
        Err(failure) if is_timeout(failure) => Event::ActivityTimedOut { failure },
        Err(failure) => Event::ActivityFailed { failure },
    });
    result
}

/// A Task attempt's wait for its token's callback, once its call was answered or a worker took
/// it: its timeout counts from `started` (TaskStarted, ActivityStarted).
struct Wait<'s> {
    state: &'s State,
    token: String,
    heartbeat: Option<u64>,
    started: Option<DateTime<Utc>>,
    timeout: u64,
    activity: bool,
}

/// The recorded outcome under `key` after a restart, or the host's wait for the callback.
async fn wait_for_callback(exec: &Exec<'_>, key: Option<&str>, w: Wait<'_>) -> Result<Value, Failure> {
    if let Some(recorded) = exec.replayed(key) {
        return recorded;
    }
    let wait = CallbackWait {
        execution_arn: exec.execution_arn().to_string(),
        state_name: w.state.name.clone(),
        token: w.token,
        heartbeat_seconds: w.heartbeat,
        deadline: deadline(exec, w.started.unwrap_or_else(|| exec.host.now()), w.timeout),
        activity: w.activity,
    };
    exec.host.wait_for_callback(wait).await
}

/// `timeout` seconds after `from`, and no later than the execution's own deadline.
fn deadline(exec: &Exec<'_>, from: DateTime<Utc>, timeout: u64) -> DateTime<Utc> {
    let own = time::after_seconds(from, timeout);
    exec.deadline.map_or(own, |d| d.min(own))
}

fn is_timeout(failure: &Failure) -> bool {
    matches!(failure.error_name(), TIMEOUT | HEARTBEAT_TIMEOUT)
}

fn outcome_event<'e>(resource: &'e Resource, result: &'e Result<Value, Failure>) -> Event<'e> {
    match result {
        Ok(output) => Event::TaskSucceeded { resource, output },
        Err(failure) if is_timeout(failure) => Event::TaskTimedOut { resource, failure },
        Err(failure) => Event::TaskFailed { resource, failure },
    }
}
