//! ListStateMachineVersions: a state machine's versions, newest first. A state machine that
//! does not exist has none (the action has no "does not exist" error).

use serde_json::{Map, Value, json};

use crate::serve::api::arn::{Arn, Resource};
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, page, resolve};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn_text = r.required("stateMachineArn", 1, 256)?;
    let token = r.string("nextToken", 1, 1024)?;
    let max = r.integer("maxResults", 0, 1000)?;
    r.finish()?;
    let arn = Arn::parse(&arn_text)?;
    match arn.resource {
        Resource::StateMachine { .. } => {}
        Resource::Labelled { .. } => return Err(resolve::labelled()),
        _ => return Err(arn.wrong_kind()),
    }
    let listing = format!("ListStateMachineVersions {arn_text}");
    let request = page::request(&listing, token.as_deref(), max)?;
    let found = ctx.store.list_versions(&arn_text, &request)?;
    let items: Vec<Value> = found
        .items
        .iter()
        .map(|v| json!({"stateMachineVersionArn": v.arn, "creationDate": epoch(v.creation_date)}))
        .collect();
    let mut out = Map::new();
    out.insert("stateMachineVersions".into(), Value::Array(items));
    if let Some(next) = found.next {
        out.insert("nextToken".into(), Value::from(page::token(&listing, &next)));
    }
    Ok(Value::Object(out))
}
