//! DescribeExecution: an execution's status, input, output or error, and where it came from
//! (version, alias, Map Run), with AWS's redrive status. `includedData: METADATA_ONLY` leaves
//! out the input and the output.

use serde_json::{Map, Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, epoch, resolve};
use crate::serve::engine::not_redrivable;
use crate::serve::store::{ExecutionRecord, ExecutionStatus};

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let arn = r.required("executionArn", 1, 256)?;
    let included = r.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    r.finish()?;
    let execution = resolve::execution(ctx, &arn)?;
    Ok(describe(&execution, included.as_deref() != Some("METADATA_ONLY")))
}

/// The members DescribeExecution and ListExecutions' items share, in AWS's order.
pub fn head(e: &ExecutionRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("executionArn".into(), Value::from(e.arn.clone()));
    m.insert("stateMachineArn".into(), Value::from(e.state_machine_arn.clone()));
    m.insert("name".into(), Value::from(e.name.clone()));
    m.insert("status".into(), Value::from(e.status.as_str()));
    m.insert("startDate".into(), epoch(e.start_date));
    if let Some(t) = e.stop_date {
        m.insert("stopDate".into(), epoch(t));
    }
    m
}

/// DescribeExecution's answer for `e`, with or without its data.
pub fn describe(e: &ExecutionRecord, with_data: bool) -> Value {
    let mut m = head(e);
    if with_data {
        m.insert("input".into(), Value::from(e.input.clone()));
    }
    m.insert("inputDetails".into(), json!({"included": with_data}));
    if let Some(output) = &e.output {
        if with_data {
            m.insert("output".into(), Value::from(output.clone()));
        }
        m.insert("outputDetails".into(), json!({"included": with_data}));
    }
    let optional = [
        ("traceHeader", &e.trace_header),
        ("mapRunArn", &e.map_run_arn),
        ("error", &e.error),
        ("cause", &e.cause),
        ("stateMachineVersionArn", &e.version_arn),
        ("stateMachineAliasArn", &e.alias_arn),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            m.insert(key.into(), Value::from(v.clone()));
        }
    }
    m.insert("redriveCount".into(), Value::from(e.redrive_count));
    if let Some(t) = e.redrive_date {
        m.insert("redriveDate".into(), epoch(t));
    }
    let (status, reason) = redrive_status(e);
    m.insert("redriveStatus".into(), Value::from(status));
    if let Some(reason) = reason {
        m.insert("redriveStatusReason".into(), Value::from(reason));
    }
    Value::Object(m)
}

/// AWS's `redriveStatus`: an execution that ended unsuccessfully can be redriven (a Map Run's
/// child only by redriving its Map Run) within AWS's rules; otherwise NOT_REDRIVABLE, for the
/// reason RedriveExecution would give (`serve::engine::not_redrivable`).
fn redrive_status(e: &ExecutionRecord) -> (&'static str, Option<String>) {
    let terminal = matches!(e.status, ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted);
    if terminal && e.map_run_arn.is_some() {
        return ("REDRIVABLE_BY_MAP_RUN", None);
    }
    match not_redrivable(e, chrono::Utc::now()) {
        Some(reason) => ("NOT_REDRIVABLE", Some(reason)),
        None => ("REDRIVABLE", None),
    }
}
