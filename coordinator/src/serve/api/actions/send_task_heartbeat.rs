//! SendTaskHeartbeat: restarts the `HeartbeatSeconds` of a Task waiting for its token.
//! Members and errors: https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskHeartbeat.html

use serde_json::{Value, json};

use crate::callbacks::{CallbackError, Callbacks};
use crate::serve::api::Ctx;
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;

pub async fn run(ctx: &Ctx, r: Request) -> Result<Value, ApiError> {
    answer(callbacks(ctx)?, r).await
}

/// The action on `callbacks` (also what `dmap run --listen` answers).
pub async fn answer(callbacks: &Callbacks, mut r: Request) -> Result<Value, ApiError> {
    let token = r.required("taskToken", 1, 2048)?;
    r.finish()?;
    callbacks.send_heartbeat(&token).await.map_err(callback_error)?;
    Ok(json!({}))
}

/// The server's callbacks (absent only in API tests without an engine).
pub(super) fn callbacks(ctx: &Ctx) -> Result<&Callbacks, ApiError> {
    ctx.callbacks.as_deref().ok_or_else(|| ApiError::internal("this server takes no callbacks"))
}

/// A refused callback in the API's terms: AWS's code with status 400, or a retryable 500.
pub(super) fn callback_error(e: CallbackError) -> ApiError {
    match e {
        CallbackError::Internal(m) => ApiError::internal(m),
        other => ApiError::with_status(other.code(), other.to_string(), 400),
    }
}
