//! StartExecution: starts an execution of a state machine, a version, or an alias (one of its
//! versions, by weight). Idempotent as AWS documents for Standard executions: the same name
//! and input while the first runs answer with the first; otherwise a name in use is
//! `ExecutionAlreadyExists` (the engine decides, holding the store's answer).

use serde_json::{Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::start::{StartRequest, engine_error, spec};
use crate::serve::api::{Ctx, epoch};
use crate::serve::engine::Started;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let req = StartRequest::read(&mut r)?;
    r.finish()?;
    let spec = spec(ctx, req)?;
    let record = match ctx.executions.start(spec).await.map_err(engine_error)? {
        Started::New(e) | Started::Existing(e) => e,
    };
    Ok(json!({"executionArn": record.arn, "startDate": epoch(record.start_date)}))
}
