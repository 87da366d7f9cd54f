//! DescribeActivity: an activity's ARN, name, creation date and encryption configuration.

use serde_json::{Map, Value};

use super::delete_activity::activity_arn;
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let text = r.required("activityArn", 1, 256)?;
    r.finish()?;
    activity_arn(&text)?;
    let activity = ctx.store.activity(&text)?.ok_or_else(|| ApiError::activity_missing(&text))?;
    let mut m = Map::new();
    m.insert("activityArn".into(), Value::from(activity.arn));
    m.insert("name".into(), Value::from(activity.name));
    m.insert("creationDate".into(), epoch(activity.creation_date));
    if let Some(e) = activity.encryption_configuration {
        let parsed =
            serde_json::from_str(&e).map_err(|e| ApiError::internal(format!("a stored configuration: {e}")))?;
        m.insert("encryptionConfiguration".into(), parsed);
    }
    Ok(Value::Object(m))
}
