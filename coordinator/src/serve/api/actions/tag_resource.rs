//! TagResource: adds or replaces tags of a state machine (at most 50 tags per resource:
//! `TooManyTags`).

use serde_json::{Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, tags};
use crate::serve::store::Write;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("resourceArn", 1, 256)?;
    let new = tags::read(&mut r, "tags")?;
    let new = r.present("tags", new).unwrap_or_default();
    r.finish()?;
    tags::resource(ctx, &arn)?;
    let existing = ctx.store.tags(&arn)?;
    if tags::count_after(&existing, &new) > tags::MAX_TAGS {
        return Err(ApiError::too_many_tags(&arn, tags::MAX_TAGS));
    }
    if !new.is_empty() {
        ctx.store.commit(vec![Write::Tag { resource_arn: arn, tags: new }]).await?;
    }
    Ok(json!({}))
}
