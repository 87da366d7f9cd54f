//! SendTaskSuccess: the output of a Task waiting for its token (`.waitForTaskToken`, an
//! activity). Accepted only once it is durable: a restart does not lose it.
//! Members and errors: https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html

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
    let output = r.required("output", 0, 262_144)?;
    r.finish()?;
    callbacks.send_success(&token, &output).await.map_err(callback_error)?;
    Ok(json!({}))
}
