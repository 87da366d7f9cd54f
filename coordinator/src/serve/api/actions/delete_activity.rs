//! DeleteActivity: deletes an activity and its tags. Deleting one that does not exist
//! succeeds, as on AWS (recorded in localstack's `test_sfn_api_activities` snapshot: a second
//! delete answers 200).
//!
//! Tasks already queued for the activity stay queued (decision, AWS is silent): only a worker
//! of an activity re-created under the same name (the same ARN) can take them, and until
//! then they wait for their execution's deadline, or its stop.

use serde_json::{Value, json};

use crate::serve::api::Ctx;
use crate::serve::api::arn::{Arn, Resource};
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::store::Write;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let text = r.required("activityArn", 1, 256)?;
    r.finish()?;
    activity_arn(&text)?;
    if ctx.store.activity(&text)?.is_some() {
        ctx.store.commit(vec![Write::DeleteActivity { arn: text }]).await?;
    }
    Ok(json!({}))
}

/// `InvalidArn` unless `text` is an activity's ARN.
pub fn activity_arn(text: &str) -> Result<(), ApiError> {
    let arn = Arn::parse(text)?;
    match arn.resource {
        Resource::Activity { .. } => Ok(()),
        _ => Err(arn.wrong_kind()),
    }
}
