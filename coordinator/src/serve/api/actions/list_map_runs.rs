//! ListMapRuns: the Map Runs an execution started, newest first.

use serde_json::{Map, Value};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, page, resolve};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("executionArn", 1, 256)?;
    let max = r.integer("maxResults", 0, 1000)?;
    let token = r.string("nextToken", 1, 1024)?;
    r.finish()?;
    resolve::execution(ctx, &arn)?;
    let listing = format!("ListMapRuns {arn}");
    let request = page::request(&listing, token.as_deref(), max)?;
    let found = ctx.store.list_map_runs(&arn, &request)?;
    let items = found
        .items
        .iter()
        .map(|run| {
            let mut m = Map::new();
            m.insert("executionArn".into(), Value::from(run.execution_arn.clone()));
            m.insert("mapRunArn".into(), Value::from(run.arn.clone()));
            m.insert("stateMachineArn".into(), Value::from(run.state_machine_arn.clone()));
            m.insert("startDate".into(), epoch(run.start_date));
            if let Some(t) = run.stop_date {
                m.insert("stopDate".into(), epoch(t));
            }
            Value::Object(m)
        })
        .collect();
    let mut out = Map::new();
    out.insert("mapRuns".into(), Value::Array(items));
    if let Some(next) = found.next {
        out.insert("nextToken".into(), Value::from(page::token(&listing, &next)));
    }
    Ok(Value::Object(out))
}
