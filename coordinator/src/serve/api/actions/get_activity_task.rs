//! GetActivityTask: a worker's long poll for the next task of an activity
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetActivityTask.html>).
//! It answers as soon as a task is there, with its `taskToken` and `input` (JSON text), or
//! after 60 seconds with no token: `{}`, which SDKs read as an absent (null) `taskToken`. At
//! most 1,000 workers poll one activity at once (`ActivityWorkerLimitExceeded`).

use serde_json::{Value, json};

use super::delete_activity::activity_arn;
use crate::serve::activities::PollError;
use crate::serve::api::Ctx;
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("activityArn", 1, 256)?;
    let worker = r.string("workerName", 1, 80)?;
    r.finish()?;
    activity_arn(&arn)?;
    if ctx.store.activity(&arn)?.is_none() {
        return Err(ApiError::activity_missing(&arn));
    }
    match ctx.activities.poll(&arn, worker.as_deref().unwrap_or("")).await {
        Ok(Some(task)) => Ok(json!({"taskToken": task.token, "input": task.input})),
        Ok(None) => Ok(json!({})),
        Err(PollError::TooManyPollers(n)) => Err(ApiError::activity_worker_limit(&arn, n)),
    }
}
