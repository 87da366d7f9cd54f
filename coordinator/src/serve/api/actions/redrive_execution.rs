//! RedriveExecution: runs a failed, aborted or timed-out Standard execution again from its
//! unsuccessful step, and answers with the redrive date (the engine's `redrive` holds AWS's
//! rules). `clientToken` (1–64 printable ASCII characters, botocore's `ClientToken`) makes the
//! request idempotent. An Express execution's ARN is `InvalidArn`, as for every action that
//! does not support Express executions.

use serde_json::{Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::start::engine_error;
use crate::serve::api::{Ctx, epoch, resolve};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("executionArn", 1, 256)?;
    let token = r.string("clientToken", 1, 64)?;
    if let Some(t) = &token
        && !t.chars().all(|c| ('!'..='~').contains(&c))
    {
        r.violation(format!(
            "Value '{t}' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression \
             pattern: [!-~]+"
        ));
    }
    r.finish()?;
    resolve::execution(ctx, &arn)?;
    let date = ctx.executions.redrive(&arn, token.as_deref()).await.map_err(engine_error)?;
    Ok(json!({"redriveDate": epoch(date)}))
}
