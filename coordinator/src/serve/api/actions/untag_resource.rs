//! UntagResource: removes tags by key (keys the resource does not have are ignored).

use serde_json::{Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, tags};
use crate::serve::store::Write;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("resourceArn", 1, 256)?;
    let keys = tags::read_keys(&mut r, "tagKeys")?;
    let keys = r.present("tagKeys", keys).unwrap_or_default();
    r.finish()?;
    tags::resource(ctx, &arn)?;
    if !keys.is_empty() {
        ctx.store.commit(vec![Write::Untag { resource_arn: arn, keys }]).await?;
    }
    Ok(json!({}))
}
