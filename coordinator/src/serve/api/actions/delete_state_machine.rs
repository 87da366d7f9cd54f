//! DeleteStateMachine: deletes a state machine with its versions, aliases and tags. Its
//! executions stay readable. Deleting one that does not exist succeeds, as on AWS (the
//! action has no "does not exist" error). A version or alias ARN is a `ValidationException`:
//! DeleteStateMachineVersion and DeleteStateMachineAlias delete those.

use serde_json::{Value, json};

use crate::serve::api::arn::{Arn, Resource};
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, resolve};
use crate::serve::store::Write;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let text = r.required("stateMachineArn", 1, 256)?;
    r.finish()?;
    let arn = Arn::parse(&text)?;
    match arn.resource {
        Resource::StateMachine { .. } => {}
        Resource::Labelled { .. } => return Err(resolve::labelled()),
        Resource::Version { .. } | Resource::Alias { .. } => {
            return Err(ApiError::validation(
                format!(
                    "Deleting a state machine version or alias with DeleteStateMachine is not supported: '{text}'; use \
                     DeleteStateMachineVersion or DeleteStateMachineAlias"
                ),
                None,
            ));
        }
        _ => return Err(arn.wrong_kind()),
    }
    if ctx.store.state_machine(&text)?.is_some() {
        let committed = ctx.store.commit(vec![Write::DeleteStateMachine { arn: text.clone() }]).await;
        ctx.machines.forget(&text);
        committed?;
    }
    Ok(json!({}))
}
