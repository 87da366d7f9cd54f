//! The shared signed client ([`Aws`]) as the optimized integrations' [`Api`], bound to the
//! Task's role (`Credentials.RoleArn`), so the start call, the `.sync` polls and the stop call
//! of one Task all use the same identity.
//!
//! [`invoke_task`] is the entry point for a Task state: its parameters, `TimeoutSeconds`,
//! `Credentials` and execution.
//!
//! Owns: the binding of a role to the client. Must not: name failures.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::eval::TaskRequest;

use super::api::{Api, ApiError, ApiOutput, HttpRequest, HttpResponse};
use shared::asl::resource::Target;

use super::{Call, Options};
use crate::integrations::aws::client::{Aws, Role};
use crate::integrations::aws::sdk;

/// Runs a Task whose resource is an optimized integration: as the Task's `Credentials.RoleArn`
/// when it has one (assumed as the `aws-sdk:` integrations assume it), within its
/// `TimeoutSeconds`.
pub async fn invoke_task(aws: &Aws, request: TaskRequest, options: &Options) -> Result<Value, Failure> {
    let Target::Optimized { service, action } = &request.resource.target else {
        return Err(Failure::new(
            "States.Runtime",
            format!("'{}' is not an optimized integration", request.resource.arn),
        ));
    };
    let role = sdk::role(&request)?;
    let api: Arc<dyn Api> = Arc::new(Bound { aws: aws.clone(), role });
    let call = Call {
        service: service.name(),
        action,
        pattern: request.resource.pattern,
        input: request.input,
        timeout: Some(Duration::from_secs(request.timeout_seconds)),
        execution_arn: &request.execution_arn,
    };
    super::invoke(api, call, options).await
}

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
        input: &'a Value,
    ) -> BoxFuture<'a, Result<ApiOutput, ApiError>> {
        Box::pin(async move { self.aws.call_api(service, operation, input, self.role.as_ref()).await })
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
                .await?;
            Ok(HttpResponse { status: sent.status, headers: sent.headers, body: sent.body })
        })
    }
}
