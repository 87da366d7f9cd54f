//! UpdateStateMachine: replaces the definition, role or configurations of a state machine's
//! `$LATEST` revision (a new `revisionId` when anything changed), and publishes a version
//! when `publish` is true. Executions already running keep the definition they started with.
//! A version, alias or Map Run ARN is a `ValidationException`: versions are immutable.

use chrono::Utc;
use serde_json::{Map, Value};

use super::create_state_machine::check_role;
use super::publish_state_machine_version::version_record;
use crate::serve::api::arn::{Arn, Resource};
use crate::serve::api::config::Configs;
use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, definition, epoch, resolve};
use crate::serve::store::{PageRequest, Write};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn_text = r.required("stateMachineArn", 1, 256)?;
    let text = r.string("definition", 1, 1 << 20)?;
    let role_arn = r.string("roleArn", 1, 256)?;
    let configs = Configs::read(&mut r)?;
    let publish = r.boolean("publish")?.unwrap_or(false);
    let version_description = r.string("versionDescription", 0, 256)?;
    r.finish()?;

    let arn = Arn::parse(&arn_text)?;
    match arn.resource {
        Resource::StateMachine { .. } => {}
        Resource::Labelled { .. } => return Err(resolve::labelled()),
        Resource::Version { .. } | Resource::Alias { .. } => {
            return Err(ApiError::validation(
                format!("Updating a state machine version or alias is not supported: '{arn_text}'"),
                None,
            ));
        }
        _ => return Err(arn.wrong_kind()),
    }
    if text.is_none() && role_arn.is_none() && configs.is_empty() {
        return Err(ApiError::missing_parameter(
            "Either the definition, the roleArn, the loggingConfiguration, the tracingConfiguration or the \
             encryptionConfiguration must be specified",
        ));
    }
    if version_description.is_some() && !publish {
        return Err(ApiError::validation("Version description can only be set when publish is true", None));
    }
    if let Some(role) = &role_arn {
        check_role(role)?;
    }
    let old = resolve::state_machine(ctx, &arn_text)?;
    if let Some(text) = &text {
        definition::check(ctx, text, old.machine_type)?;
    }
    let mut new = old.clone();
    let mut unit = Vec::new();
    if let Some(text) = text {
        unit.push(Write::PutDefinition { hash: definition::hash(&text), text: text.clone() });
        new.definition = text;
    }
    if let Some(role) = role_arn {
        new.role_arn = role;
    }
    new.logging_configuration = configs.logging.or(new.logging_configuration);
    new.tracing_configuration = configs.tracing.or(new.tracing_configuration);
    new.encryption_configuration = configs.encryption.or(new.encryption_configuration);
    // An update that changes nothing keeps the revision, so that publishing it again finds
    // the version already published from it.
    if new != old {
        new.revision_id = uuid::Uuid::new_v4().to_string();
    }
    let now = Utc::now();
    // Publishing a revision that is published already answers with its version, as
    // PublishStateMachineVersion does.
    let newest = ctx.store.list_versions(&new.arn, &PageRequest { after: None, limit: 1 })?.items.into_iter().next();
    let published = newest.filter(|v| publish && v.revision_id == new.revision_id).map(|v| v.arn);
    let version =
        (publish && published.is_none()).then(|| version_record(&new, new.next_version, version_description, now));
    if version.is_some() {
        new.next_version += 1;
    }
    let mut out = Map::new();
    out.insert("updateDate".into(), epoch(now));
    out.insert("revisionId".into(), Value::from(new.revision_id.clone()));
    if let Some(arn) = version.as_ref().map(|v| v.arn.clone()).or(published) {
        out.insert("stateMachineVersionArn".into(), Value::from(arn));
    }
    let arn = new.arn.clone();
    unit.push(Write::UpdateStateMachine(new));
    unit.extend(version.map(Write::CreateVersion));
    let committed = ctx.store.commit(unit).await;
    ctx.machines.forget(&arn);
    committed?;
    Ok(Value::Object(out))
}
