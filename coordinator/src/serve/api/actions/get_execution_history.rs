//! GetExecutionHistory: an execution's events, oldest first (or newest first with
//! `reverseOrder`), a page at a time. `includeExecutionData` (default true) false leaves out
//! the inputs and outputs. Express executions have no history (`InvalidArn`, as on AWS).

use serde_json::{Map, Value};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, history, page, resolve};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("executionArn", 1, 256)?;
    let max = r.integer("maxResults", 0, 1000)?;
    let reverse = r.boolean("reverseOrder")?.unwrap_or(false);
    let token = r.string("nextToken", 1, 1024)?;
    let include_data = r.boolean("includeExecutionData")?.unwrap_or(true);
    r.finish()?;
    resolve::execution(ctx, &arn)?;
    let listing = format!("GetExecutionHistory {arn} {reverse}");
    let request = page::request(&listing, token.as_deref(), max)?;
    let from = match &request.after {
        Some(id) => Some(id.parse::<u64>().map_err(|_| ApiError::invalid_token(token.as_deref().unwrap_or("")))?),
        None => None,
    };
    // One more than the page, to know whether another page follows.
    let mut events = ctx.store.events(&arn, from, reverse, request.limit + 1)?;
    let more = events.len() > request.limit;
    events.truncate(request.limit);
    let mut out = Map::new();
    if more && let Some(last) = events.last() {
        out.insert("nextToken".into(), Value::from(page::token(&listing, &last.id.to_string())));
    }
    let events: Vec<Value> = events.iter().map(|e| history::event(e, include_data)).collect();
    out.insert("events".into(), Value::Array(events));
    Ok(Value::Object(out))
}
