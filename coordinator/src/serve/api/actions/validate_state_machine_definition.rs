//! ValidateStateMachineDefinition: the definition's diagnostics in AWS's shape
//! (`{severity, code, message, location}`), `result` FAIL when any is an error.
//!
//! Codes are dmap's stable diagnostic codes (`shared::asl::diagnostic::code`), which are
//! AWS's where AWS has one (`SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`,
//! `INVALID_JSON_DESCRIPTION`, …) and dmap refinements in AWS's style otherwise. The
//! diagnostics include what CreateStateMachine would refuse on this server
//! (`NOT_SUPPORTED_YET` for Task resources no configured integration serves, and AWS's
//! Express rules when `type` is EXPRESS: `SCHEMA_VALIDATION_FAILED: Express state machine does
//! not support …`), so that OK here means CreateStateMachine accepts the definition.
//! `severity` is the least severity returned (ERROR, the default: errors only; WARNING: both); `maxResults` 0 means 100, and
//! `truncated` says whether some were left out. `result` counts every error, shown or not.

use serde_json::{Value, json};
use shared::asl::Severity;

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::{Ctx, definition};
use crate::serve::store::MachineType;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let text = r.required("definition", 1, 1 << 20)?;
    let machine_type = r.enumeration("type", &["STANDARD", "EXPRESS"])?;
    let severity = r.enumeration("severity", &["ERROR", "WARNING"])?;
    let max = r.integer("maxResults", 0, 100)?;
    r.finish()?;
    let machine_type = machine_type.as_deref().and_then(MachineType::parse).unwrap_or(MachineType::Standard);
    let mut found = definition::all_diagnostics(ctx, &text, machine_type);
    let ok = !found.iter().any(|d| d.severity == Severity::Error);
    let with_warnings = severity.as_deref() == Some("WARNING");
    // Errors first, as AWS lists them.
    found.sort_by_key(|d| d.severity != Severity::Error);
    let shown: Vec<_> = found.iter().filter(|d| with_warnings || d.severity == Severity::Error).collect();
    let limit = match max {
        None | Some(0) => 100,
        Some(n) => n as usize,
    };
    let truncated = shown.len() > limit;
    let diagnostics: Vec<Value> = shown
        .into_iter()
        .take(limit)
        .map(|d| {
            let severity = if d.severity == Severity::Error { "ERROR" } else { "WARNING" };
            json!({"severity": severity, "code": d.code, "message": d.message, "location": d.location})
        })
        .collect();
    Ok(json!({"result": if ok { "OK" } else { "FAIL" }, "diagnostics": diagnostics, "truncated": truncated}))
}
