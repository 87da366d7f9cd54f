//! Looking up what an ARN names, with the error AWS answers when it does not exist or is of a
//! kind the action does not take. Reads only.

use serde_json::Value;

use super::Ctx;
use super::arn::{Arn, Resource};
use super::error::{ApiError, reason};
use crate::serve::store::{AliasRecord, ExecutionRecord, MapRunRecord, StateMachineRecord, VersionRecord};

/// An unqualified state machine ARN and its record: `StateMachineDoesNotExist` when absent,
/// `InvalidArn` for other kinds, `ValidationException` for a Map Run's labelled ARN.
pub fn state_machine(ctx: &Ctx, text: &str) -> Result<StateMachineRecord, ApiError> {
    let arn = Arn::parse(text)?;
    match arn.resource {
        Resource::StateMachine { .. } => {}
        Resource::Labelled { .. } => return Err(labelled()),
        _ => return Err(arn.wrong_kind()),
    }
    ctx.store.state_machine(text)?.ok_or_else(|| ApiError::state_machine_missing(text))
}

/// A version ARN and its record (`ResourceNotFound` when absent, as the version actions
/// answer).
pub fn version(ctx: &Ctx, text: &str) -> Result<VersionRecord, ApiError> {
    let arn = Arn::parse(text)?;
    if !matches!(arn.resource, Resource::Version { .. }) {
        return Err(arn.wrong_kind());
    }
    ctx.store.version(text)?.ok_or_else(|| ApiError::not_found("State Machine Version", text))
}

/// An alias ARN and its record (`ResourceNotFound` when absent).
pub fn alias(ctx: &Ctx, text: &str) -> Result<AliasRecord, ApiError> {
    let arn = Arn::parse(text)?;
    if !matches!(arn.resource, Resource::Alias { .. }) {
        return Err(arn.wrong_kind());
    }
    ctx.store.alias(text)?.ok_or_else(|| ApiError::not_found("State Machine Alias", text))
}

/// AWS's answer to a Map Run's labelled state machine ARN where it takes none.
pub fn labelled() -> ApiError {
    ApiError::validation(
        "This API does not support Map Run state machine ARNs (labelled ARNs)",
        Some(reason::LABELED_ARN),
    )
}

/// A configuration kept as JSON text, or AWS's default when none was given.
pub fn config(text: Option<&str>, default: Value) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or(default)
}

/// A Standard execution (or a Map Run's child) and its record: `ExecutionDoesNotExist` when
/// absent. An Express execution's ARN is `InvalidArn`, as AWS answers the actions that do
/// not support Express executions (their history is not kept).
pub fn execution(ctx: &Ctx, text: &str) -> Result<ExecutionRecord, ApiError> {
    let arn = Arn::parse(text)?;
    if !matches!(arn.resource, Resource::Execution { .. }) {
        return Err(arn.wrong_kind());
    }
    ctx.store.execution(text)?.ok_or_else(|| ApiError::execution_missing(text))
}

/// A Map Run's record (`ResourceNotFound` when absent).
pub fn map_run(ctx: &Ctx, text: &str) -> Result<MapRunRecord, ApiError> {
    let arn = Arn::parse(text)?;
    if !matches!(arn.resource, Resource::MapRun { .. }) {
        return Err(arn.wrong_kind());
    }
    if let Some(live) = ctx.executions.map_run(text) {
        return Ok(live);
    }
    ctx.store.map_run(text)?.ok_or_else(|| ApiError::not_found("Map Run", text))
}
