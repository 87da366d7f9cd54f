//! One `states:startExecution` call: read the Task's parameters, start the child (or find the
//! one this call started before a restart), and for `.sync`/`.sync:2` wait for its end.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::{RUNTIME, TIMEOUT};
use shared::asl::eval::TaskRequest;
use shared::asl::resource::Pattern;

use super::{Starter, shapes};
use crate::serve::api::start::{self, StartRequest, engine_error, random_uuid};
use crate::serve::api::{ApiError, Ctx};
use crate::serve::engine::{Engine, EngineError, Started, WeakEngine};
use crate::serve::store::{ExecutionRecord, ExecutionStatus, MachineType};

/// How many events past a call's `TaskScheduled` its `TaskStarted` is looked for when the wait
/// begins (other branches of a Parallel may write theirs in between).
const STARTED_WITHIN: usize = 256;

/// The parameters AWS's integration takes (`StartExecution`'s members, capitalised).
const PARAMETERS: &[&str] = &["StateMachineArn", "Input", "Name", "TraceHeader"];

/// The Task's parameters, read as StartExecution's members.
struct Params {
    state_machine_arn: String,
    /// JSON text: an `Input` string as it is, anything else serialised (`{}` when absent or
    /// null, as AWS starts a child without input).
    input: String,
    name: Option<String>,
    trace_header: Option<String>,
}

impl Params {
    fn read(request: &TaskRequest) -> Result<Params, Failure> {
        let state = &request.state_name;
        let Value::Object(m) = &request.input else {
            return Err(runtime(state, "its parameters must be an object with StateMachineArn"));
        };
        if let Some(k) = m.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
            return Err(runtime(
                state,
                &format!("the field '{k}' is not supported by startExecution (it takes {})", PARAMETERS.join(", ")),
            ));
        }
        let text = |key: &str| match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(runtime(state, &format!("'{key}' must be a string, not {other}"))),
        };
        let Some(state_machine_arn) = text("StateMachineArn")? else {
            return Err(runtime(state, "the parameter StateMachineArn is missing"));
        };
        let input = match m.get("Input") {
            None | Some(Value::Null) => "{}".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        Ok(Params { state_machine_arn, input, name: text("Name")?, trace_header: text("TraceHeader")? })
    }
}

fn runtime(state: &str, what: &str) -> Failure {
    Failure::new(RUNTIME, format!("the Task state '{state}' (states:startExecution): {what}"))
}

/// The child's name when the Task gives none: a UUID (AWS names an unnamed execution by one)
/// derived from the parent's ARN and the call's id, so a parent that makes the call again after
/// a restart names the same child, and StartExecution's idempotency finds it.
pub fn derived_name(parent_arn: &str, call_id: u64) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("dmap:nested:{parent_arn}:{call_id}").as_bytes()).to_string()
}

impl Starter {
    pub(super) async fn call(&self, request: TaskRequest) -> Result<Value, Failure> {
        let params = Params::read(&request)?;
        let Some(engine) = self.engine.upgrade() else {
            return Err(runtime(&request.state_name, "the server is stopping"));
        };
        let request_id = random_uuid();
        let refused = |e: ApiError| shapes::refused(e.code, &e.message, e.status, &request_id);
        let given_name = params.name.is_some();
        let name = params.name.unwrap_or_else(|| derived_name(&request.execution_arn, request.call_id));
        let ctx = Ctx {
            store: self.store.clone(),
            executions: Arc::new(engine.clone()),
            scope: self.scope.clone(),
            support: None,
            machines: self.machines.clone(),
            activities: self.activities.clone(),
            callbacks: None,
        };
        let start = StartRequest {
            state_machine_arn: params.state_machine_arn,
            name: Some(name),
            input: Some(params.input),
            trace_header: params.trace_header,
        };
        let mut spec = start::spec(&ctx, start).map_err(refused)?;
        if spec.machine_type == MachineType::Express {
            // An EXPRESS execution's ARN ends in a UUID of its own (AWS's form): derived from the
            // call too, so that a replayed call finds its EXPRESS child as it finds a STANDARD one.
            let id = derived_name(&format!("{}:express", request.execution_arn), request.call_id);
            spec.execution_arn = self.scope.express_execution(&spec.state_machine_name, &spec.name, &id);
        }
        // The start runs on its own task, so that a parent stopped meanwhile cannot cut it
        // between the child's commit and its launch; a `.sync` child is stopped once started
        // if the parent stops waiting (the guard).
        let waits = matches!(request.resource.pattern, Pattern::Sync | Pattern::Sync2);
        let starting = tokio::spawn({
            let (engine, spec) = (engine.clone(), spec.clone());
            async move { engine.start(spec).await }
        });
        let mut guard =
            StopOnDrop { engine: self.engine.clone(), child: waits.then(|| spec.execution_arn.clone()), start: None };
        let started = guard.start.insert(starting).await;
        guard.start = None;
        let started = started.map_err(|e| runtime(&request.state_name, &format!("starting the child: {e}")))?;
        let record = match started {
            Ok(Started::New(r) | Started::Existing(r)) => r,
            Err(EngineError::AlreadyExists(arn)) => {
                match self.started_by_this_call(&arn, &spec.input, &request, given_name) {
                    Some(r) => r,
                    None => {
                        guard.child = None;
                        return Err(refused(ApiError::execution_exists(&arn)));
                    }
                }
            }
            Err(e) => {
                guard.child = None;
                return Err(refused(engine_error(e)));
            }
        };
        match waits {
            false => Ok(shapes::started(&record, &request_id, Utc::now())),
            true => self.wait(&engine, record, &request, guard).await,
        }
    }

    /// An ended execution named as this call names its child: the child this call started
    /// before a restart (found, not started again), or someone else's (`None`: AWS's
    /// ExecutionAlreadyExists). A derived name is this call's alone; a given name is this
    /// call's child when the input is the same and the child started after the call's
    /// `TaskStarted` (a child of an earlier attempt, or of anyone else, started before it).
    fn started_by_this_call(
        &self,
        arn: &str,
        input: &str,
        request: &TaskRequest,
        given_name: bool,
    ) -> Option<ExecutionRecord> {
        let existing = self.store.execution(arn).ok()??;
        let same_input = existing.input == input
            || serde_json::from_str::<Value>(&existing.input).ok() == serde_json::from_str::<Value>(input).ok();
        if !same_input {
            return None;
        }
        // A derived name, or an EXPRESS ARN (its UUID is derived), is this call's alone.
        if !given_name || existing.machine_type == MachineType::Express {
            return Some(existing);
        }
        let started = self.task_started(request, usize::MAX)?;
        (existing.start_date >= started).then_some(existing)
    }

    /// When the call's `TaskStarted` was recorded (the event that follows its `TaskScheduled`,
    /// `call_id`), looking at most `within` events past it; `None` without a history (a Map
    /// Run's child) or when it is not among them.
    fn task_started(&self, request: &TaskRequest, within: usize) -> Option<DateTime<Utc>> {
        let events = self.store.events(&request.execution_arn, Some(request.call_id), false, within).ok()?;
        let started =
            events.iter().find(|e| e.event_type == "TaskStarted" && e.previous_event_id == request.call_id)?;
        Some(started.timestamp)
    }

    /// `.sync`/`.sync:2`: the child's document once it has ended, within the Task's timeout.
    /// A wait abandoned — the timeout, or the parent stopped, or a sibling branch failed (the
    /// future is dropped) — stops the child, as AWS stops the children of a `.sync` call.
    async fn wait(
        &self,
        engine: &Engine,
        record: ExecutionRecord,
        request: &TaskRequest,
        mut guard: StopOnDrop,
    ) -> Result<Value, Failure> {
        let json_data = request.resource.pattern == Pattern::Sync2;
        // The Task's timeout counts from its TaskStarted, also when a restart made the call again.
        let limit = Duration::from_secs(request.timeout_seconds);
        let limit = match self.task_started(request, STARTED_WITHIN) {
            Some(at) => match chrono::Duration::from_std(limit).ok().and_then(|d| at.checked_add_signed(d)) {
                Some(deadline) => (deadline - Utc::now()).to_std().unwrap_or_default().min(limit),
                None => limit,
            },
            None => limit,
        };
        let ended = match tokio::time::timeout(limit, engine.ended(&record.arn)).await {
            // The guard stops the child as this returns.
            Err(_) => return Err(Failure::named(TIMEOUT)),
            Ok(ended) => ended,
        };
        guard.child = None;
        match ended {
            Ok(child) if child.status == ExecutionStatus::Succeeded => Ok(shapes::described(&child, json_data)),
            Ok(child) => Err(shapes::child_failed(&child, json_data)),
            Err(e) => Err(runtime(&request.state_name, &format!("waiting for {}: {e}", record.arn))),
        }
    }
}

/// Stops a `.sync` child whose parent no longer waits for it (after its start, when that is
/// still under way).
struct StopOnDrop {
    engine: WeakEngine,
    child: Option<String>,
    start: Option<tokio::task::JoinHandle<Result<Started, EngineError>>>,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let start = self.start.take();
        let (Some(child), Some(engine)) = (self.child.take(), self.engine.upgrade()) else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
            if let Some(start) = start {
                let _ = start.await;
            }
            if let Err(e) = engine.stop(&child, None, None).await {
                tracing::warn!(execution = %child, error = %e, "could not stop a nested execution whose parent stopped waiting");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_are_valid_stable_and_per_call() {
        let parent = "arn:aws:states:us-east-1:123456789012:execution:p:e1";
        let a = derived_name(parent, 5);
        assert_eq!(a, derived_name(parent, 5));
        assert_ne!(a, derived_name(parent, 6));
        assert_ne!(a, derived_name("arn:aws:states:us-east-1:123456789012:execution:p:e2", 5));
        assert!(crate::serve::api::arn::valid_name(&a), "{a}");
    }
}
