//! DescribeStateMachineAlias: an alias's routing and dates (`updateDate` is the creation date
//! until the alias is updated, as AWS documents).

use serde_json::{Map, Value};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, resolve, routing};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("stateMachineAliasArn", 1, 256)?;
    r.finish()?;
    let alias = resolve::alias(ctx, &arn)?;
    let mut m = Map::new();
    m.insert("stateMachineAliasArn".into(), Value::from(alias.arn));
    m.insert("name".into(), Value::from(alias.name));
    if let Some(d) = alias.description {
        m.insert("description".into(), Value::from(d));
    }
    m.insert("routingConfiguration".into(), routing::to_json(&alias.routing));
    m.insert("creationDate".into(), epoch(alias.creation_date));
    m.insert("updateDate".into(), epoch(alias.update_date.unwrap_or(alias.creation_date)));
    Ok(Value::Object(m))
}
