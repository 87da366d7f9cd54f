//! Definition problems: every diagnostic of a definition is collected at once, each with a JSON
//! pointer, a stable code and a message. Codes are the contract (tests and users match on
//! them); messages are for people.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a definition, in the shape of AWS `ValidateStateMachineDefinition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    /// JSON pointer into the definition, e.g. `/States/Work/Retry/0/MaxAttempts`.
    pub location: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let loc = if self.location.is_empty() { "/" } else { &self.location };
        write!(f, "{sev}[{}] at {loc}: {}", self.code, self.message)
    }
}

/// The stable diagnostic codes. AWS's own codes are used where AWS has one
/// (`SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`, ...); dmap-specific refinements
/// keep AWS's style.
pub mod code {
    pub const INVALID_JSON: &str = "INVALID_JSON_DESCRIPTION";
    pub const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";
    pub const UNKNOWN_FIELD: &str = "UNKNOWN_FIELD";
    pub const MISSING_FIELD: &str = "MISSING_REQUIRED_FIELD";
    pub const WRONG_TYPE: &str = "INVALID_FIELD_TYPE";
    pub const INVALID_VALUE: &str = "INVALID_FIELD_VALUE";
    pub const MUTUALLY_EXCLUSIVE: &str = "MUTUALLY_EXCLUSIVE_FIELDS";
    pub const MISSING_TRANSITION_TARGET: &str = "MISSING_TRANSITION_TARGET";
    pub const UNREACHABLE_STATE: &str = "UNREACHABLE_STATE";
    pub const NO_TERMINAL_STATE: &str = "NO_TERMINAL_STATE";
    pub const NEXT_AND_END: &str = "NEXT_AND_END";
    pub const MISSING_NEXT_OR_END: &str = "MISSING_NEXT_OR_END";
    pub const INVALID_PATH: &str = "INVALID_JSONPATH";
    pub const INVALID_REFERENCE_PATH: &str = "INVALID_REFERENCE_PATH";
    /// A warning: a JSONPath filter compares with an unquoted word, which AWS accepts and
    /// fails at run time (Jayway cannot compile it).
    pub const UNQUOTED_FILTER_WORD: &str = "UNQUOTED_FILTER_WORD";
    pub const INVALID_INTRINSIC: &str = "INVALID_INTRINSIC_FUNCTION";
    pub const INVALID_JSONATA: &str = "INVALID_JSONATA";
    pub const JSONPATH_FIELD_IN_JSONATA: &str = "JSONPATH_FIELD_IN_JSONATA_STATE";
    pub const INVALID_TIMESTAMP: &str = "INVALID_TIMESTAMP";
    pub const INVALID_RETRY: &str = "INVALID_RETRIER";
    pub const STATES_ALL_NOT_LAST: &str = "STATES_ALL_NOT_LAST";
    pub const INVALID_ERROR_NAME: &str = "INVALID_ERROR_NAME";
    pub const INVALID_LABEL: &str = "INVALID_LABEL";
    pub const DUPLICATE_LABEL: &str = "DUPLICATE_LABEL";
    pub const INVALID_STATE_NAME: &str = "INVALID_STATE_NAME";
    pub const DUPLICATE_STATE_NAME: &str = "DUPLICATE_STATE_NAME";
    pub const INVALID_CHOICE_RULE: &str = "INVALID_CHOICE_RULE";
    pub const INVALID_VARIABLE_NAME: &str = "INVALID_VARIABLE_NAME";
    pub const INVALID_RESOURCE: &str = "INVALID_RESOURCE";
    /// A Task resource naming a service or action that does not exist.
    pub const UNKNOWN_INTEGRATION: &str = "UNKNOWN_SERVICE_INTEGRATION";
    /// A Task resource with a pattern (`.sync`, `.sync:2`, `.waitForTaskToken`) its
    /// integration does not support.
    pub const UNSUPPORTED_PATTERN: &str = "UNSUPPORTED_INTEGRATION_PATTERN";
    /// An AWS SDK integration whose service speaks only a protocol dmap does not speak yet.
    pub const PROTOCOL_NOT_SUPPORTED: &str = "SERVICE_PROTOCOL_NOT_SUPPORTED_YET";
    pub const NOT_SUPPORTED: &str = "NOT_SUPPORTED_YET";
    pub const IGNORED_FIELD: &str = "FIELD_IGNORED";
}

/// Collects diagnostics while a definition is walked.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn error(&mut self, location: &str, code: &'static str, message: impl Into<String>) {
        self.items.push(Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: location.to_string(),
        });
    }

    pub fn warning(&mut self, location: &str, code: &'static str, message: impl Into<String>) {
        self.items.push(Diagnostic {
            severity: Severity::Warning,
            code,
            message: message.into(),
            location: location.to_string(),
        });
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/` as RFC 6901 says.
pub fn pointer_push(base: &str, token: &str) -> String {
    let mut s = String::with_capacity(base.len() + token.len() + 1);
    s.push_str(base);
    s.push('/');
    for c in token.chars() {
        match c {
            '~' => s.push_str("~0"),
            '/' => s.push_str("~1"),
            c => s.push(c),
        }
    }
    s
}
