//! UpdateMapRun: changes a running Map Run's `maxConcurrency` and tolerated failures (at
//! least one of them). A Map Run that has ended is a `ValidationException` with reason
//! `CANNOT_UPDATE_COMPLETED_MAP_RUN`, as on AWS.

use serde_json::{Value, json};

use crate::serve::api::error::{ApiError, reason};
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, resolve};
use crate::serve::engine::{MapRunError, MapRunUpdate};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("mapRunArn", 1, 2000)?;
    let max_concurrency = r.integer("maxConcurrency", 0, i64::from(i32::MAX))?;
    let percentage = r.float("toleratedFailurePercentage", 0.0, 100.0)?;
    let count = r.integer("toleratedFailureCount", 0, i64::MAX)?;
    r.finish()?;
    if max_concurrency.is_none() && percentage.is_none() && count.is_none() {
        return Err(ApiError::validation(
            "At least one of maxConcurrency, toleratedFailurePercentage and toleratedFailureCount must be specified",
            Some(reason::MISSING_REQUIRED_PARAMETER),
        ));
    }
    let run = resolve::map_run(ctx, &arn)?;
    if run.status != "RUNNING" {
        return Err(completed(&arn));
    }
    let update = MapRunUpdate {
        max_concurrency: max_concurrency.map(|n| n as u64),
        tolerated_failure_percentage: percentage,
        tolerated_failure_count: count.map(|n| n as u64),
    };
    match ctx.executions.update_map_run(&arn, update) {
        Ok(()) => Ok(json!({})),
        Err(MapRunError::DoesNotExist(arn)) => Err(ApiError::not_found("Map Run", &arn)),
        Err(MapRunError::Completed(arn)) => Err(completed(&arn)),
        Err(MapRunError::Invalid(message)) => Err(ApiError::validation(message, None)),
    }
}

fn completed(arn: &str) -> ApiError {
    ApiError::validation(format!("Cannot update a completed Map Run: '{arn}'"), Some(reason::COMPLETED_MAP_RUN))
}
