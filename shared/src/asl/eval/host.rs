//! The one door outward. The engine reads the time, waits and calls task integrations only
//! through [`Host`]; everything else it does is pure computation on JSON.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;

use crate::asl::error_name::{Failure, RUNTIME};
use crate::asl::history::Journal;
use crate::asl::resource::Resource;

use super::map_run::MapRunRequest;

/// A Task state's call to its integration, after `InputPath` and `Parameters`.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    /// The Task state's name.
    pub state_name: String,
    /// The Task's resource, parsed at load (the string as written is `resource.arn`).
    pub resource: Arc<Resource>,
    /// The effective parameters (the Task's input).
    pub input: Value,
    /// `TimeoutSeconds` resolved for this attempt, capped by what is left of the execution's
    /// own `TimeoutSeconds`. The host enforces it and fails the call with `States.Timeout`.
    pub timeout_seconds: u64,
    /// `HeartbeatSeconds` resolved for this attempt; the host enforces it (it is the only one
    /// that sees heartbeats) and reports expiry as `States.Timeout`, as AWS does.
    pub heartbeat_seconds: Option<u64>,
    /// The resolved `Credentials` template, if any (accepted and ignored by local integrations).
    pub credentials: Option<Value>,
    /// Execution ARN of the caller, for integrations that report it.
    pub execution_arn: String,
    /// The id of the call's `TaskScheduled` event: with [`Host::journal`], the same for the
    /// same call after a restart, so `(execution_arn, call_id)` names one call of one
    /// execution (a task token, an idempotency token).
    pub call_id: u64,
    /// A `.waitForTaskToken` Task's token (`$$.Task.Token`): the host makes the integration's
    /// request-response call, and the engine then waits through [`Host::wait_for_callback`].
    pub task_token: Option<String>,
}

/// A Task attempt waiting for its token's callback: `.waitForTaskToken` after its call was
/// answered, or an activity task after a worker took it.
#[derive(Debug, Clone)]
pub struct CallbackWait {
    pub execution_arn: String,
    pub state_name: String,
    /// What [`Host::task_token`] gave for this attempt.
    pub token: String,
    /// `HeartbeatSeconds`: the longest time between heartbeats (`SendTaskHeartbeat`), counted
    /// from when the wait begins; past it the Task fails with `States.Timeout`
    /// (what AWS reports for a missed heartbeat).
    pub heartbeat_seconds: Option<u64>,
    /// When the Task's `TimeoutSeconds` (or the execution's) runs out: `States.Timeout`.
    pub deadline: DateTime<Utc>,
    /// An activity task rather than a `.waitForTaskToken` call.
    pub activity: bool,
}

/// An activity Task's work, offered to the workers polling its activity (`GetActivityTask`).
#[derive(Debug, Clone)]
pub struct ActivityDispatch {
    pub execution_arn: String,
    pub state_name: String,
    /// The activity's ARN (the Task's `Resource`).
    pub activity_arn: String,
    /// What [`Host::task_token`] gave for this attempt: handed to the worker with the input.
    pub token: String,
    /// The Task's effective input (after `Parameters`/`Arguments`).
    pub input: Value,
    /// When the Task's `TimeoutSeconds` (or the execution's) runs out: `States.Timeout`.
    pub deadline: DateTime<Utc>,
    pub heartbeat_seconds: Option<u64>,
}

/// What the engine needs from its environment.
///
/// Implementations decide what time is: the coordinator uses the wall clock and tokio timers,
/// tests and `dmap test` use a manual clock whose `sleep_until` jumps ahead at once.
///
/// Hosts are layered (the durable host over the mock host over the callbacks over nested
/// executions over the integrations): a wrapper names the host it wraps in [`Host::inner`], and
/// every method with a default then forwards to it, so a wrapper writes only what it changes
/// and a method added here reaches every layer. Without an inner host the defaults refuse.
pub trait Host: Send + Sync {
    /// The host this one wraps, which the provided methods forward to.
    fn inner(&self) -> Option<&dyn Host> {
        None
    }

    /// The current time.
    fn now(&self) -> DateTime<Utc>;

    /// Completes at (or after) `deadline`.
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()>;

    /// Calls a Task state's integration. A failure is returned as ASL data (`Error`/`Cause`)
    /// and goes through the state's Retry and Catch.
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>>;

    /// Runs the Map Run of a Distributed Map state and returns the state's raw result (the
    /// array of child outputs, or the ResultWriter details). A failed Map Run is a failure of
    /// the state, retried and caught as its Retry and Catch say.
    fn run_map<'a>(&'a self, request: MapRunRequest<'a>) -> BoxFuture<'a, Result<Value, Failure>> {
        if let Some(inner) = self.inner() {
            return inner.run_map(request);
        }
        let state = request.state.name.clone();
        Box::pin(async move {
            Err(Failure::new(
                RUNTIME,
                format!("the Map state '{state}' is DISTRIBUTED, and this host cannot run Map Runs"),
            ))
        })
    }

    /// A random integer in `[start, end)` for `JitterStrategy: FULL`. Hosts that need
    /// reproducible runs return the upper bound's midpoint or a seeded value.
    fn jitter_millis(&self, upper_bound_millis: u64) -> u64 {
        self.inner().map_or(upper_bound_millis, |h| h.jitter_millis(upper_bound_millis))
    }

    /// A random 64-bit number: the one source of randomness of an execution (`$random`,
    /// `$uuid`, `States.MathRandom`, `States.UUID`). Hosts that need reproducible runs give a
    /// seeded sequence.
    fn random(&self) -> u64 {
        self.inner().map_or_else(rand::random, |h| h.random())
    }

    /// Called once when an execution ends (succeeded, failed, timed out, or dropped unfinished:
    /// an aborted Map Run child) — at least every execution that called a task; one that never
    /// built its ARN is not reported — with the ARN its [`TaskRequest`]s carried. Hosts that keep state per execution (the mock configuration's invocation
    /// counters) release it here, so a Map Run of a million children does not hold a million
    /// entries. Parallel branches and inline Map iterations are part of their execution and
    /// end with it.
    fn execution_ended(&self, execution_arn: &str) {
        if let Some(inner) = self.inner() {
            inner.execution_ended(execution_arn)
        }
    }

    /// The execution's history, when the host keeps one (`dmap serve`): the engine then
    /// writes every event there, reads its clock and randomness from it and, after a restart,
    /// replays what was recorded (see [`crate::asl::history`]). Hosts without one (`dmap run`,
    /// Map Run children) only count events, for the ids AWS quotes in causes.
    fn journal(&self) -> Option<&dyn Journal> {
        self.inner().and_then(|h| h.journal())
    }

    /// The task token of an attempt of a Task that waits for a callback (`.waitForTaskToken`,
    /// an activity). `(execution_arn, entered_id, attempt)` — the execution, the id of the
    /// state's `…StateEntered` event and the retry count — is the same for the same attempt
    /// after a restart, so a durable host gives the same token again. `None`: this host cannot
    /// wait for callbacks, and such a Task fails.
    fn task_token(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> Option<String> {
        self.inner().and_then(|h| h.task_token(execution_arn, entered_id, attempt))
    }

    /// Completes when the callback of `wait.token` arrives: `SendTaskSuccess` (its output) or
    /// `SendTaskFailure` (its error and cause); or fails with `States.Timeout` when no heartbeat
    /// came within `heartbeat_seconds` (what AWS reports for a missed heartbeat) or at
    /// `deadline`.
    fn wait_for_callback(&self, wait: CallbackWait) -> BoxFuture<'_, Result<Value, Failure>> {
        if let Some(inner) = self.inner() {
            return inner.wait_for_callback(wait);
        }
        Box::pin(async move {
            Err(Failure::new(
                RUNTIME,
                format!("the Task state '{}' waits for a callback, and this host cannot take one", wait.state_name),
            ))
        })
    }

    /// Offers an activity task to the activity's workers; completes with the name of the
    /// worker that took it (`GetActivityTask`'s `workerName`), or fails: `States.Timeout` at
    /// the deadline, or the failure AWS gives when the activity cannot be scheduled.
    fn dispatch_activity(&self, dispatch: ActivityDispatch) -> BoxFuture<'_, Result<String, Failure>> {
        if let Some(inner) = self.inner() {
            return inner.dispatch_activity(dispatch);
        }
        Box::pin(async move {
            Err(Failure::new(
                RUNTIME,
                format!(
                    "the Task state '{}' runs the activity '{}', and this host has no activity workers",
                    dispatch.state_name, dispatch.activity_arn
                ),
            ))
        })
    }
}
