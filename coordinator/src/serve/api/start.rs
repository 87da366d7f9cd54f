//! What StartExecution and StartSyncExecution share: reading the request, checking the name
//! and the input, resolving a state machine, version or alias ARN to the revision that runs
//! (an alias picks one of its versions by weight, at random, as AWS routes), forming the
//! execution ARN as AWS does, and building the engine's [`StartSpec`]. Also the mapping of
//! the engine's errors to AWS's. Nothing here runs anything.

use super::arn::{Arn, Resource};
use super::error::ApiError;
use super::request::Request;
use super::{Ctx, definition, resolve};
use crate::serve::engine::{EngineError, StartSpec};
use crate::serve::store::{MachineType, StateMachineRecord};

/// AWS's limit on an execution's input: 256 KiB of UTF-8.
pub const MAX_INPUT_BYTES: usize = 256 * 1024;

/// A start request's members.
#[derive(Debug)]
pub struct StartRequest {
    pub state_machine_arn: String,
    pub name: Option<String>,
    pub input: Option<String>,
    pub trace_header: Option<String>,
}

impl StartRequest {
    /// Reads the members StartExecution and StartSyncExecution share (the caller reads its
    /// own and calls `finish`).
    pub fn read(r: &mut Request) -> Result<StartRequest, ApiError> {
        let state_machine_arn = r.required("stateMachineArn", 1, 256)?;
        let name = r.string("name", 1, 80)?;
        // The input's size is AWS's quota in bytes (InvalidExecutionInput), checked below.
        let input = r.string("input", 0, usize::MAX)?;
        let trace_header = r.string("traceHeader", 0, 256)?;
        if let Some(t) = &trace_header
            && !t.is_ascii()
        {
            r.violation(format!(
                "Value '{t}' at 'traceHeader' failed to satisfy constraint: Member must satisfy regular expression \
                 pattern: \\p{{ASCII}}*"
            ));
        }
        Ok(StartRequest { state_machine_arn, name, input, trace_header })
    }
}

/// The revision that runs and the names it runs under.
struct Resolved {
    machine: StateMachineRecord,
    version_arn: Option<String>,
    alias_arn: Option<String>,
    definition: String,
    role_arn: String,
}

/// Checks and resolves a start request into the engine's spec. `express_arn` forms the
/// execution ARN as AWS does for Express executions (`…:express:<machine>:<name>:<uuid>`).
pub fn spec(ctx: &Ctx, req: StartRequest) -> Result<StartSpec, ApiError> {
    let name = req.name.unwrap_or_else(random_uuid);
    if !super::arn::valid_name(&name) {
        return Err(ApiError::invalid_name(&name));
    }
    let input = req.input.unwrap_or_else(|| "{}".to_string());
    if input.len() > MAX_INPUT_BYTES {
        return Err(ApiError::invalid_input(format!(
            "The input is {} bytes, more than the limit of {MAX_INPUT_BYTES} bytes",
            input.len()
        )));
    }
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&input) {
        return Err(ApiError::invalid_input(e));
    }
    // `stateMachineArn#TestCase`: a mocked test case of `--mock-config`, as AWS Step Functions
    // Local takes it (the engine checks it against the mock configuration).
    let (target, mock_test_case) = match req.state_machine_arn.split_once('#') {
        Some((arn, case)) => (arn, Some(case.to_string())),
        None => (req.state_machine_arn.as_str(), None),
    };
    let r = resolve_target(ctx, target)?;
    let execution_arn = match r.machine.machine_type {
        MachineType::Standard => ctx.scope.execution(&r.machine.name, &name),
        MachineType::Express => ctx.scope.express_execution(&r.machine.name, &name, &random_uuid()),
    };
    Ok(StartSpec {
        execution_arn,
        name,
        state_machine_arn: r.machine.arn.clone(),
        state_machine_name: r.machine.name.clone(),
        version_arn: r.version_arn,
        alias_arn: r.alias_arn,
        machine_type: r.machine.machine_type,
        definition_hash: definition::hash(&r.definition),
        definition: r.definition,
        role_arn: r.role_arn,
        input,
        trace_header: req.trace_header,
        mock_test_case,
    })
}

/// A random (v4) UUID from the thread's user-space generator: `Uuid::new_v4` makes a system
/// call for each, a twentieth of a synchronous Express call's cost.
pub fn random_uuid() -> String {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string()
}

fn resolve_target(ctx: &Ctx, text: &str) -> Result<Resolved, ApiError> {
    let arn = Arn::parse(text)?;
    let missing = || ApiError::state_machine_missing(text);
    let version_arn = match &arn.resource {
        Resource::StateMachine { .. } => {
            let machine = ctx.machines.get(&*ctx.store, text)?.ok_or_else(missing)?;
            let machine = StateMachineRecord::clone(&machine);
            let (definition, role_arn) = (machine.definition.clone(), machine.role_arn.clone());
            return Ok(Resolved { machine, version_arn: None, alias_arn: None, definition, role_arn });
        }
        Resource::Version { .. } => text.to_string(),
        Resource::Alias { .. } => {
            let alias = ctx.store.alias(text)?.ok_or_else(missing)?;
            pick(&alias.routing, rand::random_range(0..100)).ok_or_else(missing)?.to_string()
        }
        Resource::Labelled { .. } => return Err(resolve::labelled()),
        _ => return Err(arn.wrong_kind()),
    };
    let version = ctx.store.version(&version_arn)?.ok_or_else(missing)?;
    let machine = ctx.store.state_machine(&version.state_machine_arn)?.ok_or_else(missing)?;
    let alias_arn = matches!(arn.resource, Resource::Alias { .. }).then(|| text.to_string());
    Ok(Resolved {
        machine,
        version_arn: Some(version.arn),
        alias_arn,
        definition: version.definition,
        role_arn: version.role_arn,
    })
}

/// The version a draw in `0..100` routes to: the first takes draws below its weight, the
/// second the rest.
pub fn pick(routing: &[(String, u32)], draw: u32) -> Option<&str> {
    let mut below = 0;
    for (version, weight) in routing {
        below += weight;
        if draw < below {
            return Some(version);
        }
    }
    routing.iter().rev().find(|(_, w)| *w > 0).map(|(v, _)| v.as_str())
}

/// AWS's answer for an engine error.
pub fn engine_error(e: EngineError) -> ApiError {
    match e {
        EngineError::AlreadyExists(arn) => ApiError::execution_exists(&arn),
        EngineError::DoesNotExist(arn) => ApiError::execution_missing(&arn),
        EngineError::NotRedrivable(reason) => ApiError::not_redrivable(reason),
        EngineError::InvalidDefinition(message) => ApiError::invalid_definition(message),
        // Step Functions Local answers a test case it cannot find as a bad request.
        EngineError::MockTestCase(message) => ApiError::validation(message, None),
        EngineError::Store(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_route_by_weight() {
        let routing = vec![("v1".to_string(), 90), ("v2".to_string(), 10)];
        assert_eq!(pick(&routing, 0), Some("v1"));
        assert_eq!(pick(&routing, 89), Some("v1"));
        assert_eq!(pick(&routing, 90), Some("v2"));
        assert_eq!(pick(&routing, 99), Some("v2"));
        let only = vec![("v1".to_string(), 100), ("v2".to_string(), 0)];
        assert!((0..100).all(|d| pick(&only, d) == Some("v1")));
    }
}
