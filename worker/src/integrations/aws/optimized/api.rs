//! The narrow interface the optimized integrations call AWS through: one service operation
//! ([`Api::call`]) and one plain HTTP request, signed or not ([`Api::send`], for API Gateway's
//! `invoke`). The signed AWS client implements it; the tests implement it with recorded answers.
//!
//! Owns: the request and answer types of that interface. Must not: know any integration.

use futures::future::BoxFuture;
use serde_json::Value;

/// A successful answer of a service operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiOutput {
    /// The operation's output with the model's member names in PascalCase, as the `aws-sdk:*`
    /// integrations hand it to a state. A blob member that is a payload (Bedrock's
    /// `InvokeModel` `Body`) is its text, or base64 when it is not UTF-8.
    pub output: Value,
    pub status: u16,
    /// Response headers as received (name case as the server sent it).
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
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The service answered with an error. `code` is the error shape's name without namespace
    /// (`ConditionalCheckFailedException`, `ResourceNotFoundException`); empty when the
    /// service gave none.
    #[error("{code}: {message} (status {status})")]
    Service { status: u16, code: String, message: String, request_id: Option<String> },
    /// The request never got an answer: connection refused, timed out, unreadable response.
    #[error("{0}")]
    Transport(String),
    /// The parameters cannot make a request of this operation (unknown member, wrong type).
    #[error("{0}")]
    InvalidParameters(String),
    /// No credentials to sign with (none configured, the Task's role cannot be assumed).
    #[error("{0}")]
    Credentials(String),
}

/// A plain HTTP request (API Gateway's `invoke`). `url` is absolute and percent-encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// How the optimized integrations reach AWS. One value serves one set of credentials: a
/// Task's `Credentials.RoleArn` is bound by the caller (an `Api` per assumed role), so the
/// `.sync` polls and the stop call of a job use the role that started it.
pub trait Api: Send + Sync {
    /// Calls `operation` (PascalCase, `PutItem`) of `service` (the `aws-sdk:` service name,
    /// `dynamodb`, `bedrockruntime`) with `input` (the model's member names in PascalCase).
    fn call<'a>(
        &'a self,
        service: &'a str,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<ApiOutput, ApiError>>;

    /// Sends a plain HTTP request, signed with SigV4 for `sign_as` (a signing name such as
    /// `execute-api`) when given. An HTTP error status is a response, not an `Err`.
    fn send<'a>(
        &'a self,
        request: HttpRequest,
        sign_as: Option<&'a str>,
    ) -> BoxFuture<'a, Result<HttpResponse, ApiError>>;
}
