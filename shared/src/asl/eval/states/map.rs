//! Map (inline): one iteration per item of the array (or JSON object) chosen by `ItemsPath`,
//! each input built by `ItemSelector`, at most `MaxConcurrency` at a time, results in item
//! order. The first failing iteration fails the state with its own error.

use std::borrow::Cow;

use futures::stream::{self, StreamExt};
use serde_json::Value;

use crate::asl::bound::Bound;
use crate::asl::error_name::{Failure, QUERY_EVALUATION_ERROR, RUNTIME};
use crate::asl::eval::context::{Exec, MapItem, Scoped, StateEnv};
use crate::asl::eval::operand::{self, Field};
use crate::asl::eval::run::{Halt, run_machine};
use crate::asl::eval::{flow, io, map_run};
use crate::asl::history::Event;

use super::parallel::nested_scopes;
use crate::asl::model::{MapState, ProcessorMode, State};
use crate::asl::path::Env;
use crate::asl::path::Template;
use crate::asl::path::template::{ExprKind, compact};

/// One attempt. `owned` is the raw input when nothing else needs it afterwards: items are
/// then moved out of it instead of copied.
pub(crate) async fn attempt<'a>(
    exec: &'a Exec<'a>,
    state: &'a State,
    m: &'a MapState,
    raw: &Value,
    raw_bound: Bound,
    owned: Option<Value>,
    env: &StateEnv<'a>,
) -> Result<Value, Halt> {
    // An iteration's input is an item of the effective input, or what ItemSelector makes of
    // it, where `$$.Map.Item` holds the item too.
    let eff_bound = state.growth.effective.apply(raw_bound, exec.context_bound, env.vars.bound);
    let item_context = exec
        .context_bound
        .plus(Bound { size: eff_bound.size.saturating_add(64), depth: eff_bound.depth.saturating_add(3) });
    let iteration_bound = state.growth.branch_input.apply(raw_bound, item_context, env.vars.bound);
    let eff: Cow<'_, Value> = match owned {
        Some(v) => Cow::Owned(flow::selected_owned(state, v, env)?),
        None => flow::selected(state, raw, env)?,
    };
    if let ProcessorMode::Distributed(_) = m.mode {
        let mut request = map_run::resolve(state, m, eff.into_owned(), env)?;
        let length = request.items.as_ref().map_or(0, Vec::len);
        exec.record(env.scope, || Event::MapStateStarted { length });
        let run_key = exec.next_key(env.scope);
        // With a journal the Map Run's id derives from the execution and the event's key, so a
        // restarted execution finds (and resumes) the same Map Run.
        let map_run_arn = run_key.as_deref().map(|k| {
            let id = map_run::keyed_id(exec.execution_arn(), k);
            let label = m.label.clone().unwrap_or_else(|| map_run::generated_label(&state.name));
            let arn = map_run::map_run_arn(&request.parent, &label, &id);
            request.map_run_id = Some(id);
            arn
        });
        exec.record_keyed(env.scope, run_key.as_deref(), || Event::MapRunStarted {
            map_run_arn: map_run_arn.as_deref().unwrap_or_default(),
        });
        let outcome_key = exec.next_key(env.scope);
        let result = match exec.replayed(outcome_key.as_deref()) {
            Some(recorded) => recorded,
            None => exec.host.run_map(request).await,
        };
        exec.record_keyed(env.scope, outcome_key.as_deref(), || match &result {
            Ok(result) => Event::MapRunSucceeded { result },
            Err(failure) => Event::MapRunFailed { failure },
        });
        exec.record(env.scope, || if result.is_ok() { Event::MapStateSucceeded } else { Event::MapStateFailed });
        return Ok(result?);
    }
    let max = max_concurrency(m, &eff, env)?;
    let inputs: Vec<Value> = match (eff, &m.item_selector) {
        (eff, selector) if m.jsonata => items(m, &eff, env)?
            .into_iter()
            .map(|item| match selector {
                Some(sel) => sel.eval(&eff, &Scoped::input(&env.with_item(&item), &eff)),
                None => Ok(item.value),
            })
            .collect::<Result<Vec<_>, _>>()?,
        // Nothing reads the effective input after the items are taken: move them out.
        (Cow::Owned(mut v), None) => match take_items(m, &mut v, env)? {
            Value::Array(a) => a,
            Value::Object(o) => o.into_iter().map(|(_, v)| v).collect(),
            other => return Err(Halt::Failed(not_iterable(&other))),
        },
        (eff, selector) => items(m, &eff, env)?
            .into_iter()
            .map(|item| match selector {
                Some(sel) => sel.eval(&eff, &env.with_item(&item)),
                None => Ok(item.value),
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let n = inputs.len();
    let key = exec.next_key(env.scope);
    let started = exec.record_keyed(env.scope, key.as_deref(), || Event::MapStateStarted { length: n });
    // Each iteration numbers its own events (see `crate::asl::history`).
    let scopes = nested_scopes(key.as_deref(), started.id, n);
    let name = state.name.as_str();
    let iterate = |i: usize, input: Value| {
        let scope = &scopes[i];
        async move {
            exec.record(scope, || Event::MapIterationStarted { name, index: i });
            let out = run_machine(exec, &m.processor, input, iteration_bound, Some(env.vars), scope).await;
            exec.record(scope, || match out {
                Ok(_) => Event::MapIterationSucceeded { name, index: i },
                Err(_) => Event::MapIterationFailed { name, index: i },
            });
            out
        }
    };
    let outputs = if !m.processor.reads_clock {
        // Pure iterations complete when first polled: running them one after the other is the
        // same as running them concurrently, without the scheduling machinery.
        let mut outputs = Vec::with_capacity(n);
        let mut failed = None;
        for (i, input) in inputs.into_iter().enumerate() {
            match iterate(i, input).await {
                Ok(v) => outputs.push(v),
                Err(h) => {
                    failed = Some(h);
                    break;
                }
            }
        }
        match failed {
            None => Ok(outputs),
            Some(h) => Err(h),
        }
    } else {
        let width = if max == 0 { n.max(1) } else { max as usize };
        // Iterations finish in any order: a finished one frees its slot at once, and the first
        // to fail fails the state (the others are dropped, i.e. stopped) — results keep item
        // order.
        let mut running = stream::iter(inputs.into_iter().enumerate())
            .map(|(i, input)| {
                let run = iterate(i, input);
                async move { (i, run.await) }
            })
            .buffer_unordered(width);
        let mut outputs: Vec<Value> = vec![Value::Null; n];
        let mut failed = None;
        while let Some((i, out)) = running.next().await {
            match out {
                Ok(v) => outputs[i] = v,
                Err(h) => {
                    failed = Some(h);
                    break;
                }
            }
        }
        match failed {
            None => Ok(outputs),
            Some(h) => Err(h),
        }
    };
    match outputs {
        Ok(outputs) => {
            exec.record(env.scope, || Event::MapStateSucceeded);
            Ok(Value::Array(outputs))
        }
        Err(h) => {
            exec.record(env.scope, || Event::MapStateFailed);
            Err(h)
        }
    }
}

/// Moves the items out of an owned effective input.
fn take_items(m: &MapState, eff: &mut Value, env: &dyn Env) -> Result<Value, Failure> {
    match &m.items_path {
        Some(p) if *p.root() == crate::asl::path::Root::Input => p.take(eff).map_err(|e| io::invalid_path(p, e)),
        Some(p) => p.select(eff, env).map_err(|e| io::invalid_path(p, e)),
        None => Ok(std::mem::take(eff)),
    }
}

/// JSONata `Items`: a literal array (or object, whose members are the items), or an
/// expression that must give an array.
fn jsonata_items(t: &Template, input: &Value, env: &dyn Env) -> Result<Vec<MapItem>, Failure> {
    let value = t.eval(input, &Scoped::input(env, input))?;
    if let (false, Template::Dynamic(e)) = (value.is_array(), t)
        && let ExprKind::Jsonata(j) = &e.kind
    {
        return Err(crate::asl::jsonata::field::unexpected_type(j, &e.field, "array", &value));
    }
    match value {
        Value::Array(a) => Ok(a
            .into_iter()
            .enumerate()
            .map(|(index, value)| MapItem { index, key: None, value, source: None })
            .collect()),
        Value::Object(o) => Ok(o
            .into_iter()
            .enumerate()
            .map(|(index, (k, value))| MapItem { index, key: Some(k), value, source: None })
            .collect()),
        other => Err(not_iterable(&other)),
    }
}

/// A JSONata Map without `Items` iterates its input, which must be an array.
fn jsonata_input_not_array(v: &Value) -> Failure {
    Failure::new(QUERY_EVALUATION_ERROR, format!("Map state input must be an array but was: {}", compact(v)))
}

fn not_iterable(v: &Value) -> Failure {
    Failure::new(RUNTIME, format!("Map state input must be an array or a JSON object but was: {}", compact(v)))
}

/// The items to iterate: the array at `ItemsPath`, or the members of a JSON object.
pub(crate) fn items(m: &MapState, eff: &Value, env: &dyn Env) -> Result<Vec<MapItem>, Failure> {
    if let Some(t) = &m.items {
        return jsonata_items(t, eff, env);
    }
    let selected = match &m.items_path {
        Some(p) => p.select_ref(eff, env).map_err(|e| io::invalid_path(p, e))?,
        None => eff,
    };
    if m.jsonata && !selected.is_array() {
        return Err(jsonata_input_not_array(selected));
    }
    match selected {
        Value::Array(a) => Ok(a
            .iter()
            .enumerate()
            .map(|(index, v)| MapItem { index, key: None, value: v.clone(), source: None })
            .collect()),
        Value::Object(o) => Ok(o
            .iter()
            .enumerate()
            .map(|(index, (k, v))| MapItem { index, key: Some(k.clone()), value: v.clone(), source: None })
            .collect()),
        other => Err(not_iterable(other)),
    }
}

/// `MaxConcurrency`/`MaxConcurrencyPath`; 0 means no limit.
pub(crate) fn max_concurrency(m: &MapState, eff: &Value, env: &dyn Env) -> Result<u64, Failure> {
    match &m.max_concurrency {
        None => Ok(0),
        Some(op) => operand::int(op, Field::MaxConcurrency, eff, env),
    }
}
