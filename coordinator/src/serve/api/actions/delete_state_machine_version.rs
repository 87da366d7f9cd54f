//! DeleteStateMachineVersion: deletes a published version. Refused with `ConflictException`
//! while an alias routes to it, as AWS does. A version that does not exist is deleted
//! already (the action has no "does not exist" error).

use serde_json::{Value, json};

use crate::serve::api::arn::{Arn, Resource};
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, resolve};
use crate::serve::store::{PageRequest, Write};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let text = r.required("stateMachineVersionArn", 1, 2000)?;
    r.finish()?;
    let arn = Arn::parse(&text)?;
    let machine = match &arn.resource {
        Resource::Version { .. } => arn.state_machine().unwrap_or_default(),
        Resource::Labelled { .. } => return Err(resolve::labelled()),
        _ => return Err(arn.wrong_kind()),
    };
    if ctx.store.version(&text)?.is_none() {
        return Ok(json!({}));
    }
    let mut referencing = Vec::new();
    let mut page = PageRequest { after: None, limit: 1000 };
    loop {
        let found = ctx.store.list_aliases(&machine, &page)?;
        referencing
            .extend(found.items.into_iter().filter(|a| a.routing.iter().any(|(v, _)| *v == text)).map(|a| a.arn));
        match found.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    if !referencing.is_empty() {
        return Err(ApiError::conflict(format!(
            "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this \
             version: [{}]",
            referencing.join(", ")
        )));
    }
    ctx.store.commit(vec![Write::DeleteVersion { arn: text }]).await?;
    Ok(json!({}))
}
