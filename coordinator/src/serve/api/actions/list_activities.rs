//! ListActivities: every activity, by name, a page at a time.

use serde_json::{Map, Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, page};

const LISTING: &str = "ListActivities";

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let max = r.integer("maxResults", 0, 1000)?;
    let token = r.string("nextToken", 1, 1024)?;
    r.finish()?;
    let request = page::request(LISTING, token.as_deref(), max)?;
    let found = ctx.store.list_activities(&request)?;
    let items: Vec<Value> = found
        .items
        .iter()
        .map(|a| json!({"activityArn": a.arn, "name": a.name, "creationDate": epoch(a.creation_date)}))
        .collect();
    let mut out = Map::new();
    out.insert("activities".into(), Value::Array(items));
    if let Some(next) = found.next {
        out.insert("nextToken".into(), Value::from(page::token(LISTING, &next)));
    }
    Ok(Value::Object(out))
}
