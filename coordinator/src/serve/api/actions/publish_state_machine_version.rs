//! PublishStateMachineVersion: publishes the current revision of a state machine as its next
//! version. Idempotent as AWS documents: when the current revision was published already, the
//! answer is that version. A `revisionId` that is not the current one is a
//! `ConflictException` (someone updated the state machine since it was read).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, resolve};
use crate::serve::store::{PageRequest, StateMachineRecord, StoreError, VersionRecord, Write};

/// AWS's quota of versions per state machine.
pub const MAX_VERSIONS: usize = 1000;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("stateMachineArn", 1, 256)?;
    let revision = r.string("revisionId", 0, usize::MAX)?;
    let description = r.string("description", 0, 256)?;
    r.finish()?;
    let machine = resolve::state_machine(ctx, &arn)?;
    if let Some(revision) = &revision
        && *revision != machine.revision_id
    {
        return Err(ApiError::conflict(format!(
            "Failed to publish the State Machine version for revision {revision}. The current State Machine revision \
             is {}.",
            machine.revision_id
        )));
    }
    let newest = ctx.store.list_versions(&arn, &PageRequest { after: None, limit: MAX_VERSIONS })?;
    if let Some(v) = newest.items.first().filter(|v| v.revision_id == machine.revision_id) {
        return Ok(json!({"creationDate": epoch(v.creation_date), "stateMachineVersionArn": v.arn}));
    }
    if newest.items.len() >= MAX_VERSIONS {
        return Err(ApiError::quota(format!(
            "The state machine '{arn}' has {MAX_VERSIONS} versions, the most it can have; delete unused versions"
        )));
    }
    let now = Utc::now();
    let version = version_record(&machine, machine.next_version, description, now);
    let answer = json!({"creationDate": epoch(now), "stateMachineVersionArn": version.arn});
    let mut updated = machine;
    updated.next_version += 1;
    let machine_arn = updated.arn.clone();
    let committed = ctx.store.commit(vec![Write::CreateVersion(version), Write::UpdateStateMachine(updated)]).await;
    ctx.machines.forget(&machine_arn);
    match committed {
        Ok(()) => Ok(answer),
        // Another publish took this number between the read and the commit.
        Err(StoreError::Conflict(_)) => {
            Err(ApiError::conflict(format!("The state machine '{arn}' was changed by another request; try again")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Version `n` of `machine`, published from its current revision.
pub fn version_record(
    machine: &StateMachineRecord,
    n: u64,
    description: Option<String>,
    now: DateTime<Utc>,
) -> VersionRecord {
    VersionRecord {
        arn: format!("{}:{n}", machine.arn),
        state_machine_arn: machine.arn.clone(),
        version: n,
        definition: machine.definition.clone(),
        role_arn: machine.role_arn.clone(),
        description,
        logging_configuration: machine.logging_configuration.clone(),
        tracing_configuration: machine.tracing_configuration.clone(),
        encryption_configuration: machine.encryption_configuration.clone(),
        revision_id: machine.revision_id.clone(),
        creation_date: now,
    }
}
