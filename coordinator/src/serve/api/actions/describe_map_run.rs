//! DescribeMapRun: a Map Run's status, its limits (as UpdateMapRun last set them) and its
//! item and child-execution counts.

use serde_json::{Map, Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, resolve};
use crate::serve::store::MapRunCounts;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("mapRunArn", 1, 2000)?;
    r.finish()?;
    let run = resolve::map_run(ctx, &arn)?;
    let mut m = Map::new();
    m.insert("mapRunArn".into(), Value::from(run.arn));
    m.insert("executionArn".into(), Value::from(run.execution_arn));
    m.insert("status".into(), Value::from(run.status));
    m.insert("startDate".into(), epoch(run.start_date));
    if let Some(t) = run.stop_date {
        m.insert("stopDate".into(), epoch(t));
    }
    m.insert("maxConcurrency".into(), Value::from(run.max_concurrency));
    m.insert("toleratedFailurePercentage".into(), Value::from(run.tolerated_failure_percentage));
    m.insert("toleratedFailureCount".into(), Value::from(run.tolerated_failure_count));
    m.insert("itemCounts".into(), counts(&run.item_counts));
    m.insert("executionCounts".into(), counts(&run.execution_counts));
    m.insert("redriveCount".into(), Value::from(run.redrive_count));
    if let Some(t) = run.redrive_date {
        m.insert("redriveDate".into(), epoch(t));
    }
    Ok(Value::Object(m))
}

fn counts(c: &MapRunCounts) -> Value {
    json!({
        "pending": c.pending, "running": c.running, "succeeded": c.succeeded, "failed": c.failed,
        "timedOut": c.timed_out, "aborted": c.aborted, "total": c.total, "resultsWritten": c.results_written,
    })
}
