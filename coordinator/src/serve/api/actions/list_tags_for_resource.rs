//! ListTagsForResource: a resource's tags, in the order they were first added.

use serde_json::{Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, tags};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("resourceArn", 1, 256)?;
    r.finish()?;
    tags::resource(ctx, &arn)?;
    Ok(json!({"tags": tags::to_json(&ctx.store.tags(&arn)?)}))
}
