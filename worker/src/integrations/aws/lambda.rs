//! Lambda functions on AWS: a Lambda Task whose function no functions file serves (none was
//! given) calls Lambda's `Invoke` API, as Step Functions does — synchronously
//! (`RequestResponse`), the event as the payload, with the Task's role.
//!
//! The result and failures have the shapes of the local functions (`integrations::lambda`): a
//! function ARN as `Resource` returns the function's result as is; `lambda:invoke` returns the
//! Invoke wrapper (`Payload`, `StatusCode`, `ExecutedVersion`, `Sdk…Metadata`); an error the
//! function reports is named by its `errorType` with the error payload as `Cause`. Must not:
//! know where a function runs otherwise.

use std::time::Duration;

use serde_json::{Map, Value, json};
use shared::asl::error_name::{Failure, RUNTIME, TIMEOUT};
use shared::asl::eval::TaskRequest;

use super::client::Aws;
use crate::integrations::lambda::{self, reply};

/// Invokes the function a Lambda Task names on AWS Lambda.
pub async fn invoke(aws: &Aws, request: &TaskRequest) -> Result<Value, Failure> {
    let target = match lambda::target(&request.resource, &request.input) {
        Ok(Some(t)) => t,
        Ok(None) => return Err(Failure::new(RUNTIME, format!("'{}' is not a Lambda resource", request.resource))),
        Err(cause) => return Err(Failure::new(RUNTIME, cause)),
    };
    let (event, wrapped) = match target.style {
        lambda::Style::Arn => (&request.input, false),
        lambda::Style::Invoke => (request.input.get("Payload").unwrap_or(&Value::Null), true),
    };
    // The Invoke API's own parameters pass through from `lambda:invoke` (Qualifier,
    // ClientContext, LogType); `InvocationType` is RequestResponse, as Step Functions calls.
    let mut call = match (wrapped, &request.input) {
        (true, Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    call.insert("FunctionName".into(), Value::String(target.written.to_owned()));
    call.insert("InvocationType".into(), Value::String("RequestResponse".into()));
    let payload = if event.is_null() { json!({}) } else { event.clone() };
    call.insert("Payload".into(), Value::String(payload.to_string()));
    let role = super::sdk::role(request)?;
    let call = Value::Object(call);
    let sent = aws.call_api("lambda", "Invoke", &call, role.as_ref());
    let out = tokio::time::timeout(Duration::from_secs(request.timeout_seconds), sent)
        .await
        .map_err(|_| Failure::named(TIMEOUT))?
        .map_err(|e| super::sdk::failure("lambda", request, e))?;
    let request_id = out.request_id.clone().unwrap_or_default();
    let result = match out.output.get("Payload") {
        Some(Value::String(text)) => reply::payload(text.as_bytes()),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    if out.output.get("FunctionError").is_some_and(|e| !e.is_null()) {
        return Err(reply::function_error(result, &request_id));
    }
    Ok(if wrapped { reply::invoke_response(result, &request_id, chrono::Utc::now()) } else { result })
}
