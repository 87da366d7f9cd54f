//! The API's errors: AWS's error codes (botocore's stepfunctions model names each one an action
//! can return), their HTTP statuses, and the texts AWS writes for them, in one table.
//!
//! An [`ApiError`] is what an action returns instead of an answer; `http` turns it into the
//! AWS JSON 1.0 error body `{"__type": code, "message": …}` (plus `reason` or `resourceName`
//! where the model has those members). This module must not know about HTTP beyond the status
//! number, nor about the store.

use serde_json::{Map, Value};

/// One error answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// AWS's error code (`__type`), e.g. `StateMachineDoesNotExist`.
    pub code: &'static str,
    pub message: String,
    /// 400 for the caller's mistakes, 413 for an oversized body, 500/503 for ours.
    pub status: u16,
    /// `ValidationException.reason` (botocore's `ValidationExceptionReason`).
    pub reason: Option<&'static str>,
    /// `ResourceNotFound.resourceName` and `TooManyTags.resourceName`.
    pub resource_name: Option<String>,
}

/// `ValidationException.reason` values (botocore's `ValidationExceptionReason` enum).
pub mod reason {
    pub const LABELED_ARN: &str = "API_DOES_NOT_SUPPORT_LABELED_ARNS";
    pub const MISSING_REQUIRED_PARAMETER: &str = "MISSING_REQUIRED_PARAMETER";
    pub const COMPLETED_MAP_RUN: &str = "CANNOT_UPDATE_COMPLETED_MAP_RUN";
    pub const ROUTING: &str = "INVALID_ROUTING_CONFIGURATION";
}

impl ApiError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), status: 400, reason: None, resource_name: None }
    }

    /// The JSON body AWS sends with the error.
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("__type".into(), Value::from(self.code));
        m.insert("message".into(), Value::from(self.message.clone()));
        if let Some(r) = self.reason {
            m.insert("reason".into(), Value::from(r));
        }
        if let Some(n) = &self.resource_name {
            m.insert("resourceName".into(), Value::from(n.clone()));
        }
        Value::Object(m)
    }

    /// An error decided elsewhere with its own code and status (authentication's refusals).
    pub fn with_status(code: &'static str, message: impl Into<String>, status: u16) -> Self {
        ApiError { status, ..Self::new(code, message) }
    }

    // Protocol errors, raised before an action runs. AWS's front end (Coral) names them.

    /// An `X-Amz-Target` that names no action of this service.
    pub fn unknown_operation(target: &str) -> Self {
        Self::new("UnknownOperationException", format!("Unknown operation: '{target}'"))
    }
    /// A body that is not a JSON object, or a member of the wrong JSON type.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }
    /// A body larger than the server reads.
    pub fn too_large(limit: usize) -> Self {
        ApiError {
            status: 413,
            ..Self::new("RequestEntityTooLargeException", format!("Request body is larger than {limit} bytes"))
        }
    }
    /// Coral's constraint check: `1 validation error detected: Value null at 'name' failed to
    /// satisfy constraint: Member must not be null` (several joined by `; `).
    pub fn constraints(violations: &[String]) -> Self {
        let n = violations.len();
        let s = if n == 1 { "" } else { "s" };
        Self::new("ValidationException", format!("{n} validation error{s} detected: {}", violations.join("; ")))
    }

    // The service's own errors, as botocore's model names them.

    pub fn validation(message: impl Into<String>, reason: Option<&'static str>) -> Self {
        ApiError { reason, ..Self::new("ValidationException", message) }
    }
    pub fn invalid_arn(detail: impl std::fmt::Display) -> Self {
        Self::new("InvalidArn", format!("Invalid Arn: '{detail}'"))
    }
    pub fn invalid_name(name: &str) -> Self {
        Self::new("InvalidName", format!("Invalid Name: '{name}'"))
    }
    /// `details` is AWS's list `CODE: message at /pointer, …`.
    pub fn invalid_definition(details: impl std::fmt::Display) -> Self {
        Self::new("InvalidDefinition", format!("Invalid State Machine Definition: '{details}'"))
    }
    pub fn invalid_input(detail: impl std::fmt::Display) -> Self {
        Self::new("InvalidExecutionInput", format!("Invalid State Machine Execution Input: '{detail}'"))
    }
    pub fn invalid_logging(detail: impl std::fmt::Display) -> Self {
        Self::new("InvalidLoggingConfiguration", format!("Invalid Logging Configuration: '{detail}'"))
    }
    pub fn invalid_token(token: &str) -> Self {
        Self::new("InvalidToken", format!("Invalid Token: '{token}'"))
    }
    pub fn execution_exists(arn: &str) -> Self {
        Self::new("ExecutionAlreadyExists", format!("Execution Already Exists: '{arn}'"))
    }
    /// RedriveExecution refused; the message is AWS's `redriveStatusReason` for the case.
    pub fn not_redrivable(reason: impl Into<String>) -> Self {
        Self::new("ExecutionNotRedrivable", reason)
    }
    pub fn execution_missing(arn: &str) -> Self {
        Self::new("ExecutionDoesNotExist", format!("Execution Does Not Exist: '{arn}'"))
    }
    pub fn state_machine_exists(arn: &str) -> Self {
        Self::new("StateMachineAlreadyExists", format!("State Machine Already Exists: '{arn}'"))
    }
    pub fn state_machine_missing(arn: &str) -> Self {
        Self::new("StateMachineDoesNotExist", format!("State Machine Does Not Exist: '{arn}'"))
    }
    pub fn state_machine_deleting(arn: &str) -> Self {
        Self::new("StateMachineDeleting", format!("State Machine is being deleted: '{arn}'"))
    }
    pub fn type_not_supported(message: impl Into<String>) -> Self {
        Self::new("StateMachineTypeNotSupported", message)
    }
    /// `what` is AWS's wording of the resource (`State Machine Alias`, `Map Run`, `Resource`).
    pub fn not_found(what: &str, arn: &str) -> Self {
        ApiError {
            resource_name: Some(arn.to_string()),
            ..Self::new("ResourceNotFound", format!("{what} Does Not Exist: '{arn}'"))
        }
    }
    pub fn missing_parameter(message: impl Into<String>) -> Self {
        Self::new("MissingRequiredParameter", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new("ConflictException", message)
    }
    pub fn too_many_tags(arn: &str, limit: usize) -> Self {
        ApiError {
            resource_name: Some(arn.to_string()),
            ..Self::new("TooManyTags", format!("Too many tags: a resource has at most {limit} tags: '{arn}'"))
        }
    }

    /// The text recorded against AWS (localstack's `test_sfn_api_activities` snapshot).
    pub fn activity_missing(arn: &str) -> Self {
        Self::new("ActivityDoesNotExist", format!("Activity Does Not Exist: '{arn}'"))
    }
    /// AWS's text for the next three is not published; these follow its `… Does Not Exist`
    /// pattern and its limits' wording.
    pub fn activity_exists(arn: &str) -> Self {
        Self::new("ActivityAlreadyExists", format!("Activity Already Exists: '{arn}'"))
    }
    pub fn activity_limit(limit: u64) -> Self {
        Self::new("ActivityLimitExceeded", format!("Activity limit exceeded: at most {limit} activities may exist"))
    }
    pub fn activity_worker_limit(arn: &str, limit: usize) -> Self {
        Self::new(
            "ActivityWorkerLimitExceeded",
            format!("Activity worker limit exceeded: at most {limit} workers may poll '{arn}' at once"),
        )
    }

    pub fn quota(message: impl Into<String>) -> Self {
        Self::new("ServiceQuotaExceededException", message)
    }

    // Ours.

    /// A failure of the store or another part of the server; the caller may retry.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError { status: 500, ..Self::new("InternalFailure", message) }
    }
}

impl From<crate::serve::store::StoreError> for ApiError {
    fn from(e: crate::serve::store::StoreError) -> Self {
        use crate::serve::store::StoreError;
        // A token this server issued always holds a key of its listing; one that does not
        // was made up or altered.
        if let StoreError::InvalidPageKey(key) = &e {
            return ApiError::invalid_token(key);
        }
        // Conflicts are mapped by each action to its own code before this; one reaching here
        // is a race the action did not expect, which a retry resolves.
        tracing::error!(error = %e, "store");
        ApiError::internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bodies_carry_the_members_botocore_reads() {
        let e = ApiError::not_found("State Machine Alias", "arn:aws:states:us-east-1:123456789012:stateMachine:m:prod");
        assert_eq!(
            e.body(),
            json!({"__type": "ResourceNotFound",
                   "message": "State Machine Alias Does Not Exist: 'arn:aws:states:us-east-1:123456789012:stateMachine:m:prod'",
                   "resourceName": "arn:aws:states:us-east-1:123456789012:stateMachine:m:prod"})
        );
        let v = ApiError::validation("no", Some(reason::ROUTING));
        assert_eq!(v.body()["reason"], "INVALID_ROUTING_CONFIGURATION");
        assert_eq!(v.status, 400);
    }

    #[test]
    fn constraint_messages_count_the_violations() {
        let one = ApiError::constraints(&["a".into()]);
        assert_eq!(one.message, "1 validation error detected: a");
        let two = ApiError::constraints(&["a".into(), "b".into()]);
        assert_eq!(two.message, "2 validation errors detected: a; b");
    }
}
