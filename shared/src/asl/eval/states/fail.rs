//! Fail: ends the execution (or the branch) with `Error` and `Cause`, literal or computed.

use serde_json::Value;

use crate::asl::error_name::Failure;
use crate::asl::eval::context::StateEnv;
use crate::asl::model::{Fail, TextOrExpr};

pub(crate) fn run(f: &Fail, raw: &Value, env: &StateEnv<'_>) -> Result<Failure, Failure> {
    Ok(Failure { error: text(f.error.as_ref(), raw, env)?, cause: text(f.cause.as_ref(), raw, env)? })
}

fn text(t: Option<&TextOrExpr>, raw: &Value, env: &StateEnv<'_>) -> Result<Option<String>, Failure> {
    match t {
        None => Ok(None),
        Some(TextOrExpr::Text(s)) => Ok(Some(s.clone())),
        Some(TextOrExpr::Expr(e)) => Ok(Some(match e.eval(raw, env)? {
            Value::String(s) => s,
            other => serde_json::to_string(&other).unwrap_or_default(),
        })),
    }
}
