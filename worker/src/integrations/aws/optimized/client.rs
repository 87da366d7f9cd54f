//! The shared signed client ([`Aws`]) as the optimized integrations' [`Api`], bound to the
//! Task's role (`Credentials.RoleArn`), so the start call, the `.sync` polls and the stop call
//! of one Task all use the same identity.
//!
//! Owns: the mapping of the client's errors onto [`ApiError`]. Must not: name failures.

use futures::future::BoxFuture;
use serde_json::Value;

use super::api::{Api, ApiError, ApiOutput, HttpRequest, HttpResponse};
use crate::integrations::aws::client::{self, Aws, Role};

/// [`Aws`] calling as the process's identity, or as `role`.
#[derive(Debug, Clone)]
pub struct Bound {
    pub aws: Aws,
    pub role: Option<Role>,
}

impl Api for Bound {
    fn call<'a>(
        &'a self,
        service: &'a str,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<ApiOutput, ApiError>> {
        Box::pin(async move {
            match self.aws.call_api(service, operation, &input, self.role.as_ref()).await {
                Ok(o) => {
                    Ok(ApiOutput { output: o.output, status: o.status, headers: o.headers, request_id: o.request_id })
                }
                Err(e) => Err(error(e)),
            }
        })
    }

    fn send<'a>(
        &'a self,
        request: HttpRequest,
        sign_as: Option<&'a str>,
    ) -> BoxFuture<'a, Result<HttpResponse, ApiError>> {
        Box::pin(async move {
            let sent = self
                .aws
                .send(&request.method, &request.url, request.headers, request.body, sign_as, self.role.as_ref())
                .await
                .map_err(error)?;
            Ok(HttpResponse { status: sent.status, headers: sent.headers, body: sent.body })
        })
    }
}

fn error(e: client::ApiError) -> ApiError {
    match e {
        client::ApiError::Service { status, code, message, request_id, .. } => {
            ApiError::Service { status, code, message, request_id }
        }
        client::ApiError::InvalidParameters(why) | client::ApiError::Model(why) => ApiError::InvalidParameters(why),
        client::ApiError::Credentials(e) => ApiError::Credentials(e.to_string()),
        client::ApiError::Transport(why) | client::ApiError::Malformed(why) => ApiError::Transport(why),
    }
}
