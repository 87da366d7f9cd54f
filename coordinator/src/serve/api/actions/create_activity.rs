//! CreateActivity: creates an activity with its tags. Idempotent by name, as AWS documents
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateActivity.html>):
//! a second request with the same name answers with the existing activity, and different
//! `tags` are ignored, not applied; a different `encryptionConfiguration` is
//! `ActivityAlreadyExists` ("EncryptionConfiguration may not be updated"). At most 10,000
//! activities exist (AWS's default quota of registered activities): `ActivityLimitExceeded`.

use chrono::Utc;
use serde_json::{Value, json};

use crate::serve::api::config::Configs;
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, arn, epoch, tags};
use crate::serve::store::{ActivityRecord, StoreError, Write};

/// AWS's default quota of registered activities per account and region.
pub const MAX_ACTIVITIES: u64 = 10_000;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let name = r.required("name", 1, 80)?;
    let tags = tags::read(&mut r, "tags")?.unwrap_or_default();
    // Only `encryptionConfiguration` is a member of CreateActivity; it has the state
    // machines' rules.
    let encryption = Configs::read(&mut r)?.encryption;
    r.finish()?;

    // Activity names follow the state machines' rules (the API reference lists the same).
    if !arn::valid_name(&name) {
        return Err(ApiError::invalid_name(&name));
    }
    let arn = ctx.scope.activity(&name);
    if tags.len() > tags::MAX_TAGS {
        return Err(ApiError::too_many_tags(&arn, tags::MAX_TAGS));
    }
    if let Some(existing) = ctx.store.activity(&arn)? {
        return same(&existing, &encryption);
    }
    if ctx.store.activity_count()? >= MAX_ACTIVITIES {
        return Err(ApiError::activity_limit(MAX_ACTIVITIES));
    }
    let record =
        ActivityRecord { arn: arn.clone(), name, creation_date: Utc::now(), encryption_configuration: encryption };
    let answer = json!({"activityArn": arn, "creationDate": epoch(record.creation_date)});
    let mut unit = vec![Write::CreateActivity(record.clone())];
    if !tags.is_empty() {
        unit.push(Write::Tag { resource_arn: arn.clone(), tags });
    }
    match ctx.store.commit(unit).await {
        Ok(()) => Ok(answer),
        // Another request created it between the read above and this commit.
        Err(StoreError::Conflict(_)) => match ctx.store.activity(&arn)? {
            Some(existing) => same(&existing, &record.encryption_configuration),
            None => Err(ApiError::internal(format!("the activity {arn} was created and deleted meanwhile"))),
        },
        Err(e) => Err(e.into()),
    }
}

/// The idempotent answer, or `ActivityAlreadyExists` for another encryption configuration.
fn same(existing: &ActivityRecord, encryption: &Option<String>) -> Result<Value, ApiError> {
    if &existing.encryption_configuration != encryption {
        return Err(ApiError::activity_exists(&existing.arn));
    }
    Ok(json!({"activityArn": existing.arn, "creationDate": epoch(existing.creation_date)}))
}
