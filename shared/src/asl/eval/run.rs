//! The state loop of one state machine (the top level, a Parallel branch, a Map iteration)
//! and the handling shared by every state: entry events, runtime-cause prefixes, Retry and
//! Catch, Assign, and the output size limit.

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::asl::bound::{Bound, measure};
use crate::asl::error_name::{Failure, QUERY_EVALUATION_ERROR, RUNTIME};
use crate::asl::model::{Catcher, State, StateId, StateKind, StateMachine};
use crate::asl::path::Env;

use crate::asl::history::{Event, Scope};

use super::context::{Exec, Scoped, StateEnv, Vars};
use super::handling::{Decision, decide};
use super::{flow, io, states};

/// Why a state machine stopped without an output.
#[derive(Debug)]
pub(crate) enum Halt {
    Failed(Failure),
    /// The execution's own `TimeoutSeconds` elapsed: not catchable by any state.
    TimedOut,
    /// The execution reached AWS's 25,000-event history limit: it fails with
    /// `States.Runtime`, and no state can catch it.
    HistoryLimit,
}

impl From<Failure> for Halt {
    fn from(f: Failure) -> Self {
        Halt::Failed(f)
    }
}

/// What a state did: its output, where to go, and the variables it assigns.
pub(crate) struct Step {
    pub output: Value,
    pub next: Option<StateId>,
    pub assigned: Option<Map<String, Value>>,
}

/// Runs a state machine from `StartAt` to its end. Variables assigned here live in a scope of
/// their own that reads through to `parent`; events are written in `scope`.
pub(crate) async fn run_machine<'a>(
    exec: &'a Exec<'a>,
    machine: &'a StateMachine,
    input: Value,
    input_bound: Bound,
    parent: Option<&'a Vars<'a>>,
    scope: &'a Scope,
) -> Result<Value, Halt> {
    {
        let mut vars = Vars::child(parent);
        let mut current = machine.start_at;
        let mut input = input;
        let mut bound = input_bound;
        loop {
            let state = &machine.states[current];
            let in_bound = bound;
            let entered = exec.record(scope, || Event::StateEntered { state, input: &input });
            let entered_id = entered.id;
            if exec.history_full(entered_id) {
                return Err(Halt::HistoryLimit);
            }
            if exec.express_overran(entered_id) {
                return Err(Halt::TimedOut);
            }
            // Reading the clock costs as much as a small state; pure machines that never look
            // at the time (and have no deadline) do without it.
            // With a journal, time is the entry event's (replay reads the same clock).
            let now = match entered.at {
                Some(at) => at,
                None if machine.reads_clock || exec.deadline.is_some() => exec.host.now(),
                None => exec.start_time,
            };
            if exec.timed_out(now) {
                return Err(Halt::TimedOut);
            }
            let ran = match state.kind {
                StateKind::Pass(_) | StateKind::Choice(_) | StateKind::Succeed | StateKind::Fail(_) => {
                    run_pure_state(exec, state, input, &vars, now, scope, entered_id)
                }
                _ => run_waiting_state(exec, state, input, bound, &vars, now, scope, entered_id).await,
            };
            let step = match ran {
                Ok(step) => step,
                Err(Halt::Failed(f)) => return Err(Halt::Failed(prefix_runtime(f, &state.name, entered_id))),
                Err(h) => return Err(h),
            };
            // Size and depth limits hold after every state, but are measured only where data
            // enters or gathers (Task, Parallel, Map) or where the bound computed from the
            // state's compiled fields passes a limit (see `crate::asl::bound`).
            let gathers = matches!(state.kind, StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_));
            let max = exec.max_bytes;
            let out_bound =
                if gathers { Bound::UNKNOWN } else { state.growth.output.apply(bound, exec.context_bound, vars.bound) };
            bound = if out_bound.within(max) {
                out_bound
            } else {
                let m = measure(&step.output, max);
                io::check_bound(&state.name, "returned a result", m, max)?;
                m
            };
            let assigned_bound = match &step.assigned {
                Some(a) => {
                    let b = if gathers {
                        Bound::UNKNOWN
                    } else {
                        state.growth.assign.apply(in_bound, exec.context_bound, vars.bound)
                    };
                    Some(if b.within(max) { b } else { measure_assigned(&state.name, a, max)? })
                }
                None => None,
            };
            let exited_id = exec
                .record(scope, || Event::StateExited { state, output: &step.output, assigned: step.assigned.as_ref() })
                .id;
            if let (Some(a), Some(b)) = (step.assigned, assigned_bound) {
                vars.assign(a, b);
            }
            // The event after the last exit may be ExecutionSucceeded; any other must fit.
            if exec.history_full(exited_id) {
                return Err(Halt::HistoryLimit);
            }
            match step.next {
                Some(next) => {
                    current = next;
                    input = step.output;
                }
                None => return Ok(step.output),
            }
        }
    }
}

/// A measurement as a bound: exact when within the limits, otherwise [`Bound::UNKNOWN`]
/// (the walk stopped early, so it only proves the value too big).
pub(crate) fn known(m: Bound, max_bytes: usize) -> Bound {
    if m.within(max_bytes) { m } else { Bound::UNKNOWN }
}

/// Measures assigned values, each on its own (a path reads one variable at a time).
fn measure_assigned(state: &str, values: &Map<String, Value>, max_bytes: usize) -> Result<Bound, Failure> {
    let mut b = Bound::default();
    for v in values.values() {
        let m = measure(v, max_bytes);
        io::check_bound(state, "assigned a variable", m, max_bytes)?;
        b = b.max(m);
    }
    Ok(b)
}

/// AWS prefixes the causes of `States.Runtime` errors with the state and its entry event.
fn prefix_runtime(f: Failure, state: &str, entered_id: u64) -> Failure {
    let name = f.error_name();
    if name != RUNTIME && name != QUERY_EVALUATION_ERROR {
        return f;
    }
    let detail = f.cause.unwrap_or_default();
    if detail.starts_with("An error occurred while executing the state") {
        return Failure { error: f.error, cause: Some(detail) };
    }
    Failure {
        error: f.error,
        cause: Some(format!(
            "An error occurred while executing the state '{state}' (entered at the event id #{entered_id}). {detail}"
        )),
    }
}

/// Pass, Choice, Succeed and Fail: pure computation, no await.
fn run_pure_state<'a>(
    exec: &'a Exec<'a>,
    state: &'a State,
    raw: Value,
    vars: &'a Vars<'a>,
    entered: chrono::DateTime<chrono::Utc>,
    scope: &'a Scope,
    entered_id: u64,
) -> Result<Step, Halt> {
    let env = StateEnv::new(exec, vars, &state.name, entered, None, scope, entered_id);
    match &state.kind {
        StateKind::Pass(p) => Ok(states::pass::run(state, p, raw, &env)?),
        StateKind::Succeed => {
            let eff = flow::selected_owned(state, raw, &env)?;
            let output = flow::passed_output(state, eff, &env)?;
            Ok(Step { output, next: None, assigned: None })
        }
        StateKind::Fail(f) => Err(Halt::Failed(states::fail::run(f, &raw, &env)?)),
        StateKind::Choice(c) => Ok(states::choice::run(state, c, raw, &env)?),
        _ => unreachable!("only pure states are run here"),
    }
}

/// Wait, Task, Parallel and Map. Boxed: this is where the recursion Parallel/Map →
/// run_machine → state is broken, so that machines of pure states (an inline Map's
/// iterations) run without allocating a future.
#[allow(clippy::too_many_arguments)]
fn run_waiting_state<'a>(
    exec: &'a Exec<'a>,
    state: &'a State,
    raw: Value,
    raw_bound: Bound,
    vars: &'a Vars<'a>,
    entered: chrono::DateTime<chrono::Utc>,
    scope: &'a Scope,
    entered_id: u64,
) -> BoxFuture<'a, Result<Step, Halt>> {
    Box::pin(async move {
        let visit = Visit { entered, scope, entered_id };
        match &state.kind {
            StateKind::Wait(w) => {
                let env = StateEnv::new(exec, vars, &state.name, entered, None, scope, entered_id);
                states::wait::run(exec, state, w, raw, &env).await
            }
            _ => with_handling(exec, state, raw, raw_bound, vars, visit).await,
        }
    })
}

/// One visit of a state: when and by which event it was entered, in which scope.
#[derive(Clone, Copy)]
struct Visit<'a> {
    entered: chrono::DateTime<chrono::Utc>,
    scope: &'a Scope,
    entered_id: u64,
}

/// Task, Parallel and Map: attempts, retried and caught as the state's Retry and Catch say.
async fn with_handling<'a>(
    exec: &'a Exec<'a>,
    state: &'a State,
    mut raw: Value,
    raw_bound: Bound,
    vars: &'a Vars<'a>,
    visit: Visit<'a>,
) -> Result<Step, Halt> {
    let Visit { entered, scope, entered_id } = visit;
    // The raw input is needed after an attempt only to retry or to catch; and to place the
    // result when ResultPath is not `$`. When nothing needs it, an attempt may consume it.
    let keeps_raw = !state.retry.is_empty() || !state.catch.is_empty();
    let moves_raw = !keeps_raw && !flow::output_needs_raw(state);
    let mut attempts = vec![0u64; state.retry.len()];
    let mut retry_count = 0u64;
    loop {
        let env = StateEnv::new(exec, vars, &state.name, entered, Some(retry_count), scope, entered_id);
        let outcome = match &state.kind {
            StateKind::Task(t) => states::task::attempt(exec, state, t, &raw, &env).await,
            StateKind::Parallel(p) => states::parallel::attempt(exec, state, p, &raw, raw_bound, &env).await,
            StateKind::Map(m) => {
                let owned = moves_raw.then(|| std::mem::take(&mut raw));
                states::map::attempt(exec, state, m, &raw, raw_bound, owned, &env).await
            }
            _ => unreachable!("only Task, Parallel and Map states are handled here"),
        };
        let failure = match outcome.and_then(|result| {
            let raw_for_result = if keeps_raw { raw.clone() } else { std::mem::take(&mut raw) };
            finish(state, raw_for_result, Some(result), &env).map_err(Halt::from)
        }) {
            Ok(step) => return Ok(step),
            Err(Halt::Failed(f)) => f,
            Err(h) => return Err(h),
        };
        match decide(&failure, &state.retry, &state.catch, &attempts) {
            // A retried state loops without passing a state entry.
            Decision::Retry { .. } if exec.history_exhausted() => return Err(Halt::HistoryLimit),
            Decision::Retry { retrier, delay_millis, jitter } => {
                attempts[retrier] += 1;
                retry_count += 1;
                let delay = match jitter {
                    crate::asl::model::JitterStrategy::Full => exec.jitter_millis(delay_millis, scope.last()),
                    crate::asl::model::JitterStrategy::None => delay_millis,
                };
                // With a journal the back-off runs from the failure event's time, so a replay
                // wakes when the first run would have.
                let failed_at = match exec.journal {
                    Some(_) => scope.last_at().unwrap_or_else(|| exec.host.now()),
                    None => exec.host.now(),
                };
                let wake = super::time::after_millis(failed_at, delay);
                if exec.deadline.is_some_and(|d| wake >= d) {
                    if let Some(d) = exec.deadline {
                        exec.host.sleep_until(d).await;
                    }
                    return Err(Halt::TimedOut);
                }
                exec.host.sleep_until(wake).await;
            }
            Decision::Catch(c) => return Ok(caught(c, &failure, raw, &env)?),
            Decision::Fail => return Err(Halt::Failed(failure)),
        }
    }
}

/// Where a Catcher sends a failure: its output (JSONata `Output`, else the error output; or
/// JSONPath's error output placed by `ResultPath` into the raw input), its `Assign`, and its
/// `Next`.
pub(crate) fn caught(c: &Catcher, failure: &Failure, raw: Value, env: &dyn Env) -> Result<Step, Failure> {
    let error_output = failure.to_error_output();
    let (assigned, output) = if c.jsonata {
        let scope = Scoped::new(env, &raw, None, Some(&error_output));
        let assigned = c.assign.as_ref().map(|t| flow::object(t.eval(&raw, &scope)?)).transpose()?;
        let output = match &c.output {
            Some(t) => t.eval(&raw, &scope)?,
            None => error_output,
        };
        (assigned, output)
    } else {
        let assigned = match &c.assign {
            Some(t) => Some(flow::assign(t, &error_output, &raw, None, false, env)?),
            None => None,
        };
        (assigned, io::result_path(&c.result_path, raw, error_output)?)
    };
    Ok(Step { output, next: Some(c.next), assigned })
}

/// The common tail of a state that produced a result: Assign (from the raw result), then
/// the state output ([`flow::output`]).
///
/// `result` is `None` when the state's result is its raw input itself (a Pass without Result
/// or Parameters), so that the input is never copied for nothing.
pub(crate) fn finish(state: &State, raw: Value, result: Option<Value>, env: &dyn Env) -> Result<Step, Failure> {
    finish_traced(state, raw, result, env, None)
}

/// [`finish`], with the intermediate values of the output copied into `trace` (TestState).
pub(crate) fn finish_traced(
    state: &State,
    raw: Value,
    result: Option<Value>,
    env: &dyn Env,
    trace: Option<&mut flow::OutputTrace>,
) -> Result<Step, Failure> {
    let assigned = match &state.assign {
        Some(t) => {
            let value = result.as_ref().unwrap_or(&raw);
            Some(flow::assign(t, value, &raw, result.as_ref(), state.flow.is_jsonata(), env)?)
        }
        None => None,
    };
    let output = flow::output_traced(state, raw, result, env, trace)?;
    Ok(Step { output, next: flow::next(state), assigned })
}
