//! UpdateStateMachineAlias: changes an alias's description or routing (at least one of them).
//! The new routing must stay within the alias's state machine.

use chrono::Utc;
use serde_json::{Value, json};

use crate::serve::api::error::{ApiError, reason};
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, resolve, routing};
use crate::serve::store::Write;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("stateMachineAliasArn", 1, 256)?;
    let description = r.string("description", 0, 256)?;
    let routes = routing::read(&mut r)?;
    r.finish()?;
    if description.is_none() && routes.is_none() {
        return Err(ApiError::validation(
            "Either the description or the routingConfiguration must be specified",
            Some(reason::MISSING_REQUIRED_PARAMETER),
        ));
    }
    let mut alias = resolve::alias(ctx, &arn)?;
    if let Some(routes) = routes {
        let machine = routing::check(ctx, &routes)?;
        if machine != alias.state_machine_arn {
            return Err(ApiError::validation(
                "Routing configuration must contain versions of the alias's state machine",
                Some(reason::ROUTING),
            ));
        }
        alias.routing = routes;
    }
    if description.is_some() {
        alias.description = description;
    }
    let now = Utc::now();
    alias.update_date = Some(now);
    ctx.store.commit(vec![Write::UpdateAlias(alias)]).await?;
    Ok(json!({"updateDate": epoch(now)}))
}
