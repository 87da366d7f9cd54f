//! StopExecution: aborts a running Standard execution with an optional error and cause, and
//! answers with the stop date. Express executions cannot be stopped through the API, as on
//! AWS (`InvalidArn`).

use serde_json::{Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::start::engine_error;
use crate::serve::api::{Ctx, epoch, resolve};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("executionArn", 1, 256)?;
    let error = r.string("error", 0, 256)?;
    let cause = r.string("cause", 0, 32768)?;
    r.finish()?;
    resolve::execution(ctx, &arn)?;
    let stopped = ctx.executions.stop(&arn, error, cause).await.map_err(engine_error)?;
    Ok(json!({"stopDate": epoch(stopped)}))
}
