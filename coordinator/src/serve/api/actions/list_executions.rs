//! ListExecutions: the executions of a state machine (all of them for an unqualified ARN,
//! those started through it for a version or alias ARN) or the children of a Map Run
//! (`mapRunArn`), newest first, filtered by status and redrive. Express state machines have
//! no listing here, as on AWS (`StateMachineTypeNotSupported`).

use serde_json::{Map, Value};

use crate::serve::api::arn::{Arn, Resource};
use crate::serve::api::error::{ApiError, reason};
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, page, resolve};
use crate::serve::store::{ExecutionFilter, ExecutionRecord, ExecutionStatus, MachineType};

const STATUSES: [&str; 6] = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"];

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let machine = r.string("stateMachineArn", 1, 256)?;
    let status = r.enumeration("statusFilter", &STATUSES)?;
    let max = r.integer("maxResults", 0, 1000)?;
    let token = r.string("nextToken", 1, 3096)?;
    let map_run = r.string("mapRunArn", 1, 2000)?;
    let redrive = r.enumeration("redriveFilter", &["REDRIVEN", "NOT_REDRIVEN"])?;
    r.finish()?;
    match (&machine, &map_run) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::validation(
                "Exactly one of stateMachineArn and mapRunArn must be specified",
                Some(reason::MISSING_REQUIRED_PARAMETER),
            ));
        }
        // AWS (ListExecutions, statusFilter): "If you provide a stateMachineArn and a
        // PENDING_REDRIVE statusFilter, the API returns a validation exception."
        (Some(_), None) if status.as_deref() == Some("PENDING_REDRIVE") => {
            return Err(ApiError::validation("A PENDING_REDRIVE statusFilter requires a mapRunArn", None));
        }
        (Some(m), None) => check_machine(ctx, m)?,
        (None, Some(m)) => {
            resolve::map_run(ctx, m)?;
        }
    }
    let filter = ExecutionFilter {
        state_machine_arn: machine.clone(),
        map_run_arn: map_run.clone(),
        status: status.as_deref().and_then(ExecutionStatus::parse),
        redriven: redrive.as_deref().map(|r| r == "REDRIVEN"),
    };
    let listing = format!(
        "ListExecutions {} {} {} {}",
        machine.as_deref().unwrap_or("-"),
        map_run.as_deref().unwrap_or("-"),
        status.as_deref().unwrap_or("-"),
        redrive.as_deref().unwrap_or("-")
    );
    let request = page::request(&listing, token.as_deref(), max)?;
    let found = ctx.store.list_executions(&filter, &request)?;
    let mut out = Map::new();
    out.insert("executions".into(), Value::Array(found.items.iter().map(item).collect()));
    if let Some(next) = found.next {
        out.insert("nextToken".into(), Value::from(page::token(&listing, &next)));
    }
    Ok(Value::Object(out))
}

/// The state machine, version or alias must exist, and be of a Standard state machine.
fn check_machine(ctx: &Ctx, text: &str) -> Result<(), ApiError> {
    let arn = Arn::parse(text)?;
    let unqualified = match arn.resource {
        Resource::StateMachine { .. } => text.to_string(),
        Resource::Version { .. } => resolve::version(ctx, text)?.state_machine_arn,
        Resource::Alias { .. } => resolve::alias(ctx, text)?.state_machine_arn,
        Resource::Labelled { .. } => return Err(resolve::labelled()),
        _ => return Err(arn.wrong_kind()),
    };
    let machine = resolve::state_machine(ctx, &unqualified)?;
    if machine.machine_type == MachineType::Express {
        return Err(ApiError::type_not_supported(format!(
            "ListExecutions is not supported for EXPRESS state machines: '{unqualified}'"
        )));
    }
    Ok(())
}

fn item(e: &ExecutionRecord) -> Value {
    let mut m = super::describe_execution::head(e);
    if let Some(v) = &e.map_run_arn {
        m.insert("mapRunArn".into(), Value::from(v.clone()));
    }
    if let Some(n) = e.item_count {
        m.insert("itemCount".into(), Value::from(n));
    }
    if let Some(v) = &e.version_arn {
        m.insert("stateMachineVersionArn".into(), Value::from(v.clone()));
    }
    if let Some(v) = &e.alias_arn {
        m.insert("stateMachineAliasArn".into(), Value::from(v.clone()));
    }
    m.insert("redriveCount".into(), Value::from(e.redrive_count));
    if let Some(t) = e.redrive_date {
        m.insert("redriveDate".into(), epoch(t));
    }
    Value::Object(m)
}
