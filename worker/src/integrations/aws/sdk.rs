//! The AWS SDK integrations, `arn:aws:states:::aws-sdk:SERVICE:ACTION`: the Task's parameters
//! are the API's input (PascalCase members), the result is the API's output, and failures carry
//! the names Step Functions gives them.
//!
//! Failure names:
//! - the service's error: `<ErrorPrefix>.<Exception>`, the AWS SDK for Java 2.x exception class
//!   (`DynamoDb.ConditionalCheckFailedException`, `S3.NoSuchKeyException`, and the service's base
//!   exception for an error its model does not declare: `S3.S3Exception`)
//!   with Cause `<message> (Service: <ErrorPrefix>, Status Code: <n>, Request ID: <id>)`, the
//!   Java SDK's message that Step Functions shows; an error without a code is
//!   `States.TaskFailed` with the same Cause;
//! - parameters the API cannot take (an unknown field, a wrong type): `States.Runtime`, Cause
//!   `The Parameters '<json>' could not be used to start the Task: [<why>]`, as Step Functions
//!   words it; nothing is sent;
//! - no answer (connection refused or reset, a body that does not follow the protocol):
//!   `<ErrorPrefix>.SdkClientException`, the Java SDK's client-side error Step Functions
//!   reports (AWS's docs retry `Lambda.SdkClientException`);
//! - credentials that cannot be had (none configured, STS refusing the Task's role):
//!   `States.TaskFailed`;
//! - `TimeoutSeconds` running out: `States.Timeout`.
//!
//! Owns: the resource's form, the Task's `Credentials`, naming failures. Must not: know any
//! service or operation.

use std::time::Duration;

use serde_json::Value;
use shared::asl::error_name::{Failure, RUNTIME, TASK_FAILED, TIMEOUT};
use shared::asl::eval::TaskRequest;
use shared::asl::resource::{Pattern, Target};

use super::api_types::ApiError;
use super::client::{Aws, Role};
use super::model::Service;

/// Calls the Task's SDK integration.
pub async fn invoke(aws: &Aws, request: &TaskRequest) -> Result<Value, Failure> {
    let Target::Sdk { service, action } = &request.resource.target else {
        return Err(Failure::new(RUNTIME, format!("'{}' is not an AWS SDK integration", request.resource)));
    };
    // `.waitForTaskToken` makes the same call; the host then waits for the callback. The
    // parser refuses `.sync` for SDK integrations ("Run a Job (.sync): Not supported").
    if !matches!(request.resource.pattern, Pattern::RequestResponse | Pattern::WaitForTaskToken) {
        return Err(Failure::new(
            RUNTIME,
            format!(
                "AWS SDK integrations do not run the {} pattern ('{}'): only request-response and .waitForTaskToken",
                request.resource.pattern.describe(),
                request.resource
            ),
        ));
    }
    let role = role(request)?;
    let call = aws.call_api(service, action, &request.input, role.as_ref());
    let outcome = tokio::time::timeout(Duration::from_secs(request.timeout_seconds), call)
        .await
        .map_err(|_| Failure::named(TIMEOUT))?;
    outcome.map(|o| o.output).map_err(|e| failure(service, request, e))
}

/// The role of the Task's `Credentials` (`{"RoleArn": "…"}`), assumed with the session name
/// `dmap-<state machine>` and the state machine's ARN as external id, as Step Functions passes
/// it (its cross-account docs condition trust policies on `sts:ExternalId` = that ARN).
pub(crate) fn role(request: &TaskRequest) -> Result<Option<Role>, Failure> {
    let Some(credentials) = &request.credentials else { return Ok(None) };
    let Some(arn) = credentials.get("RoleArn").and_then(Value::as_str) else {
        return Err(Failure::new(
            RUNTIME,
            format!("the Task's Credentials must have a RoleArn string, not {credentials}"),
        ));
    };
    let machine = state_machine_arn(&request.execution_arn);
    let machine_name = machine.as_deref().and_then(|m| m.rsplit(':').next()).unwrap_or("execution");
    let session: String = format!("dmap-{machine_name}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) { c } else { '-' })
        .take(64)
        .collect();
    Ok(Some(Role { arn: arn.to_owned(), session_name: session, external_id: machine }))
}

/// `arn:aws:states:R:A:execution:MACHINE:NAME` → `arn:aws:states:R:A:stateMachine:MACHINE`.
fn state_machine_arn(execution_arn: &str) -> Option<String> {
    let mut parts = execution_arn.splitn(8, ':');
    let head: Vec<&str> = parts.by_ref().take(5).collect();
    let (kind, machine) = (parts.next()?, parts.next()?);
    (head.len() == 5 && kind == "execution").then(|| format!("{}:stateMachine:{machine}", head.join(":")))
}

/// The Step Functions failure for an error of a call to `service`.
pub fn failure(service: &str, request: &TaskRequest, error: ApiError) -> Failure {
    let model = super::model::service(service).ok();
    let prefix = || model.as_ref().map_or_else(|| service.to_owned(), |s| s.error_prefix.clone());
    match &error {
        ApiError::Service { code, .. } => {
            let name = match &model {
                _ if code.is_empty() => TASK_FAILED.to_owned(),
                Some(m) => exception_name(m, code),
                None => format!("{}.{code}", prefix()),
            };
            Failure::new(name, error.to_string())
        }
        ApiError::InvalidParameters(why) => Failure::new(
            RUNTIME,
            format!(
                "An error occurred while executing the state '{}'. The Parameters '{}' could not be used to start the Task: [{why}]",
                request.state_name, request.input
            ),
        ),
        ApiError::Model(why) => Failure::new(RUNTIME, why.clone()),
        ApiError::Credentials(e) => Failure::new(TASK_FAILED, e.to_string()),
        ApiError::Transport(why) | ApiError::Malformed(why) => {
            Failure::new(format!("{}.SdkClientException", prefix()), format!("Unable to execute HTTP request: {why}"))
        }
    }
}

/// The name Step Functions gives a service's error: the AWS SDK for Java 2.x exception class it
/// becomes, after the service's prefix. A modelled error is its shape's class (`NoSuchKey` →
/// `S3.NoSuchKeyException`, `ConditionalCheckFailedException` stays); an error the model does
/// not declare is the service's base exception (`S3.S3Exception`, as AWS's own tutorial shows
/// for a HeadBucket that fails).
pub fn exception_name(model: &Service, code: &str) -> String {
    let prefix = &model.error_prefix;
    match model.shapes.get(code) {
        Some(shape) if shape.exception && code.ends_with("Exception") => format!("{prefix}.{code}"),
        Some(shape) if shape.exception => format!("{prefix}.{code}Exception"),
        _ => format!("{prefix}.{prefix}Exception"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use shared::asl::resource::Resource;

    use super::*;

    #[test]
    fn the_role_session_is_named_for_the_state_machine_whose_arn_is_the_external_id() {
        assert_eq!(
            state_machine_arn("arn:aws:states:eu-west-1:123456789012:execution:Orders:run-1").as_deref(),
            Some("arn:aws:states:eu-west-1:123456789012:stateMachine:Orders")
        );
        assert_eq!(state_machine_arn("local"), None);
        let request = TaskRequest {
            state_name: "S".into(),
            resource: Arc::new(Resource::parse("arn:aws:states:::aws-sdk:s3:listBuckets").unwrap()),
            input: Value::Null,
            timeout_seconds: 60,
            heartbeat_seconds: None,
            credentials: Some(serde_json::json!({"RoleArn": "arn:aws:iam::1:role/r"})),
            execution_arn: "arn:aws:states:us-east-1:1:execution:My Machine:x".into(),
            call_id: 2,
            task_token: None,
        };
        let role = role(&request).unwrap().unwrap();
        assert_eq!(role.session_name, "dmap-My-Machine");
        assert_eq!(role.external_id.as_deref(), Some("arn:aws:states:us-east-1:1:stateMachine:My Machine"));
    }

    #[test]
    fn errors_are_named_as_the_java_sdk_classes_step_functions_reports() {
        let s3 = super::super::model::service("s3").unwrap();
        assert_eq!(exception_name(&s3, "NoSuchKey"), "S3.NoSuchKeyException");
        assert_eq!(exception_name(&s3, "NotFound"), "S3.S3Exception");
        let ddb = super::super::model::service("dynamodb").unwrap();
        assert_eq!(exception_name(&ddb, "ConditionalCheckFailedException"), "DynamoDb.ConditionalCheckFailedException");
        assert_eq!(exception_name(&ddb, "SomethingNew"), "DynamoDb.DynamoDbException");
        let sfn = super::super::model::service("sfn").unwrap();
        assert_eq!(exception_name(&sfn, "ExecutionDoesNotExist"), "Sfn.ExecutionDoesNotExistException");
    }
}
