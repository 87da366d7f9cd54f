//! CreateStateMachine: checks the name, the definition (ASL, and what this build can run),
//! the role and the configurations; creates the state machine with its tags, and publishes
//! version 1 when `publish` is true.
//!
//! Idempotent as AWS documents: a second request with the same name, definition, type,
//! configurations, `publish` and `versionDescription` answers with the existing state machine
//! (a different `roleArn` or `tags` is ignored, and not applied); any other difference is
//! `StateMachineAlreadyExists`.

use chrono::Utc;
use serde_json::{Map, Value};

use super::publish_state_machine_version::version_record;
use crate::serve::api::config::Configs;
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, arn, definition, epoch, tags};
use crate::serve::store::{MachineType, StateMachineRecord, StoreError, Write};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let name = r.required("name", 1, 80)?;
    let text = r.required("definition", 1, 1 << 20)?;
    let role_arn = r.required("roleArn", 1, 256)?;
    let machine_type = r.enumeration("type", &["STANDARD", "EXPRESS"])?;
    let configs = Configs::read(&mut r)?;
    let tags = tags::read(&mut r, "tags")?.unwrap_or_default();
    let publish = r.boolean("publish")?.unwrap_or(false);
    let version_description = r.string("versionDescription", 0, 256)?;
    r.finish()?;

    if !arn::valid_name(&name) {
        return Err(ApiError::invalid_name(&name));
    }
    check_role(&role_arn)?;
    if version_description.is_some() && !publish {
        return Err(ApiError::validation("Version description can only be set when publish is true", None));
    }
    if tags.len() > tags::MAX_TAGS {
        return Err(ApiError::too_many_tags(&ctx.scope.state_machine(&name), tags::MAX_TAGS));
    }
    let machine_type = machine_type.as_deref().and_then(MachineType::parse).unwrap_or(MachineType::Standard);
    definition::check(ctx, &text, machine_type)?;

    let arn = ctx.scope.state_machine(&name);
    if let Some(existing) = ctx.store.state_machine(&arn)? {
        return same(ctx, &existing, &text, machine_type, &configs, publish, version_description.as_deref());
    }
    let now = Utc::now();
    let record = StateMachineRecord {
        arn: arn.clone(),
        name,
        machine_type,
        definition: text.clone(),
        role_arn,
        description: None,
        logging_configuration: configs.logging,
        tracing_configuration: configs.tracing,
        encryption_configuration: configs.encryption,
        creation_date: now,
        revision_id: uuid::Uuid::new_v4().to_string(),
        next_version: if publish { 2 } else { 1 },
    };
    let mut unit = vec![Write::PutDefinition { hash: definition::hash(&text), text }];
    let version = publish.then(|| version_record(&record, 1, version_description, now));
    let version_arn = version.as_ref().map(|v| v.arn.clone());
    unit.push(Write::CreateStateMachine(record));
    unit.extend(version.map(Write::CreateVersion));
    if !tags.is_empty() {
        unit.push(Write::Tag { resource_arn: arn.clone(), tags });
    }
    match ctx.store.commit(unit).await {
        Ok(()) => {}
        // Another request created it between the read above and this commit.
        Err(StoreError::Conflict(_)) => return Err(ApiError::state_machine_exists(&arn)),
        Err(e) => return Err(e.into()),
    }
    Ok(answer(&arn, now, version_arn))
}

/// The idempotent answer for an identical request, or `StateMachineAlreadyExists`.
fn same(
    ctx: &Ctx,
    existing: &StateMachineRecord,
    text: &str,
    machine_type: MachineType,
    configs: &Configs,
    publish: bool,
    version_description: Option<&str>,
) -> Result<Value, ApiError> {
    let exists = || ApiError::state_machine_exists(&existing.arn);
    let given = Configs {
        logging: existing.logging_configuration.clone(),
        tracing: existing.tracing_configuration.clone(),
        encryption: existing.encryption_configuration.clone(),
    };
    if existing.definition != text || existing.machine_type != machine_type || &given != configs {
        return Err(exists());
    }
    // Whether the first request published: version 1 exists, from the revision created.
    let first = ctx.store.version(&format!("{}:1", existing.arn))?;
    let version_arn = match (publish, first) {
        (false, _) if existing.next_version == 1 => None,
        (true, Some(v)) if v.revision_id == existing.revision_id && v.description.as_deref() == version_description => {
            Some(v.arn)
        }
        _ => return Err(exists()),
    };
    Ok(answer(&existing.arn, existing.creation_date, version_arn))
}

fn answer(arn: &str, created: chrono::DateTime<Utc>, version_arn: Option<String>) -> Value {
    let mut m = Map::new();
    m.insert("stateMachineArn".into(), Value::from(arn));
    m.insert("creationDate".into(), epoch(created));
    if let Some(v) = version_arn {
        m.insert("stateMachineVersionArn".into(), Value::from(v));
    }
    Value::Object(m)
}

/// A role ARN is an IAM role's (`arn:aws:iam::123456789012:role/name`).
pub fn check_role(role_arn: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    match parts[..] {
        ["arn", partition, "iam", "", account, resource]
            if !partition.is_empty() && !account.is_empty() && resource.starts_with("role/") && resource.len() > 5 =>
        {
            Ok(())
        }
        _ => Err(ApiError::invalid_arn(format!("Invalid ARN prefix: {role_arn}"))),
    }
}
