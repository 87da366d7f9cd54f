//! DeleteStateMachineAlias: deletes an alias (`ResourceNotFound` when there is none).
//! Executions started through it keep its ARN.

use serde_json::{Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, resolve};
use crate::serve::store::Write;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("stateMachineAliasArn", 1, 256)?;
    r.finish()?;
    let alias = resolve::alias(ctx, &arn)?;
    ctx.store.commit(vec![Write::DeleteAlias { arn: alias.arn }]).await?;
    Ok(json!({}))
}
