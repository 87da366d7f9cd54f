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
}

/// What the engine needs from its environment.
///
/// Implementations decide what time is: the coordinator uses the wall clock and tokio timers,
/// tests and `dmap test` use a manual clock whose `sleep_until` jumps ahead at once.
pub trait Host: Send + Sync {
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
        upper_bound_millis
    }

    /// A random 64-bit number: the one source of randomness of an execution (`$random`,
    /// `$uuid`, `States.MathRandom`, `States.UUID`). Hosts that need reproducible runs give a
    /// seeded sequence.
    fn random(&self) -> u64 {
        rand::random()
    }

    /// Called once when an execution ends (succeeded, failed, timed out, or dropped unfinished:
    /// an aborted Map Run child) — at least every execution that called a task; one that never
    /// built its ARN is not reported — with the ARN its [`TaskRequest`]s carried. Hosts that keep state per execution (the mock configuration's invocation
    /// counters) release it here, so a Map Run of a million children does not hold a million
    /// entries. Parallel branches and inline Map iterations are part of their execution and
    /// end with it.
    fn execution_ended(&self, _execution_arn: &str) {}

    /// The execution's history, when the host keeps one (`dmap serve`): the engine then
    /// writes every event there, reads its clock and randomness from it and, after a restart,
    /// replays what was recorded (see [`crate::asl::history`]). Hosts without one (`dmap run`,
    /// Map Run children) only count events, for the ids AWS quotes in causes.
    fn journal(&self) -> Option<&dyn Journal> {
        None
    }
}
