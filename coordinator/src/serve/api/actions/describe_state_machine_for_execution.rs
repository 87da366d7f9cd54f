//! DescribeStateMachineForExecution: the definition an execution runs (kept by content hash
//! when the execution started, so an update or deletion of the state machine since does not
//! change it), with the state machine's role and configurations. A Map Run's child names
//! its Map Run and the Map state's label.

use serde_json::{Map, Value};

use super::describe_state_machine::insert_configs;
use crate::serve::api::arn::{Arn, Resource};
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, resolve};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("executionArn", 1, 256)?;
    r.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    r.finish()?;
    let e = resolve::execution(ctx, &arn)?;
    let definition = ctx.store.definition(&e.definition_hash)?.ok_or_else(|| {
        ApiError::internal(format!(
            "The definition {} of the execution '{arn}' is missing from the store",
            e.definition_hash
        ))
    })?;
    let (name, label) = match Arn::parse(&e.state_machine_arn)?.resource {
        Resource::Labelled { name, label } => (name, Some(label)),
        Resource::StateMachine { name } => (name, None),
        _ => (String::new(), None),
    };
    // The role and configurations of the revision the execution runs: its version's when it
    // started from one, else the state machine's (when it still exists).
    let version = match &e.version_arn {
        Some(v) => ctx.store.version(v)?,
        None => None,
    };
    // Names cannot hold '/', so a labelled ARN's state machine is what precedes the first one.
    let unlabelled = e.state_machine_arn.split('/').next().unwrap_or_default();
    let machine = ctx.store.state_machine(unlabelled)?;
    let mut m = Map::new();
    m.insert("stateMachineArn".into(), Value::from(e.state_machine_arn.clone()));
    m.insert("name".into(), Value::from(name));
    m.insert("definition".into(), Value::from(definition));
    m.insert("roleArn".into(), Value::from(e.role_arn.clone()));
    let updated = version.as_ref().map(|v| v.creation_date).or(machine.as_ref().map(|m| m.creation_date));
    m.insert("updateDate".into(), epoch(updated.unwrap_or(e.start_date)));
    let configs = match (&version, &machine) {
        (Some(v), _) => {
            [v.logging_configuration.clone(), v.tracing_configuration.clone(), v.encryption_configuration.clone()]
        }
        (None, Some(s)) => {
            [s.logging_configuration.clone(), s.tracing_configuration.clone(), s.encryption_configuration.clone()]
        }
        (None, None) => [None, None, None],
    };
    insert_configs(&mut m, [configs[0].as_deref(), configs[1].as_deref(), configs[2].as_deref()]);
    if let Some(v) = &version {
        m.insert("revisionId".into(), Value::from(v.revision_id.clone()));
    }
    if let Some(map_run) = &e.map_run_arn {
        m.insert("mapRunArn".into(), Value::from(map_run.clone()));
    }
    if let Some(label) = label {
        m.insert("label".into(), Value::from(label));
    }
    Ok(Value::Object(m))
}
