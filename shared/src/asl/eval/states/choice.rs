//! Choice: the first rule that matches picks the next state; otherwise `Default`, otherwise
//! `States.NoChoiceMatched`.

use serde_json::Value;

use crate::asl::error_name::{Failure, NO_CHOICE_MATCHED};
use crate::asl::eval::context::Scoped;
use crate::asl::eval::flow;
use crate::asl::eval::run::Step;
use crate::asl::model::{Choice, State};
use crate::asl::path::Env;

pub(crate) fn run(state: &State, c: &Choice, raw: Value, env: &dyn Env) -> Result<Step, Failure> {
    let eff = flow::selected_owned(state, raw, env)?;
    let mut matched = None;
    for branch in &c.choices {
        if branch.rule.eval(&eff, env)? {
            matched = Some(branch);
            break;
        }
    }
    let next = match (matched, c.default) {
        (Some(b), _) => b.next,
        (None, Some(d)) => d,
        (None, None) => {
            return Err(Failure::new(
                NO_CHOICE_MATCHED,
                format!("No Choice Rules matched in the Choice state '{}' and no Default was specified.", state.name),
            ));
        }
    };
    // The state's own Assign, then the matched rule's, both from the effective input.
    let jsonata = state.flow.is_jsonata();
    let mut assigned = match &state.assign {
        Some(t) => Some(flow::assign(t, &eff, &eff, None, jsonata, env)?),
        None => None,
    };
    if let Some(t) = matched.and_then(|b| b.assign.as_ref()) {
        let m = flow::assign(t, &eff, &eff, None, jsonata, env)?;
        assigned.get_or_insert_with(Default::default).extend(m);
    }
    // A JSONata rule's own Output replaces the state's.
    let output = match matched.and_then(|b| b.output.as_ref()) {
        Some(t) => t.eval(&eff, &Scoped::input(env, &eff))?,
        None => flow::passed_output(state, eff, env)?,
    };
    Ok(Step { output, next: Some(next), assigned })
}
