//! Pass: the result is `Result`, else the effective input after `Parameters`.

use std::borrow::Cow;

use serde_json::Value;

use crate::asl::error_name::Failure;
use crate::asl::eval::context::StateEnv;
use crate::asl::eval::flow;
use crate::asl::eval::run::{Step, finish};
use crate::asl::model::{Pass, State};

pub(crate) fn run(state: &State, p: &Pass, raw: Value, env: &StateEnv<'_>) -> Result<Step, Failure> {
    let result = match &p.result {
        Some(r) => Some(r.clone()),
        None => {
            match flow::effective(state, &raw, env)? {
                Cow::Owned(v) => Some(v),
                // Nothing changed the input: the result is the raw input itself.
                Cow::Borrowed(_) => None,
            }
        }
    };
    finish(state, raw, result, env)
}
