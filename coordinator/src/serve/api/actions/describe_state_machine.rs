//! DescribeStateMachine: a state machine's `$LATEST` revision, or a published version when the
//! ARN names one (`…:stateMachine:name:7`). A Map Run's labelled ARN is a
//! `ValidationException`, as AWS documents; an alias ARN is not a state machine here
//! (`InvalidArn`): DescribeStateMachineAlias describes it.

use serde_json::{Map, Value, json};

use crate::serve::api::arn::{Arn, Resource};
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, resolve};
use crate::serve::store::StateMachineRecord;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let text = r.required("stateMachineArn", 1, 256)?;
    r.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    r.finish()?;
    let arn = Arn::parse(&text)?;
    match &arn.resource {
        Resource::StateMachine { .. } => Ok(describe(&resolve::state_machine(ctx, &text)?)),
        Resource::Version { .. } => {
            let version = ctx.store.version(&text)?.ok_or_else(|| ApiError::state_machine_missing(&text))?;
            let machine = ctx
                .store
                .state_machine(&version.state_machine_arn)?
                .ok_or_else(|| ApiError::state_machine_missing(&text))?;
            let mut m = body(&machine);
            m.insert("stateMachineArn".into(), Value::from(version.arn));
            m.insert("definition".into(), Value::from(version.definition));
            m.insert("roleArn".into(), Value::from(version.role_arn));
            m.insert("creationDate".into(), epoch(version.creation_date));
            m.insert("revisionId".into(), Value::from(version.revision_id));
            let configs = [
                version.logging_configuration.as_deref(),
                version.tracing_configuration.as_deref(),
                version.encryption_configuration.as_deref(),
            ];
            insert_configs(&mut m, configs);
            if let Some(d) = version.description {
                m.insert("description".into(), Value::from(d));
            }
            Ok(Value::Object(m))
        }
        Resource::Labelled { .. } => Err(resolve::labelled()),
        _ => Err(arn.wrong_kind()),
    }
}

/// DescribeStateMachine's answer for a state machine's `$LATEST` revision.
pub fn describe(machine: &StateMachineRecord) -> Value {
    Value::Object(body(machine))
}

fn body(machine: &StateMachineRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("stateMachineArn".into(), Value::from(machine.arn.clone()));
    m.insert("name".into(), Value::from(machine.name.clone()));
    m.insert("status".into(), Value::from("ACTIVE"));
    m.insert("definition".into(), Value::from(machine.definition.clone()));
    m.insert("roleArn".into(), Value::from(machine.role_arn.clone()));
    m.insert("type".into(), Value::from(machine.machine_type.as_str()));
    m.insert("creationDate".into(), epoch(machine.creation_date));
    m.insert("revisionId".into(), Value::from(machine.revision_id.clone()));
    let configs = [
        machine.logging_configuration.as_deref(),
        machine.tracing_configuration.as_deref(),
        machine.encryption_configuration.as_deref(),
    ];
    insert_configs(&mut m, configs);
    m
}

/// The three configurations, each AWS's default when none was set.
pub fn insert_configs(m: &mut Map<String, Value>, [logging, tracing, encryption]: [Option<&str>; 3]) {
    m.insert(
        "loggingConfiguration".into(),
        resolve::config(logging, json!({"level": "OFF", "includeExecutionData": false})),
    );
    m.insert("tracingConfiguration".into(), resolve::config(tracing, json!({"enabled": false})));
    m.insert("encryptionConfiguration".into(), resolve::config(encryption, json!({"type": "AWS_OWNED_KEY"})));
}
