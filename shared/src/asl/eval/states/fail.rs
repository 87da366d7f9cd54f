//! Fail: ends the execution (or the branch) with `Error` and `Cause`, literal or computed.

use serde_json::Value;

use crate::asl::error_name::Failure;
use crate::asl::eval::operand;
use crate::asl::model::Fail;
use crate::asl::path::Env;

pub(crate) fn run(f: &Fail, raw: &Value, env: &dyn Env) -> Result<Failure, Failure> {
    let error = f.error.as_ref().map(|e| operand::text(e, raw, env)).transpose()?;
    let cause = f.cause.as_ref().map(|c| operand::text(c, raw, env)).transpose()?;
    Ok(Failure { error, cause })
}
