//! Run failures as plain data: the `{Error, Cause}` pair that ASL retries and catches, and the
//! `States.*` error names with AWS's matching rules.

use serde_json::{Map, Value};

pub const ALL: &str = "States.ALL";
pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
pub const RUNTIME: &str = "States.Runtime";
pub const TIMEOUT: &str = "States.Timeout";
pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
pub const TASK_FAILED: &str = "States.TaskFailed";
pub const PERMISSIONS: &str = "States.Permissions";
pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
pub const BRANCH_FAILED: &str = "States.BranchFailed";
pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";

/// Every predefined name a definition may list in `ErrorEquals` (besides the
/// `States.Http.StatusCode.<nnn>` family).
pub const PREDEFINED: &[&str] = &[
    ALL,
    DATA_LIMIT_EXCEEDED,
    RUNTIME,
    TIMEOUT,
    HEARTBEAT_TIMEOUT,
    TASK_FAILED,
    PERMISSIONS,
    RESULT_PATH_MATCH_FAILURE,
    PARAMETER_PATH_FAILURE,
    BRANCH_FAILED,
    NO_CHOICE_MATCHED,
    INTRINSIC_FAILURE,
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    ITEM_READER_FAILED,
    RESULT_WRITER_FAILED,
    QUERY_EVALUATION_ERROR,
    "States.Http.Socket",
];

/// A failed run of a state or an execution, exactly as ASL sees it. Both parts may be absent:
/// a `Fail` state with neither `Error` nor `Cause` fails the execution with empty details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl Failure {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Failure { error: Some(error.into()), cause: Some(cause.into()) }
    }

    /// A failure that carries only a name (AWS omits the cause, e.g. for `States.Timeout`).
    pub fn named(error: impl Into<String>) -> Self {
        Failure { error: Some(error.into()), cause: None }
    }

    pub fn error_name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// `States.Runtime` and `States.DataLimitExceeded` end the execution: no retrier or catcher
    /// sees them, not even `States.ALL`.
    pub fn is_terminal(&self) -> bool {
        matches!(self.error_name(), RUNTIME | DATA_LIMIT_EXCEEDED)
    }

    /// Whether a retrier's or catcher's `ErrorEquals` list matches this failure.
    pub fn matches(&self, error_equals: &[String]) -> bool {
        if self.is_terminal() {
            return error_equals.iter().any(|e| e == self.error_name());
        }
        let name = self.error_name();
        error_equals.iter().any(|e| e == name || e == ALL || (e == TASK_FAILED && name != TIMEOUT))
    }

    /// The error output a catcher places with its `ResultPath`: `{"Error": .., "Cause": ..}`.
    pub fn to_error_output(&self) -> Value {
        let mut m = Map::new();
        if let Some(e) = &self.error {
            m.insert("Error".into(), Value::String(e.clone()));
        }
        if let Some(c) = &self.cause {
            m.insert("Cause".into(), Value::String(c.clone()));
        }
        Value::Object(m)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error_name())?;
        if let Some(c) = &self.cause {
            write!(f, ": {c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(error: &str, equals: &[&str], expected: bool) {
        let f = Failure::named(error);
        let list: Vec<String> = equals.iter().map(|s| s.to_string()).collect();
        assert_eq!(f.matches(&list), expected, "{error} against {equals:?}");
    }

    #[test]
    fn matching_follows_aws() {
        check("Custom", &["Custom"], true);
        check("Custom", &["custom"], false);
        check("Custom", &[ALL], true);
        check(TIMEOUT, &[ALL], true);
        check(TIMEOUT, &[TASK_FAILED], false);
        check("Lambda.Unknown", &[TASK_FAILED], true);
        check(RUNTIME, &[ALL], false);
        check(DATA_LIMIT_EXCEEDED, &[ALL, TASK_FAILED], false);
        check(RUNTIME, &[RUNTIME], true);
    }
}
