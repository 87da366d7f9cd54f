//! A state's data flow, in either query language, behind one pair of functions: the effective
//! input ([`selected`], then [`arguments`]; [`effective`] does both) and the state output
//! ([`output`], with [`assign`] beside it). State evaluators call only these; the fields of
//! each language ([`DataFlow`]) are read nowhere else.
//!
//! JSONPath: InputPath → Parameters → (work) → ResultSelector → ResultPath → OutputPath.
//! JSONata: the raw input is `$states.input`; Arguments → (work) → Output, with Assign and
//! Output both evaluated from the same `$states` (see [`Scoped`]).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::asl::error_name::Failure;
use crate::asl::model::{DataFlow, ResultPath, State, Transition};
use crate::asl::path::{Env, Template};

use super::context::Scoped;
use super::io;

/// The state's input after `InputPath`. JSONata has no InputPath: the raw input itself.
pub(crate) fn selected<'v>(state: &State, raw: &'v Value, env: &dyn Env) -> Result<Cow<'v, Value>, Failure> {
    match &state.flow {
        DataFlow::JsonPath(p) => io::select(&p.input_path, raw, env),
        DataFlow::Jsonata(_) => Ok(Cow::Borrowed(raw)),
    }
}

/// Like [`selected`] but consumes the raw input, so that `$` costs nothing.
pub(crate) fn selected_owned(state: &State, raw: Value, env: &dyn Env) -> Result<Value, Failure> {
    match &state.flow {
        DataFlow::JsonPath(p) => io::select_owned(&p.input_path, raw, env),
        DataFlow::Jsonata(_) => Ok(raw),
    }
}

/// Applies `Parameters` (JSONPath, to the selected input) or `Arguments` (JSONata, reading
/// `$states.input`, the raw input); without either the selected input passes through.
pub(crate) fn arguments<'v>(
    state: &State,
    selected: Cow<'v, Value>,
    raw: &Value,
    env: &dyn Env,
) -> Result<Cow<'v, Value>, Failure> {
    match &state.flow {
        DataFlow::JsonPath(p) => io::apply_template(p.parameters.as_ref(), selected, env),
        DataFlow::Jsonata(j) => match &j.arguments {
            None => Ok(selected),
            Some(t) => t.eval(raw, &Scoped::input(env, raw)).map(Cow::Owned),
        },
    }
}

/// The effective input: [`selected`], then [`arguments`].
pub(crate) fn effective<'v>(state: &State, raw: &'v Value, env: &dyn Env) -> Result<Cow<'v, Value>, Failure> {
    let selected = selected(state, raw, env)?;
    arguments(state, selected, raw, env)
}

/// The `Assign` block of a state (or of a Choice rule or a Catcher), evaluated with the
/// variables as they were when the state was entered. JSONPath's `$` is `value` (the result,
/// or the effective input of a state without one); JSONata reads `$states`.
pub(crate) fn assign(
    t: &Template,
    value: &Value,
    raw: &Value,
    result: Option<&Value>,
    jsonata: bool,
    env: &dyn Env,
) -> Result<Map<String, Value>, Failure> {
    let v = if jsonata { t.eval(value, &Scoped::new(env, raw, result, None))? } else { t.eval(value, env)? };
    object(v)
}

/// The variables an evaluated `Assign` block assigns.
pub(crate) fn object(v: Value) -> Result<Map<String, Value>, Failure> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

/// Whether the state output can be computed without the raw input once the result exists:
/// then an attempt may consume the raw input.
pub(crate) fn output_needs_raw(state: &State) -> bool {
    match &state.flow {
        DataFlow::JsonPath(p) => !matches!(p.result_path, ResultPath::Replace),
        // `$states.input` stays readable in Output and Assign.
        DataFlow::Jsonata(j) => j.output.is_some() || state.assign.is_some(),
    }
}

/// The state output. `result` is `None` when the state's result is its raw input itself (a
/// Pass without Result or Parameters, a Choice, a Wait), so that the input is never copied
/// for nothing. JSONPath: ResultSelector → ResultPath into the raw input → OutputPath.
/// JSONata: `Output`, else the result, else the input.
pub(crate) fn output(state: &State, raw: Value, result: Option<Value>, env: &dyn Env) -> Result<Value, Failure> {
    output_traced(state, raw, result, env, None)
}

/// The intermediate values of a JSONPath state output, as TestState's inspection data reports
/// them: the result after `ResultSelector`, and the raw input with the result placed by
/// `ResultPath` (before `OutputPath`).
#[derive(Debug, Default)]
pub(crate) struct OutputTrace {
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
}

/// [`output`], copying the intermediate values into `trace` when one is given (a run passes
/// none and copies nothing).
pub(crate) fn output_traced(
    state: &State,
    raw: Value,
    result: Option<Value>,
    env: &dyn Env,
    mut trace: Option<&mut OutputTrace>,
) -> Result<Value, Failure> {
    match &state.flow {
        DataFlow::JsonPath(p) => {
            let result = match &p.result_selector {
                Some(t) => Some(t.eval(result.as_ref().unwrap_or(&raw), env)?),
                None => result,
            };
            if let Some(t) = trace.as_deref_mut() {
                t.after_result_selector = Some(result.clone().unwrap_or_else(|| raw.clone()));
            }
            let combined = match result {
                Some(v) => io::result_path(&p.result_path, raw, v)?,
                // The result is the raw input: replacing or discarding both leave it as it is.
                None => match &p.result_path {
                    ResultPath::At(_) => {
                        let copy = raw.clone();
                        io::result_path(&p.result_path, raw, copy)?
                    }
                    _ => raw,
                },
            };
            if let Some(t) = trace {
                t.after_result_path = Some(combined.clone());
            }
            io::select_owned(&p.output_path, combined, env)
        }
        DataFlow::Jsonata(j) => match &j.output {
            Some(t) => t.eval(&raw, &Scoped::new(env, &raw, result.as_ref(), None)),
            None => Ok(result.unwrap_or(raw)),
        },
    }
}

/// The output of a state without a result of its own (Choice, Wait, Succeed), from its
/// selected input: JSONPath's OutputPath, or JSONata's `Output` reading `$states.input`.
pub(crate) fn passed_output(state: &State, selected: Value, env: &dyn Env) -> Result<Value, Failure> {
    match &state.flow {
        DataFlow::JsonPath(p) => io::select_owned(&p.output_path, selected, env),
        DataFlow::Jsonata(_) => output(state, selected, None, env),
    }
}

/// Where a state goes after it succeeds (Choice states decide for themselves).
pub(crate) fn next(state: &State) -> Option<usize> {
    match state.transition {
        Transition::Next(n) => Some(n),
        _ => None,
    }
}
