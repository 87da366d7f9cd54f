//! ListStateMachineAliases: a state machine's aliases, by name.

use serde_json::{Map, Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, page, resolve};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("stateMachineArn", 1, 256)?;
    let token = r.string("nextToken", 1, 1024)?;
    let max = r.integer("maxResults", 0, 1000)?;
    r.finish()?;
    resolve::state_machine(ctx, &arn)?;
    let listing = format!("ListStateMachineAliases {arn}");
    let request = page::request(&listing, token.as_deref(), max)?;
    let found = ctx.store.list_aliases(&arn, &request)?;
    let items: Vec<Value> = found
        .items
        .iter()
        .map(|a| json!({"stateMachineAliasArn": a.arn, "creationDate": epoch(a.creation_date)}))
        .collect();
    let mut out = Map::new();
    out.insert("stateMachineAliases".into(), Value::Array(items));
    if let Some(next) = found.next {
        out.insert("nextToken".into(), Value::from(page::token(&listing, &next)));
    }
    Ok(Value::Object(out))
}
