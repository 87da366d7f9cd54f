//! Parallel: every branch runs on the same input; the result is the array of branch outputs
//! in branch order. The first branch to fail fails the state with that branch's own error.

use futures::future::try_join_all;
use serde_json::Value;

use crate::asl::bound::Bound;
use crate::asl::eval::context::{Exec, StateEnv};
use crate::asl::eval::flow;
use crate::asl::eval::run::{Halt, run_machine};
use crate::asl::history::{Event, Scope};
use crate::asl::model::{Parallel, State};

pub(crate) async fn attempt<'a>(
    exec: &'a Exec<'a>,
    state: &'a State,
    p: &'a Parallel,
    raw: &Value,
    raw_bound: Bound,
    env: &StateEnv<'a>,
) -> Result<Value, Halt> {
    let branch_bound = state.growth.branch_input.apply(raw_bound, exec.context_bound, env.vars.bound);
    let input = flow::effective(state, raw, env)?.into_owned();
    let key = exec.next_key(env.scope);
    let started = exec.record_keyed(env.scope, key.as_deref(), || Event::ParallelStateStarted);
    // Each branch numbers its own events, so branches that interleave differently after a
    // restart still find theirs.
    let scopes = nested_scopes(key.as_deref(), started.id, p.branches.len());
    let runs = p
        .branches
        .iter()
        .zip(&scopes)
        .map(|(b, scope)| run_machine(exec, b, input.clone(), branch_bound, Some(env.vars), scope));
    match try_join_all(runs).await {
        Ok(outputs) => {
            exec.record(env.scope, || Event::ParallelStateSucceeded);
            Ok(Value::Array(outputs))
        }
        Err(h) => {
            exec.record(env.scope, || Event::ParallelStateFailed);
            Err(h)
        }
    }
}

/// The scopes of `n` branches or iterations opened by the event `key`/`id` (without a
/// journal nothing is keyed, and the scopes only carry the ids).
pub(crate) fn nested_scopes(key: Option<&str>, id: u64, n: usize) -> Vec<Scope> {
    (0..n)
        .map(|i| match key {
            Some(k) => Scope::nested(k, id, i),
            None => Scope::root(),
        })
        .collect()
}
