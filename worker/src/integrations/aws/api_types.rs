//! The answer of one AWS call, as both the `aws-sdk:*` integrations ([`super::sdk`]) and the
//! optimized integrations (through [`super::optimized::Api`]) read it: one pair of types, so
//! the two name the same failure from the same facts.
//!
//! Owns: [`ApiOutput`] and [`ApiError`]. Must not: name errors the Step Functions way (`sdk`
//! and `optimized::errors` do, each its own way).

use serde_json::Value;

use super::credentials::CredentialsError;

/// A successful call.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiOutput {
    /// The output as the API names it (PascalCase members).
    pub output: Value,
    pub status: u16,
    /// The response's headers in the order received; the client gives lower-case names.
    pub headers: Vec<(String, String)>,
    pub request_id: Option<String>,
}

impl ApiOutput {
    /// A 200 answer with no headers: what tests and adapters without metadata build.
    pub fn ok(output: Value) -> Self {
        ApiOutput { output, status: 200, headers: Vec::new(), request_id: None }
    }
}

/// Why a call did not produce an output.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The service answered with an error. `service` is the model's error prefix (`DynamoDb`);
    /// `code` the error shape's name without namespace (`ConditionalCheckFailedException`),
    /// empty when the service gave none. Displayed as the aws-sdk Cause.
    #[error("{message} (Service: {service}, Status Code: {status}, Request ID: {})", request_id.as_deref().unwrap_or(""))]
    Service { service: String, status: u16, code: String, message: String, request_id: Option<String> },
    /// The parameters do not fit the operation; nothing was sent.
    #[error("{0}")]
    InvalidParameters(String),
    /// No service or operation of that name, or a protocol dmap does not speak.
    #[error("{0}")]
    Model(String),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The request could not be sent or the response not read.
    #[error("{0}")]
    Transport(String),
    /// The response does not follow the service's protocol.
    #[error("{0}")]
    Malformed(String),
}
