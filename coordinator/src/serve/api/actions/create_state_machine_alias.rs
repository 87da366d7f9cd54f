//! CreateStateMachineAlias: an alias of a state machine routing to one or two of its
//! versions. The state machine is the one the versions belong to (the request names no other).
//! Idempotent as AWS documents: the same name, routing and description answer with the
//! existing alias; a different one is a `ConflictException`.

use chrono::Utc;
use serde_json::{Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, arn, epoch, routing};
use crate::serve::store::{AliasRecord, StoreError, Write};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let description = r.string("description", 0, 256)?;
    let name = r.required("name", 1, 80)?;
    let routes = routing::read(&mut r)?;
    let routes = r.present("routingConfiguration", routes).unwrap_or_default();
    if !name.is_empty() && !arn::valid_alias_name(&name) && name.chars().count() <= 80 {
        r.violation(format!(
            "Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: \
             ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$"
        ));
    }
    r.finish()?;
    let machine = routing::check(ctx, &routes)?;
    if ctx.store.state_machine(&machine)?.is_none() {
        return Err(ApiError::state_machine_missing(&machine));
    }
    let alias_arn = format!("{machine}:{name}");
    if let Some(existing) = ctx.store.alias(&alias_arn)? {
        if existing.routing == routes && existing.description == description {
            return Ok(json!({"stateMachineAliasArn": alias_arn, "creationDate": epoch(existing.creation_date)}));
        }
        return Err(conflict(&alias_arn));
    }
    let now = Utc::now();
    let record = AliasRecord {
        arn: alias_arn.clone(),
        state_machine_arn: machine,
        name,
        description,
        routing: routes,
        creation_date: now,
        update_date: None,
    };
    match ctx.store.commit(vec![Write::CreateAlias(record)]).await {
        Ok(()) => Ok(json!({"stateMachineAliasArn": alias_arn, "creationDate": epoch(now)})),
        Err(StoreError::Conflict(_)) => Err(conflict(&alias_arn)),
        Err(e) => Err(e.into()),
    }
}

fn conflict(arn: &str) -> ApiError {
    ApiError::conflict(format!(
        "Failed to create alias because an alias with the same name and a different routing configuration already exists: '{arn}'"
    ))
}
