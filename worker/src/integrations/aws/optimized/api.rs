//! The narrow interface the optimized integrations call AWS through: one service operation
//! ([`Api::call`]) and one plain HTTP request, signed or not ([`Api::send`], for API Gateway's
//! `invoke`). The signed AWS client implements it; the tests implement it with recorded answers.
//!
//! A call answers with the client's own [`ApiOutput`] and [`ApiError`] (re-exported here), so
//! the optimized integrations read the same answer the `aws-sdk:*` integrations do.
//!
//! Owns: the trait and its plain-HTTP request and response. Must not: know any integration.

use futures::future::BoxFuture;
use serde_json::Value;

pub use crate::integrations::aws::api_types::{ApiError, ApiOutput};

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
        input: &'a Value,
    ) -> BoxFuture<'a, Result<ApiOutput, ApiError>>;

    /// Sends a plain HTTP request, signed with SigV4 for `sign_as` (a signing name such as
    /// `execute-api`) when given. An HTTP error status is a response, not an `Err`.
    fn send<'a>(
        &'a self,
        request: HttpRequest,
        sign_as: Option<&'a str>,
    ) -> BoxFuture<'a, Result<HttpResponse, ApiError>>;
}
