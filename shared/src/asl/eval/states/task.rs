//! Task: calls the integration named by `Resource` through the host, with its timeouts.

use serde_json::Value;

use crate::asl::bound::measure;
use crate::asl::error_name::TIMEOUT;
use crate::asl::eval::TaskRequest;
use crate::asl::eval::context::{Exec, StateEnv};
use crate::asl::eval::operand::{self, Field};
use crate::asl::eval::run::Halt;
use crate::asl::eval::{flow, io};
use crate::asl::history::Event;
use crate::asl::model::{State, Task};

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
    let input = flow::arguments(state, eff, raw, env)?.into_owned();
    // The task's input (after Parameters) and its result are payloads too.
    io::check_bound(&state.name, "returned a result", measure(&input, exec.max_bytes), exec.max_bytes)?;
    let now = exec.host.now();
    let left = exec.deadline.map(|d| (d - now).num_seconds().max(0) as u64);
    let timeout_seconds = left.map_or(timeout, |l| l.min(timeout));
    let resource = &task.resource;
    // Scheduled and Started (LambdaFunction… or Task…), then Succeeded, Failed or TimedOut.
    let scheduled = exec.record(env.scope, || Event::TaskScheduled {
        resource,
        region: &exec.options.region,
        parameters: &input,
        timeout: timeout_seconds,
        heartbeat,
    });
    exec.record(env.scope, || Event::TaskStarted { resource });
    let outcome_key = exec.next_key(env.scope);
    // After a restart, a call whose outcome was recorded is not made again; one that was in
    // flight is (at least once, as AWS retries).
    let result = match exec.replayed(outcome_key.as_deref()) {
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
            };
            exec.host.invoke_task(request).await
        }
    };
    exec.record_keyed(env.scope, outcome_key.as_deref(), || match &result {
        Ok(output) => Event::TaskSucceeded { resource, output },
        Err(failure) if failure.error_name() == TIMEOUT => Event::TaskTimedOut { resource, failure },
        Err(failure) => Event::TaskFailed { resource, failure },
    });
    match result {
        Ok(v) => {
            io::check_bound(&state.name, "returned a result", measure(&v, exec.max_bytes), exec.max_bytes)?;
            Ok(v)
        }
        Err(f) if f.error_name() == TIMEOUT && exec.timed_out(exec.host.now()) => Err(Halt::TimedOut),
        Err(f) => Err(Halt::Failed(f)),
    }
}
