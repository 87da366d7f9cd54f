//! How a failed call of an optimized integration is named. AWS runs these integrations on its
//! Java SDK v1 clients, so their errors read as that SDK's exceptions: `DynamoDB.` (not the
//! `aws-sdk:` prefix `DynamoDb.`), the exception class name as the error, and a Cause in v1's
//! format `"<message> (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: <code>;
//! Request ID: <id>; Proxy: null)"`.
//!
//! Owns: the table from an optimized service to its error prefix and SDK v1 names, and the
//! conversion of an [`ApiError`] into a [`Failure`]. Must not: call anything.

use serde_json::Value;
use shared::asl::Failure;

use super::api::ApiError;

/// One optimized service's names in errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Naming {
    /// Before the dot of every error name (`DynamoDB`).
    pub prefix: &'static str,
    /// The `Service:` label of the Cause (`AmazonDynamoDBv2`).
    pub label: &'static str,
    /// The SDK's generic service exception, for an error that comes without a code
    /// (`AmazonDynamoDBException`).
    pub generic: &'static str,
}

const fn naming(prefix: &'static str, label: &'static str, generic: &'static str) -> Naming {
    Naming { prefix, label, generic }
}

/// The resource's service name (`arn:aws:states:::<service>:…`) → its naming. Prefixes
/// documented by AWS: `EventBridge.FailedEntry`, `ApiGateway.<status>`, `EKS.<status>`,
/// `AmazonECS.Unknown`; observed and reproduced by LocalStack's snapshot-tested provider:
/// `DynamoDB`, `SNS`, `SQS`, `Batch`, `Glue`. The rest follow the same rule (the Java SDK v1
/// client's short name, its service label and generic exception).
const TABLE: &[(&str, Naming)] = &[
    ("dynamodb", naming("DynamoDB", "AmazonDynamoDBv2", "AmazonDynamoDBException")),
    ("sns", naming("SNS", "AmazonSNS", "AmazonSNSException")),
    ("sqs", naming("SQS", "AmazonSQS", "AmazonSQSException")),
    ("events", naming("EventBridge", "AmazonEventBridge", "AmazonEventBridgeException")),
    ("athena", naming("Athena", "AmazonAthena", "AmazonAthenaException")),
    ("glue", naming("Glue", "AWSGlue", "AWSGlueException")),
    ("batch", naming("Batch", "AWSBatch", "AWSBatchException")),
    ("ecs", naming("ECS", "AmazonECS", "AmazonECSException")),
    ("codebuild", naming("CodeBuild", "AWSCodeBuild", "AWSCodeBuildException")),
    ("bedrock", naming("Bedrock", "AmazonBedrock", "AmazonBedrockException")),
    ("apigateway", naming("ApiGateway", "AmazonApiGateway", "AmazonApiGatewayException")),
    ("elasticmapreduce", naming("EMR", "AmazonElasticMapReduce", "AmazonElasticMapReduceException")),
    ("emr-serverless", naming("EMRServerless", "EMRServerless", "AWSEMRServerlessException")),
    ("emr-containers", naming("EMRContainers", "AmazonEMRContainers", "AmazonEMRContainersException")),
    ("sagemaker", naming("SageMaker", "AmazonSageMaker", "AmazonSageMakerException")),
    ("eks", naming("EKS", "AmazonEKS", "AmazonEKSException")),
    ("databrew", naming("DataBrew", "AWSGlueDataBrew", "AWSGlueDataBrewException")),
    ("mediaconvert", naming("MediaConvert", "AWSMediaConvert", "AWSMediaConvertException")),
];

/// The naming of an optimized service, or `None` for a service this module does not serve.
pub fn naming_of(service: &str) -> Option<Naming> {
    TABLE.iter().find(|(name, _)| *name == service).map(|(_, n)| *n)
}

impl Naming {
    /// The failure a Task state sees when a call of this service failed.
    ///
    /// A service error is `<prefix>.<code>`, with `Exception` appended when the code lacks it
    /// (v1 names each error by its exception class: SNS's `NotFound` is `NotFoundException`).
    /// A transport error is v1's `SdkClientException`; missing credentials are
    /// `States.TaskFailed`. Parameters that make no request are [`invalid_parameters`].
    pub fn failure(&self, error: &ApiError, parameters: &Value) -> Failure {
        match error {
            ApiError::Service { status, code, message, request_id } => {
                let class = if code.is_empty() {
                    self.generic.to_owned()
                } else if code.ends_with("Exception") {
                    code.clone()
                } else {
                    format!("{code}Exception")
                };
                let shown_code = if code.is_empty() { "null" } else { code.as_str() };
                let id = request_id.as_deref().unwrap_or("null");
                Failure::new(
                    format!("{}.{class}", self.prefix),
                    format!(
                        "{message} (Service: {}; Status Code: {status}; Error Code: {shown_code}; Request ID: {id}; Proxy: null)",
                        self.label
                    ),
                )
            }
            ApiError::Transport(message) => {
                Failure::new(format!("{}.SdkClientException", self.prefix), message.clone())
            }
            ApiError::InvalidParameters(why) => invalid_parameters(parameters, why),
            ApiError::Credentials(message) => Failure::new("States.TaskFailed", message.clone()),
        }
    }
}

/// Parameters the integration cannot take: `States.Runtime`, worded as Step Functions words it
/// when a Task's parameters do not fit its integration.
pub fn invalid_parameters(parameters: &Value, why: &str) -> Failure {
    Failure::new(
        "States.Runtime",
        format!("The Parameters '{parameters}' could not be used to start the Task: [{why}]"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service_error(code: &str) -> ApiError {
        ApiError::Service {
            status: 400,
            code: code.into(),
            message: "The conditional request failed".into(),
            request_id: Some("R1".into()),
        }
    }

    #[test]
    fn a_service_error_is_named_with_the_v1_prefix_and_cause() {
        let f = naming_of("dynamodb").unwrap().failure(&service_error("ConditionalCheckFailedException"), &Value::Null);
        assert_eq!(f.error.as_deref(), Some("DynamoDB.ConditionalCheckFailedException"));
        assert_eq!(
            f.cause.as_deref(),
            Some(
                "The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400; \
                 Error Code: ConditionalCheckFailedException; Request ID: R1; Proxy: null)"
            )
        );
    }

    #[test]
    fn codes_without_exception_get_the_class_suffix() {
        let f = naming_of("sns").unwrap().failure(&service_error("NotFound"), &Value::Null);
        assert_eq!(f.error.as_deref(), Some("SNS.NotFoundException"));
    }

    #[test]
    fn an_error_without_code_is_the_generic_exception() {
        let f = naming_of("dynamodb").unwrap().failure(&service_error(""), &Value::Null);
        assert_eq!(f.error.as_deref(), Some("DynamoDB.AmazonDynamoDBException"));
    }

    #[test]
    fn transport_and_parameter_errors() {
        let sqs = naming_of("sqs").unwrap();
        let f = sqs.failure(&ApiError::Transport("connection refused".into()), &Value::Null);
        assert_eq!(f.error.as_deref(), Some("SQS.SdkClientException"));
        let f = sqs.failure(&ApiError::Credentials("no credentials in the chain".into()), &Value::Null);
        assert_eq!(f.error.as_deref(), Some("States.TaskFailed"));
        let parameters = serde_json::json!({"QueueUrl": "q", "Foo": 1});
        let f = sqs.failure(&ApiError::InvalidParameters("The field \"Foo\" is not supported".into()), &parameters);
        assert_eq!(f.error.as_deref(), Some("States.Runtime"));
        assert_eq!(
            f.cause.as_deref(),
            Some(
                r#"The Parameters '{"QueueUrl":"q","Foo":1}' could not be used to start the Task: [The field "Foo" is not supported]"#
            )
        );
    }
}
