//! SendTaskFailure: fails a Task waiting for its token with an optional error and cause.
//! Members and errors: https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html

use serde_json::{Value, json};

use super::send_task_heartbeat::{callback_error, callbacks};
use crate::callbacks::Callbacks;
use crate::serve::api::Ctx;
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;

pub async fn run(ctx: &Ctx, r: Request) -> Result<Value, ApiError> {
    answer(callbacks(ctx)?, r).await
}

/// The action on `callbacks` (also what `dmap run --listen` answers).
pub async fn answer(callbacks: &Callbacks, mut r: Request) -> Result<Value, ApiError> {
    let token = r.required("taskToken", 1, 2048)?;
    let error = r.string("error", 0, 256)?;
    let cause = r.string("cause", 0, 32_768)?;
    r.finish()?;
    callbacks.send_failure(&token, error, cause).await.map_err(callback_error)?;
    Ok(json!({}))
}
