//! TestState: one state of a definition evaluated once, with the data at each step of its
//! input and output processing kept for inspection (AWS's `inspectionData`), and what Retry and
//! Catch would do with a failure decided rather than done (`RETRIABLE`, `CAUGHT_ERROR`).
//!
//! The steps are the engine's own (`flow`, `io`, `run::finish`, `run::caught`, the state
//! files): only the order is written here, so a state tested behaves as it does in a run.
//! Nothing here sleeps (a Wait's target is computed, not waited for), writes history, or
//! retries: a test is one attempt. A Task calls its integration through the [`Host`], unless a
//! [`Mock`] answers for it; Parallel and Map states are only evaluated with a mock, which
//! stands for their branches' or iterations' result.
//!
//! Shapes and member names follow AWS's API reference of TestState
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>) and
//! the guide "Testing state machines with TestState API"
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html>).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::asl::error_name::{EXCEED_TOLERATED_FAILURE_THRESHOLD, Failure, RUNTIME};
use crate::asl::eval::context::MapItem;
use crate::asl::eval::handling::{Decision, decide};
use crate::asl::eval::operand::{self, Field};
use crate::asl::eval::run::{Step, caught, finish_traced};
use crate::asl::eval::states::map as map_state;
use crate::asl::eval::states::{choice, fail};
use crate::asl::eval::{Host, TaskRequest, flow, time};
use crate::asl::model::{MapState, State, StateKind, StateMachine, Wait};
use crate::asl::path::Env;
use crate::asl::resource::{Pattern, Target};
use crate::asl::timestamp;

/// The name AWS gives the state under test in the context object (`$$.State.Name`), whether
/// it came alone or was picked from a state machine by `stateName`.
pub const STATE_NAME: &str = "StateName";

/// What answers for the state's work instead of running it.
#[derive(Debug, Clone, PartialEq)]
pub enum Mock {
    /// The result of the Task's call, or of the Parallel's branches or the Map's iterations.
    Result(Value),
    /// The failure of that work.
    Error(Failure),
}

/// One TestState request, as the engine needs it.
#[derive(Debug, Clone)]
pub struct TestRequest<'a> {
    pub state: &'a State,
    /// The state machine (top level, branch or item processor) that holds the state: where
    /// its transitions point.
    pub machine: &'a StateMachine,
    pub input: Value,
    /// The workflow variables the state sees.
    pub variables: Map<String, Value>,
    /// The whole context object (`$$`, `$states.context`): the caller's, or
    /// [`default_context`].
    pub context: Value,
    pub mock: Option<Mock>,
    /// How many retries the matching retrier has made already (`stateConfiguration`).
    pub retrier_retry_count: u64,
    /// How many iterations of a mocked Map failed (`stateConfiguration`).
    pub map_iteration_failure_count: Option<u64>,
    /// The ARN a Task's call carries.
    pub execution_arn: String,
}

/// How the state ended (AWS's `TestExecutionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    Succeeded,
    Failed,
    /// A retrier matched the error and has attempts left.
    Retriable,
    /// A catcher took the error; the output and next state are the catcher's.
    CaughtError,
}

impl TestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Succeeded => "SUCCEEDED",
            TestStatus::Failed => "FAILED",
            TestStatus::Retriable => "RETRIABLE",
            TestStatus::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// Which handler took an error (AWS's `InspectionErrorDetails`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorDetails {
    pub catch_index: Option<usize>,
    pub retry_index: Option<usize>,
    pub retry_backoff_interval_seconds: Option<u64>,
}

/// The data at each step (AWS's `InspectionData`). Members are set where AWS reports them for
/// the state's type and query language.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inspection {
    pub input: Value,
    pub after_input_path: Option<Value>,
    pub after_parameters: Option<Value>,
    pub after_arguments: Option<Value>,
    pub result: Option<Value>,
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
    pub after_items_path: Option<Value>,
    pub after_item_selector: Option<Value>,
    /// The variables after the state: those given and those it assigned.
    pub variables: Option<Map<String, Value>>,
    pub error_details: Option<ErrorDetails>,
    pub max_concurrency: Option<u64>,
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
}

/// What the test found.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub status: TestStatus,
    pub output: Option<Value>,
    pub failure: Option<Failure>,
    pub next_state: Option<String>,
    pub inspection: Inspection,
}

/// The context object AWS gives a state under test when the request has none: an Express
/// execution's (`…:express:<machine>:<execution>`), `RoleArn` null without a role, and the
/// state named [`STATE_NAME`]; `RetryCount` for the states that retry.
pub fn default_context(
    state: &State,
    input: &Value,
    names: &super::ExecutionOptions,
    role_arn: Option<&str>,
    retry_count: u64,
    now: DateTime<Utc>,
) -> Value {
    let at = timestamp::format(now);
    let (region, account, machine) = (&names.region, &names.account, &names.state_machine_name);
    let mut st = Map::new();
    st.insert("Name".into(), json!(STATE_NAME));
    st.insert("EnteredTime".into(), json!(at));
    if matches!(state.kind, StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_)) {
        st.insert("RetryCount".into(), json!(retry_count));
    }
    json!({
        "Execution": {
            "Id": format!("arn:aws:states:{region}:{account}:express:{machine}:{}", names.execution_name),
            "Input": input,
            "Name": names.execution_name,
            "RoleArn": role_arn,
            "StartTime": at,
        },
        "StateMachine": {"Id": names.state_machine_arn(), "Name": machine},
        "State": st,
    })
}

/// The state named `name` anywhere in `machine` (top level, Parallel branches, Map item
/// processors), with the machine that holds it.
pub fn find<'m>(machine: &'m StateMachine, name: &str) -> Option<(&'m StateMachine, &'m State)> {
    for s in &machine.states {
        if s.name == name {
            return Some((machine, s));
        }
        let found = match &s.kind {
            StateKind::Parallel(p) => p.branches.iter().find_map(|b| find(b, name)),
            StateKind::Map(m) => find(&m.processor, name),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// A single state's definition as a state machine that the parser accepts: the state, named
/// [`STATE_NAME`], and a `Succeed` stand-in for every state its transitions name, so that
/// transitions resolve (AWS tests a lone state whose `Next` names states it was not given).
pub fn wrap_state(state: &Value) -> Value {
    let mut states = Map::new();
    states.insert(STATE_NAME.into(), state.clone());
    let mut targets: Vec<&Value> = vec![&state["Next"], &state["Default"]];
    for list in ["Choices", "Catch"] {
        if let Some(items) = state[list].as_array() {
            targets.extend(items.iter().map(|c| &c["Next"]));
        }
    }
    for t in targets.into_iter().filter_map(Value::as_str) {
        if !states.contains_key(t) {
            states.insert(t.into(), json!({"Type": "Succeed"}));
        }
    }
    json!({"StartAt": STATE_NAME, "States": states})
}

/// Whether a Task's resource runs only with a mock in TestState: activities, `.sync` and
/// `.waitForTaskToken` (AWS: "TestState only supports the following when a mock is
/// specified").
pub fn needs_mock(state: &State) -> bool {
    match &state.kind {
        StateKind::Task(t) => {
            matches!(t.resource.target, Target::Activity { .. }) || t.resource.pattern != Pattern::RequestResponse
        }
        StateKind::Parallel(_) | StateKind::Map(_) => true,
        _ => false,
    }
}

/// What expressions see during the test: the given context object and variables, the host's
/// clock and randomness.
struct TestEnv<'a> {
    context: &'a Value,
    vars: &'a Map<String, Value>,
    host: &'a dyn Host,
}

impl Env for TestEnv<'_> {
    fn context(&self) -> &Value {
        self.context
    }
    fn variable(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }
    fn now(&self) -> DateTime<Utc> {
        self.host.now()
    }
    fn random(&self) -> u64 {
        self.host.random()
    }
}

/// An environment whose context object holds `Map.Item` (a Map's ItemSelector).
struct ItemEnv<'a> {
    env: &'a dyn Env,
    context: Value,
}

impl Env for ItemEnv<'_> {
    fn context(&self) -> &Value {
        &self.context
    }
    fn variable(&self, name: &str) -> Option<&Value> {
        self.env.variable(name)
    }
    fn now(&self) -> DateTime<Utc> {
        self.env.now()
    }
    fn random(&self) -> u64 {
        self.env.random()
    }
}

/// Evaluates the state once.
pub async fn test_state(req: TestRequest<'_>, host: &dyn Host) -> TestOutcome {
    let TestRequest { state, machine, input, variables, context, mock, .. } = &req;
    let env = TestEnv { context, vars: variables, host };
    let mut ins = Inspection { input: input.clone(), ..Inspection::default() };
    let jsonpath = !state.flow.is_jsonata();
    let raw = input.clone();
    let ended = match &state.kind {
        StateKind::Pass(p) => {
            let result = match &p.result {
                Some(r) => {
                    ins.result = jsonpath.then(|| r.clone());
                    Ok(Some(r.clone()))
                }
                None => inputs(state, &raw, &env, &mut ins).map(Some),
            };
            result.and_then(|r| finish(state, raw, r, &env, &mut ins)).map_err(Ended::Failed)
        }
        StateKind::Choice(c) => traced_selection(state, &raw, &env, &mut ins)
            .and_then(|_| choice::run(state, c, raw, &env))
            .map_err(Ended::Failed),
        StateKind::Succeed => traced_selection(state, &raw, &env, &mut ins)
            .and_then(|sel| flow::passed_output(state, sel, &env))
            .map(|output| Step { output, next: None, assigned: None })
            .map_err(Ended::Failed),
        StateKind::Fail(f) => match traced_selection(state, &raw, &env, &mut ins) {
            Ok(_) => Err(Ended::Failed(fail::run(f, &raw, &env).unwrap_or_else(|e| e))),
            Err(e) => Err(Ended::Failed(e)),
        },
        StateKind::Wait(w) => wait(state, w, raw, &env, &mut ins).map_err(Ended::Failed),
        StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => {
            let attempt = match &state.kind {
                StateKind::Task(_) => task(&req, &env, &mut ins).await,
                StateKind::Map(m) => map(state, m, &raw, &env, &req, &mut ins),
                _ => inputs(state, &raw, &env, &mut ins).and_then(|_| mocked(mock.as_ref())),
            };
            let finished = attempt.and_then(|result| {
                // AWS reports no `result` for a Map state.
                if !matches!(state.kind, StateKind::Map(_)) {
                    ins.result = Some(result.clone());
                }
                finish(state, raw.clone(), Some(result), &env, &mut ins)
            });
            match finished {
                Ok(step) => Ok(step),
                Err(failure) => Err(handle(state, failure, raw, &env, req.retrier_retry_count, &mut ins)),
            }
        }
    };
    let outcome = |status, step: Option<Step>, failure, ins: Inspection| {
        let next_state = step.as_ref().and_then(|s| s.next).map(|n| machine.states[n].name.clone());
        TestOutcome { status, output: step.map(|s| s.output), failure, next_state, inspection: ins }
    };
    let mut vars = variables.clone();
    let result = match ended {
        Ok(step) => {
            vars.extend(step.assigned.clone().unwrap_or_default());
            Ok((TestStatus::Succeeded, Some(step), None))
        }
        Err(Ended::Caught(step, failure)) => {
            vars.extend(step.assigned.clone().unwrap_or_default());
            Ok((TestStatus::CaughtError, Some(step), Some(failure)))
        }
        Err(Ended::Retriable(f)) => Err((TestStatus::Retriable, f)),
        Err(Ended::Failed(f)) => Err((TestStatus::Failed, f)),
    };
    if !vars.is_empty() {
        ins.variables = Some(vars);
    }
    match result {
        Ok((status, step, failure)) => outcome(status, step, failure, ins),
        Err((status, f)) => outcome(status, None, Some(f), ins),
    }
}

/// How a state that did not succeed ended.
enum Ended {
    Failed(Failure),
    Retriable(Failure),
    /// A catcher's step (its output, `Next` and assignments), and the failure it caught.
    Caught(Step, Failure),
}

/// `InputPath` (reported as `afterInputPath` in JSONPath states).
fn traced_selection(state: &State, raw: &Value, env: &dyn Env, ins: &mut Inspection) -> Result<Value, Failure> {
    let sel = flow::selected(state, raw, env)?.into_owned();
    if !state.flow.is_jsonata() {
        ins.after_input_path = Some(sel.clone());
    }
    Ok(sel)
}

/// The effective input: `InputPath` then `Parameters` (JSONPath: `afterInputPath`,
/// `afterParameters`), or `Arguments` (JSONata: `afterArguments`).
fn inputs(state: &State, raw: &Value, env: &dyn Env, ins: &mut Inspection) -> Result<Value, Failure> {
    let sel = traced_selection(state, raw, env, ins)?;
    let eff = flow::arguments(state, std::borrow::Cow::Owned(sel), raw, env)?.into_owned();
    if state.flow.is_jsonata() {
        // A JSONata Pass has no Arguments, and AWS reports none.
        if !matches!(state.kind, StateKind::Pass(_)) {
            ins.after_arguments = Some(eff.clone());
        }
    } else {
        ins.after_parameters = Some(eff.clone());
    }
    Ok(eff)
}

/// The state's tail (Assign, then the output), with `afterResultSelector` and
/// `afterResultPath` kept (JSONPath).
fn finish(
    state: &State,
    raw: Value,
    result: Option<Value>,
    env: &dyn Env,
    ins: &mut Inspection,
) -> Result<Step, Failure> {
    let mut trace = flow::OutputTrace::default();
    let step = finish_traced(state, raw, result, env, Some(&mut trace))?;
    if !state.flow.is_jsonata() {
        ins.after_result_selector = trace.after_result_selector;
        ins.after_result_path = trace.after_result_path;
    }
    Ok(step)
}

/// Wait: the target time is computed (a bad `SecondsPath` fails as in a run) but not waited
/// for.
fn wait(state: &State, w: &Wait, raw: Value, env: &dyn Env, ins: &mut Inspection) -> Result<Step, Failure> {
    let eff = traced_selection(state, &raw, env, ins)?;
    match w {
        Wait::Seconds(s) => {
            operand::int(s, Field::WaitSeconds, &eff, env).map(|s| time::after_seconds(env.now(), s))?
        }
        Wait::Timestamp(t) => operand::timestamp(t, &eff, env)?,
    };
    let assigned = match &state.assign {
        Some(t) => Some(flow::assign(t, &eff, &eff, None, state.flow.is_jsonata(), env)?),
        None => None,
    };
    let output = flow::passed_output(state, eff, env)?;
    Ok(Step { output, next: flow::next(state), assigned })
}

fn mocked(mock: Option<&Mock>) -> Result<Value, Failure> {
    match mock {
        Some(Mock::Result(v)) => Ok(v.clone()),
        Some(Mock::Error(f)) => Err(f.clone()),
        None => Err(Failure::new(RUNTIME, "TestState runs Parallel and Map states only with a mock of their result")),
    }
}

/// Task: the effective input, then the mock's answer or the integration's.
async fn task(req: &TestRequest<'_>, env: &TestEnv<'_>, ins: &mut Inspection) -> Result<Value, Failure> {
    let state = req.state;
    let StateKind::Task(t) = &state.kind else { unreachable!("a Task state") };
    let sel = traced_selection(state, &req.input, env, ins)?;
    let timeout = match &t.timeout {
        Some(op) => operand::int(op, Field::TimeoutSeconds, &sel, env)?,
        None => super::states::task::DEFAULT_TIMEOUT_SECONDS,
    };
    let heartbeat = match &t.heartbeat {
        Some(op) => Some(operand::int(op, Field::HeartbeatSeconds, &sel, env)?),
        None => None,
    };
    let credentials = match &t.credentials {
        Some(c) => Some(c.eval(&sel, env)?),
        None => None,
    };
    let eff = flow::arguments(state, std::borrow::Cow::Owned(sel), &req.input, env)?.into_owned();
    if state.flow.is_jsonata() {
        ins.after_arguments = Some(eff.clone());
    } else {
        ins.after_parameters = Some(eff.clone());
    }
    if let Some(m) = &req.mock {
        return mocked(Some(m));
    }
    // AWS's TestState runs for at most five minutes and fails with States.Timeout after.
    let request = TaskRequest {
        state_name: state.name.clone(),
        resource: Arc::clone(&t.resource),
        input: eff,
        timeout_seconds: timeout.min(TEST_TIMEOUT_SECONDS),
        heartbeat_seconds: heartbeat,
        credentials,
        execution_arn: req.execution_arn.clone(),
        call_id: 1,
        // Tasks that wait for a callback run only with a mock (refused before this).
        task_token: None,
    };
    env.host.invoke_task(request).await
}

/// How long TestState lets a state run (AWS: five minutes).
pub const TEST_TIMEOUT_SECONDS: u64 = 300;

/// Map (with a mock): the items and each iteration's input are computed as in a run and
/// reported; the mock stands for the iterations' results, and `mapIterationFailureCount`
/// failed iterations are judged against the Map's tolerated failures.
fn map(
    state: &State,
    m: &MapState,
    raw: &Value,
    env: &dyn Env,
    req: &TestRequest<'_>,
    ins: &mut Inspection,
) -> Result<Value, Failure> {
    let eff = traced_selection(state, raw, env, ins)?;
    ins.max_concurrency = Some(map_state::max_concurrency(m, &eff, env)?);
    ins.tolerated_failure_count = m
        .tolerated_failure_count
        .as_ref()
        .map(|op| operand::int(op, Field::ToleratedFailureCount, &eff, env))
        .transpose()?;
    ins.tolerated_failure_percentage =
        m.tolerated_failure_percentage.as_ref().map(|op| operand::percentage(op, &eff, env)).transpose()?;
    // Items an ItemReader would read are not read: the mock stands for what became of them.
    if m.item_reader.is_none() {
        let items = map_state::items(m, &eff, env)?;
        if !m.jsonata {
            ins.after_items_path = Some(Value::Array(items.iter().map(|i| i.value.clone()).collect()));
        }
        if let Some(selector) = &m.item_selector {
            let selected =
                items.iter().map(|item| select_item(m.jsonata, selector, item, &eff, env)).collect::<Result<_, _>>()?;
            ins.after_item_selector = Some(Value::Array(selected));
        }
    }
    let result = mocked(req.mock.as_ref())?;
    if let Some(failed) = req.map_iteration_failure_count {
        let n = result.as_array().map_or(0, Vec::len);
        let over_count = ins.tolerated_failure_count.is_some_and(|c| failed > c);
        let over_percentage =
            ins.tolerated_failure_percentage.is_some_and(|p| n > 0 && (failed as f64) * 100.0 / (n as f64) > p);
        if over_count || over_percentage {
            return Err(Failure::new(
                EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            ));
        }
    }
    Ok(result)
}

fn select_item(
    jsonata: bool,
    selector: &crate::asl::path::Template,
    item: &MapItem,
    eff: &Value,
    env: &dyn Env,
) -> Result<Value, Failure> {
    let mut context = env.context().clone();
    if let Value::Object(c) = &mut context {
        c.insert("Map".into(), json!({"Item": item.to_context()}));
    }
    let item_env = ItemEnv { env, context };
    if jsonata {
        selector.eval(eff, &crate::asl::eval::context::Scoped::input(&item_env, eff))
    } else {
        selector.eval(eff, &item_env)
    }
}

/// A failure of a Task, Parallel or Map: what its Retry and Catch would do with it, the
/// matching retrier having made `retried` retries already.
fn handle(state: &State, failure: Failure, raw: Value, env: &dyn Env, retried: u64, ins: &mut Inspection) -> Ended {
    let attempts = vec![retried; state.retry.len()];
    match decide(&failure, &state.retry, &state.catch, &attempts) {
        Decision::Retry { retrier, delay_millis, .. } => {
            ins.error_details = Some(ErrorDetails {
                retry_index: Some(retrier),
                retry_backoff_interval_seconds: Some(delay_millis / 1000),
                ..ErrorDetails::default()
            });
            Ended::Retriable(failure)
        }
        Decision::Catch(c) => {
            let index = state.catch.iter().position(|x| std::ptr::eq(x, c));
            ins.error_details = Some(ErrorDetails { catch_index: index, ..ErrorDetails::default() });
            match caught(c, &failure, raw, env) {
                Ok(step) => Ended::Caught(step, failure),
                Err(f) => Ended::Failed(f),
            }
        }
        Decision::Fail => {
            // A retrier that matched but has no attempts left is still named (AWS reports
            // its index with the final failure).
            if let Some(i) = state.retry.iter().position(|r| failure.matches(&r.error_equals))
                && !failure.is_terminal()
            {
                ins.error_details = Some(ErrorDetails { retry_index: Some(i), ..ErrorDetails::default() });
            }
            Ended::Failed(failure)
        }
    }
}

#[cfg(test)]
#[path = "tests_test_state.rs"]
mod tests;
