//! Parallel: every branch runs on the same input; the result is the array of branch outputs
//! in branch order. The first branch to fail fails the state with that branch's own error.

use futures::future::try_join_all;
use serde_json::Value;

use crate::asl::bound::Bound;
use crate::asl::eval::context::{Exec, StateEnv};
use crate::asl::eval::flow;
use crate::asl::eval::run::{Halt, run_machine};
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
    exec.events(1); // ParallelStateStarted
    let runs = p.branches.iter().map(|b| run_machine(exec, b, input.clone(), branch_bound, Some(env.vars)));
    let outputs = try_join_all(runs).await?;
    exec.events(1); // ParallelStateSucceeded
    Ok(Value::Array(outputs))
}
