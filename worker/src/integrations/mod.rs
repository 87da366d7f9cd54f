//! Task integrations: what a Task state's `Resource` reaches — Lambda functions served by local
//! implementations (`lambda`) or, without a functions file, by AWS Lambda, the HTTP Task (`http`), configured by a functions file
//! (`config`), and AWS services called for real (`aws`: the `aws-sdk:*` and the optimized
//! integrations). [`Integrations`] dispatches a call to the right one. The same integrations serve
//! Task states of the parent machine and of Map Run children.

pub mod aws;
pub mod config;
pub mod http;
pub mod lambda;
mod needs;

pub use needs::needs;

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::RUNTIME;
use shared::asl::eval::TaskRequest;
use shared::asl::resource::{Resource, Target};
use shared::protocol::Needs;

use config::FunctionsFile;
use http::{Http, HttpConfig};
use lambda::Lambda;

/// Every integration this process can call.
pub struct Integrations {
    /// `None` without a functions file: Lambda resources then have nothing to run.
    lambda: Option<Lambda>,
    http: Http,
    /// The AWS client, made on the first AWS call (it reads the environment and shared files).
    aws: OnceLock<Result<aws::Aws, String>>,
    /// The optimized integrations' settings (the `.sync` poll interval).
    optimized: aws::optimized::Options,
}

impl std::fmt::Debug for Integrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integrations").field("functions", &self.lambda.as_ref().map(|l| l.functions_file())).finish()
    }
}

impl Integrations {
    /// No functions file: the HTTP Task (without connections) only.
    pub fn none(max_response_bytes: Option<usize>) -> Self {
        Integrations {
            lambda: None,
            http: Http::new(HttpConfig::default()).with_max_response_bytes(max_response_bytes),
            aws: OnceLock::new(),
            optimized: aws::optimized::Options::from_env(),
        }
    }

    /// What this process serves: the functions file's function and connection names.
    pub fn serves(&self) -> Needs {
        let functions = self.lambda.iter().flat_map(|l| l.function_names()).map(str::to_owned);
        Needs::new(functions, self.http.config().connection_names().map(str::to_owned))
    }

    /// Loads a functions file. Errors name the file and the key.
    pub fn load(path: &Path, max_response_bytes: Option<usize>) -> Result<Self, String> {
        let file = FunctionsFile::load(path).map_err(|e| e.to_string())?;
        let http_config = HttpConfig::from_raw(&file.connections, file.http.as_ref())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Integrations {
            lambda: Some(Lambda::new(&file).with_max_response_bytes(max_response_bytes)),
            http: Http::new(http_config).with_max_response_bytes(max_response_bytes),
            aws: OnceLock::new(),
            optimized: aws::optimized::Options::from_env(),
        })
    }

    /// Why a Task with this resource (and these literal parameters, when known) cannot run
    /// here, or `None` when it can — or when only the run can tell (`FunctionName.$`).
    pub fn unsupported(&self, resource: &Resource, parameters: &Value) -> Option<String> {
        match &resource.target {
            Target::Http => None,
            // Without a functions file, Lambda functions are AWS Lambda's.
            _ if lambda::is_lambda_resource(resource) => self.lambda.as_ref()?.describe_missing(resource, parameters),
            // Request-response or `.waitForTaskToken` (the same call; the parser refuses `.sync`).
            Target::Sdk { .. } => None,
            Target::Optimized { service, action } => aws::optimized::refusal(service.name(), action, resource.pattern)
                .map(|why| format!("the Task resource '{resource}' cannot run here: {why}")),
            Target::Function { .. } | Target::Activity { .. } => Some(aws_services_not_yet(resource)),
        }
    }

    pub async fn invoke(&self, request: TaskRequest) -> Result<Value, Failure> {
        match &request.resource.target {
            Target::Http => self.http.invoke(request).await,
            _ if lambda::is_lambda_resource(&request.resource) => match &self.lambda {
                Some(l) => l.invoke(request).await,
                None => aws::lambda::invoke(self.aws()?, &request).await,
            },
            Target::Function { .. } => Err(not_configured(&request.resource)),
            Target::Sdk { .. } => aws::sdk::invoke(self.aws()?, &request).await,
            Target::Optimized { .. } => aws::optimized::invoke_task(self.aws()?, request, &self.optimized).await,
            Target::Activity { .. } => Err(Failure::new(RUNTIME, aws_services_not_yet(&request.resource))),
        }
    }
}

impl Integrations {
    fn aws(&self) -> Result<&aws::Aws, Failure> {
        let made = self.aws.get_or_init(|| aws::Aws::new(aws::AwsOptions::default()).map_err(|e| e.to_string()));
        made.as_ref().map_err(|e| Failure::new(shared::asl::error_name::TASK_FAILED, e.clone()))
    }
}

fn not_configured(resource: &Resource) -> Failure {
    Failure::new(RUNTIME, format!("no integration is configured for the Task resource '{resource}'"))
}

/// The one place that says what is not wired in this build: activities (and Lambda function
/// ARNs without a functions file).
fn aws_services_not_yet(resource: &Resource) -> String {
    format!(
        "no integration for the Task resource '{resource}' yet: dmap runs Lambda functions (with `--functions`) and the HTTP Task"
    )
}
