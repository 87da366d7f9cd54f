//! TestState (its November 2025 form): one state evaluated once, alone or picked from a whole
//! state machine by `stateName`, with mocks, `variables`, a `context` object,
//! `stateConfiguration` and `inspectionLevel`. The evaluation is the engine's
//! (`shared::asl::eval::test_state`); this file reads and checks the request as AWS does and
//! writes AWS's answer.
//!
//! AWS's API reference: <https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>;
//! the guide: <https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html>.
//! Refusals carry AWS's codes and, where AWS's text is known (recorded from AWS in LocalStack's
//! validated snapshots, `tests/aws/services/stepfunctions/v2/test_state/`), its words.
//! Without a mock a Task calls the server's integrations as a run would (the server's host).
//! A mocked Task result is checked against the API model of what the Task calls
//! (`fieldValidationMode`, `worker::integrations::aws::mock_check`). Not done here, and refused
//! rather than skipped: the HTTP request and response of an unmocked HTTP Task at `TRACE` — see
//! ARCHITECTURE.md.

use serde_json::{Map, Value, json};
use shared::asl::eval::ExecutionOptions;
use shared::asl::eval::test_state::{self as engine, Inspection, Mock, TestOutcome, TestRequest};
use shared::asl::model::{StateKind, StateMachine};
use shared::asl::resource::{Pattern, Target};
use shared::asl::{Failure, Severity};
use worker::integrations::aws::mock_check;

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, definition};

/// AWS's text for a Map or Parallel state tested without a mock.
const MAP_OR_PARALLEL: &str = "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]";

/// The members of the request that shape the test.
struct Asked {
    definition: String,
    role_arn: Option<String>,
    input: Option<String>,
    level: String,
    reveal_secrets: bool,
    variables: Option<String>,
    state_name: Option<String>,
    mock: Option<Map<String, Value>>,
    context: Option<String>,
    configuration: Option<Map<String, Value>>,
}

fn read(mut r: Request) -> Result<Asked, ApiError> {
    let definition = r.required("definition", 1, 1 << 20)?;
    let role_arn = r.string("roleArn", 1, 256)?;
    let input = r.string("input", 0, 262_144)?;
    let level = r.enumeration("inspectionLevel", &["INFO", "DEBUG", "TRACE"])?;
    let reveal_secrets = r.boolean("revealSecrets")?.unwrap_or(false);
    let variables = r.string("variables", 0, 262_144)?;
    let state_name = r.string("stateName", 1, 80)?;
    let mock = r.object("mock")?;
    let context = r.string("context", 0, 262_144)?;
    let configuration = r.object("stateConfiguration")?;
    r.finish()?;
    Ok(Asked {
        definition,
        role_arn,
        input,
        level: level.unwrap_or_else(|| "INFO".into()),
        reveal_secrets,
        variables,
        state_name,
        mock,
        context,
        configuration,
    })
}

pub async fn run(ctx: &Ctx, r: Request) -> Result<Value, ApiError> {
    let asked = read(r)?;
    if let Some(arn) = &asked.role_arn
        && !arn.starts_with("arn:")
    {
        return Err(ApiError::invalid_arn(arn));
    }
    let machine = machine(&asked)?;
    let wanted = asked.state_name.as_deref().unwrap_or(engine::STATE_NAME);
    let (holder, state) =
        engine::find(&machine, wanted).ok_or_else(|| ApiError::validation("State not found in definition", None))?;
    let config = Configuration::read(asked.configuration.as_ref())?;
    let mock = mock(&asked, state)?;
    checks(&asked, state, mock.as_ref(), &config)?;
    if mock.is_none() {
        supported(ctx, &machine, &state.pointer)?;
    }
    let input = match asked.input.as_deref() {
        None | Some("") => json!({}),
        Some(text) => serde_json::from_str(text).map_err(ApiError::invalid_input)?,
    };
    let variables = match asked.variables.as_deref() {
        None => Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(m)) => m,
            _ => return Err(ApiError::validation("variables must be a JSON object literal", None)),
        },
    };
    let names = ExecutionOptions {
        execution_name: uuid::Uuid::new_v4().to_string(),
        state_machine_name: uuid::Uuid::new_v4().to_string(),
        region: ctx.scope.region.clone(),
        account: ctx.scope.account.clone(),
        ..ExecutionOptions::default()
    };
    let host = ctx.executions.test_host();
    let context = match asked.context.as_deref() {
        Some(text) => checked_context(text, state)?,
        None => {
            let now = host.as_ref().map_or_else(chrono::Utc::now, |h| h.now());
            let mut c = engine::default_context(state, &input, &names, asked.role_arn.as_deref(), config.retried, now);
            // A (mocked) Task that waits for a callback reads `$$.Task.Token`, which a run puts
            // there: the default context has one too (dmap's decision; AWS accepts `Task` in a
            // given context for exactly these Tasks).
            if let StateKind::Task(t) = &state.kind
                && t.resource.pattern == Pattern::WaitForTaskToken
                && let Value::Object(m) = &mut c
            {
                m.insert("Task".into(), json!({"Token": uuid::Uuid::new_v4().to_string()}));
            }
            c
        }
    };
    let Some(host) = host else {
        return Err(ApiError::internal("this server has no host to run TestState with"));
    };
    let request = TestRequest {
        state,
        machine: holder,
        input,
        variables,
        context,
        mock,
        retrier_retry_count: config.retried,
        map_iteration_failure_count: config.map_failures,
        execution_arn: names.execution_arn(),
    };
    let outcome = engine::test_state(request, host.as_ref()).await;
    Ok(answer(outcome, asked.level != "INFO"))
}

/// The state machine to look in: the definition itself with `stateName`, otherwise the lone
/// state wrapped (see `engine::wrap_state`). Definition errors are `InvalidDefinition` in
/// AWS's list form, at pointers under `/States/StateName` for a lone state, as AWS's are.
fn machine(asked: &Asked) -> Result<StateMachine, ApiError> {
    let parsed = if asked.state_name.is_some() {
        definition::diagnostics(&asked.definition)
    } else {
        match serde_json::from_str::<Value>(&asked.definition) {
            Ok(v) if v.is_object() => match shared::asl::parse::parse_value(&engine::wrap_state(&v)) {
                Ok((m, warnings)) => (Some(m), warnings),
                Err(errors) => (None, errors),
            },
            // Not a JSON object: the parser's own words for it.
            _ => definition::diagnostics(&asked.definition),
        }
    };
    match parsed {
        (Some(m), _) => Ok(m),
        (None, found) => {
            let errors: Vec<_> = found.into_iter().filter(|d| d.severity == Severity::Error).collect();
            Err(definition::invalid(&errors))
        }
    }
}

/// `stateConfiguration`.
#[derive(Default)]
struct Configuration {
    retried: u64,
    map_failures: Option<u64>,
    /// `mapItemReaderData` was given: what a mocked Map's ItemReader would have read. The mock
    /// stands for what became of the items, and AWS's answer shows no trace of the data (as
    /// LocalStack recorded it), so it is accepted for such a Map and used for nothing.
    reader_data: bool,
}

impl Configuration {
    fn read(m: Option<&Map<String, Value>>) -> Result<Configuration, ApiError> {
        let Some(m) = m else { return Ok(Configuration::default()) };
        let mut r = Request::parse(&serde_json::to_vec(m).unwrap_or_default())?;
        let retried = r.integer("retrierRetryCount", 0, i64::from(i32::MAX))?;
        // The state an error of a mocked Map or Parallel came from: AWS reports nothing of
        // it, and neither does dmap; it is checked and accepted.
        let _ = r.string("errorCausedByState", 1, 80)?;
        let map_failures = r.integer("mapIterationFailureCount", 0, i64::from(i32::MAX))?;
        let reader_data = r.string("mapItemReaderData", 0, 262_144)?.is_some();
        r.finish()?;
        Ok(Configuration {
            retried: retried.unwrap_or(0) as u64,
            map_failures: map_failures.map(|n| n as u64),
            reader_data,
        })
    }
}

/// The mock, checked as AWS checks it.
fn mock(asked: &Asked, state: &shared::asl::model::State) -> Result<Option<Mock>, ApiError> {
    let Some(m) = &asked.mock else { return Ok(None) };
    let kind = state.kind.type_name();
    if !matches!(state.kind, StateKind::Task(_) | StateKind::Map(_) | StateKind::Parallel(_)) {
        return Err(ApiError::validation(
            format!("State type '{kind}' is not supported when a mock is specified"),
            None,
        ));
    }
    if asked.reveal_secrets {
        return Err(ApiError::validation("TestState does not support RevealSecrets when a mock is specified.", None));
    }
    let mut r = Request::parse(&serde_json::to_vec(m).unwrap_or_default())?;
    let result = r.string("result", 0, 262_144)?;
    let error_output = r.object("errorOutput")?;
    let mode = r.enumeration("fieldValidationMode", &["STRICT", "PRESENT", "NONE"])?;
    r.finish()?;
    let mock = match (result, error_output) {
        (Some(text), None) => {
            let v: Value = serde_json::from_str(&text)
                .map_err(|_| ApiError::validation("Mocked result must be valid JSON", None))?;
            check_mocked_result(state, &v)?;
            let mode = match mode.as_deref() {
                Some("NONE") => None,
                Some("PRESENT") => Some(mock_check::Mode::Present),
                _ => Some(mock_check::Mode::Strict),
            };
            if let (Some(mode), StateKind::Task(t)) = (mode, &state.kind) {
                mock_check::check(&t.resource, &v, mode).map_err(|e| ApiError::validation(e.to_string(), None))?;
            }
            Mock::Result(v)
        }
        (None, Some(e)) => {
            let mut r = Request::parse(&serde_json::to_vec(&e).unwrap_or_default())?;
            let error = r.string("error", 0, 256)?;
            let cause = r.string("cause", 0, 32_768)?;
            let error = r.present("error", error);
            r.finish()?;
            Mock::Error(Failure { error, cause })
        }
        _ => {
            return Err(ApiError::validation(
                "A test mock should have only one of the following fields: [result, errorOutput].",
                None,
            ));
        }
    };
    Ok(Some(mock))
}

/// AWS's shape rules for a mocked Map or Parallel result.
fn check_mocked_result(state: &shared::asl::model::State, v: &Value) -> Result<(), ApiError> {
    let refuse = |m: &str| Err(ApiError::validation(m, None));
    match &state.kind {
        StateKind::Map(m) if m.result_writer.is_some() && !v.is_object() => {
            refuse("Mocked result must be a JSON object.")
        }
        StateKind::Map(m) if m.result_writer.is_none() && !v.is_array() => refuse("Mocked result must be an array."),
        StateKind::Parallel(_) if !v.is_array() => refuse("Mocked result must be an array."),
        StateKind::Parallel(p) if v.as_array().map_or(0, Vec::len) != p.branches.len() => {
            refuse("Mocked result must contain the same number of items as number of Parallel branches.")
        }
        _ => Ok(()),
    }
}

/// The rules that tie members together.
fn checks(
    asked: &Asked,
    state: &shared::asl::model::State,
    mock: Option<&Mock>,
    config: &Configuration,
) -> Result<(), ApiError> {
    if mock.is_none() {
        if matches!(state.kind, StateKind::Map(_) | StateKind::Parallel(_)) {
            return Err(ApiError { code: "InvalidDefinition", ..ApiError::validation(MAP_OR_PARALLEL, None) });
        }
        if engine::needs_mock(state) {
            // dmap's words: AWS's reference says only that these run "when a mock is specified".
            return Err(ApiError::validation(
                "TestState supports Activity tasks and the .sync and .waitForTaskToken service integration \
                 patterns only when a mock is specified",
                None,
            ));
        }
        if matches!(state.kind, StateKind::Task(_)) && asked.role_arn.is_none() {
            return Err(ApiError::validation("RoleArn must be specified when testing a Task state", None));
        }
        if config.map_failures.is_some() {
            return Err(ApiError::validation(
                "TestState does not support MapIterationFailureCount when a mock is not specified.",
                None,
            ));
        }
        if asked.context.is_some() {
            // dmap's words for the reference's "This field may only be specified if a mock is
            // specified in the same request."
            return Err(ApiError::validation(
                "TestState does not support a Context object when a mock is not specified.",
                None,
            ));
        }
        if let StateKind::Task(t) = &state.kind
            && matches!(t.resource.target, Target::Http)
            && asked.level == "TRACE"
        {
            return Err(ApiError::validation(
                "dmap serve does not report the HTTP request and response of an HTTP Task (inspectionLevel TRACE) yet",
                None,
            ));
        }
    }
    let reads = matches!(&state.kind, StateKind::Map(m) if m.item_reader.is_some());
    if config.reader_data && !(reads && mock.is_some()) {
        // dmap's words: AWS's reference ties the member to Distributed Maps' ItemReader only.
        return Err(ApiError::validation(
            "stateConfiguration.mapItemReaderData applies only to a mocked Map state with an ItemReader",
            None,
        ));
    }
    if let (Some(n), Some(Mock::Result(Value::Array(items)))) = (config.map_failures, mock)
        && n as usize > items.len()
    {
        return Err(ApiError::validation(
            "Map iteration failure count must be less than or equal to the number of Map iterations",
            None,
        ));
    }
    Ok(())
}

/// What this server cannot run, for the state under test (an unmocked Task whose
/// integration is not configured): `InvalidDefinition`, as CreateStateMachine would answer.
fn supported(ctx: &Ctx, machine: &StateMachine, pointer: &str) -> Result<(), ApiError> {
    let Some(support) = &ctx.support else { return Ok(()) };
    let errors: Vec<_> = support
        .unsupported(machine)
        .into_iter()
        .filter(|d| d.severity == Severity::Error && d.location.starts_with(pointer))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(definition::invalid(&errors)) }
}

/// A `context` given with the request, checked as AWS checks it (its texts, recorded from
/// AWS): only `Execution`, `State`, `StateMachine` and, for a `.sync` or `.waitForTaskToken`
/// Task, `Task`; known members only; strings where AWS's context object has strings.
fn checked_context(text: &str, state: &shared::asl::model::State) -> Result<Value, ApiError> {
    let bad = |m: String| ApiError::validation(format!("Invalid Context object provided: {m}"), None);
    let v: Value = serde_json::from_str(text).map_err(|_| bad("the Context object is not valid JSON".into()))?;
    let Value::Object(top) = &v else { return Err(bad("the Context object must be a JSON object".into())) };
    let waits = match &state.kind {
        StateKind::Task(t) => t.resource.pattern != Pattern::RequestResponse,
        _ => false,
    };
    for (key, part) in top {
        let (members, strings): (&[&str], &[&str]) = match key.as_str() {
            "Execution" => (
                &["Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount", "RedriveTime"],
                &["Id", "Name", "RoleArn", "StartTime", "RedriveTime"],
            ),
            "State" => (&["Name", "EnteredTime", "RetryCount"], &["Name", "EnteredTime"]),
            "StateMachine" => (&["Id", "Name"], &["Id", "Name"]),
            "Task" if waits => (&["Token"], &["Token"]),
            "Task" => {
                return Err(bad("Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern".into()));
            }
            "Map" => return Err(bad("'Map' field is not supported when mocking a Context object".into())),
            other => return Err(bad(format!("Field '{other}' is not allowed"))),
        };
        let Value::Object(part) = part else { return Err(bad(format!("{key} must be an object"))) };
        for (member, value) in part {
            if !members.contains(&member.as_str()) {
                return Err(bad(format!("Field '{member}' is not allowed")));
            }
            if strings.contains(&member.as_str()) && !value.is_string() && !value.is_null() {
                return Err(bad(format!("{key}.{member} must be a string")));
            }
        }
    }
    Ok(v)
}

/// AWS's answer: data members as JSON text, `inspectionData` from DEBUG on.
fn answer(outcome: TestOutcome, inspect: bool) -> Value {
    let mut m = Map::new();
    if let Some(o) = &outcome.output {
        m.insert("output".into(), Value::from(o.to_string()));
    }
    if let Some(f) = &outcome.failure {
        if let Some(e) = &f.error {
            m.insert("error".into(), Value::from(e.clone()));
        }
        if let Some(c) = &f.cause {
            m.insert("cause".into(), Value::from(c.clone()));
        }
    }
    if inspect {
        m.insert("inspectionData".into(), inspection(&outcome.inspection));
    }
    if let Some(n) = outcome.next_state {
        m.insert("nextState".into(), Value::from(n));
    }
    m.insert("status".into(), Value::from(outcome.status.as_str()));
    Value::Object(m)
}

fn inspection(i: &Inspection) -> Value {
    let mut m = Map::new();
    let mut text = |key: &str, v: &Option<Value>| {
        if let Some(v) = v {
            m.insert(key.into(), Value::from(v.to_string()));
        }
    };
    text("input", &Some(i.input.clone()));
    text("afterInputPath", &i.after_input_path);
    text("afterParameters", &i.after_parameters);
    text("afterArguments", &i.after_arguments);
    text("result", &i.result);
    text("afterResultSelector", &i.after_result_selector);
    text("afterResultPath", &i.after_result_path);
    text("afterItemsPath", &i.after_items_path);
    text("afterItemSelector", &i.after_item_selector);
    text("variables", &i.variables.clone().map(Value::Object));
    if let Some(d) = &i.error_details {
        let mut e = Map::new();
        if let Some(n) = d.catch_index {
            e.insert("catchIndex".into(), json!(n));
        }
        if let Some(n) = d.retry_index {
            e.insert("retryIndex".into(), json!(n));
        }
        if let Some(n) = d.retry_backoff_interval_seconds {
            e.insert("retryBackoffIntervalSeconds".into(), json!(n));
        }
        m.insert("errorDetails".into(), Value::Object(e));
    }
    if let Some(n) = i.max_concurrency {
        m.insert("maxConcurrency".into(), json!(n));
    }
    if let Some(n) = i.tolerated_failure_count {
        m.insert("toleratedFailureCount".into(), json!(n));
    }
    if let Some(p) = i.tolerated_failure_percentage {
        m.insert("toleratedFailurePercentage".into(), json!(p));
    }
    Value::Object(m)
}
