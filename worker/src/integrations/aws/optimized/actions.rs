//! The optimized integrations dmap serves: for each `arn:aws:states:::<service>:<action>`, the
//! API operation it calls, what Step Functions changes around that call ([`Shape`]), and the
//! `.sync` job that waits for it, if any ([`super::jobs`]).
//!
//! Provenance: the API lists and the documented differences are those of AWS's "Integrating
//! optimized services" pages (`connect-ddb`, `connect-sns`, `connect-sqs`, `connect-eventbridge`,
//! `connect-athena`, `connect-glue`, `connect-batch`, `connect-ecs`, `connect-codebuild`,
//! `connect-bedrock`, `connect-api-gateway`, `connect-emr`, `connect-emr-eks`,
//! `connect-emr-serverless`, `connect-sagemaker`, `connect-eks`, `connect-databrew`,
//! `connect-mediaconvert`). Where a page says "no optimizations", the shape is [`Shape::Api`]:
//! the API's request and output unchanged, as the `aws-sdk:` integration would send them.
//!
//! Owns: the table and its lookup. Must not: call anything, or hold per-action code.

use super::jobs::{self, Job};

/// What Step Functions does around the API call, beyond passing the parameters through.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// The API's request and output, unchanged.
    Api,
    /// These top-level members, when given as JSON rather than a string, are sent as their
    /// JSON text (SNS `Message`, SQS `MessageBody`).
    Stringify(&'static str),
    /// EventBridge `putEvents`: every entry's `Detail` stringified, the execution's and state
    /// machine's ARNs appended to its `Resources`; a non-zero `FailedEntryCount` fails the Task.
    PutEvents,
    /// The request's member is copied into the output (Glue `startJobRun` adds `JobName`).
    EchoRequest(&'static str),
    /// The API answers nothing; Step Functions answers `{"ApplicationId": …}` from the request.
    EchoApplicationId,
    /// EMR's wrapped APIs, which rename members (`ClusterId` for `JobFlowIds`) or look up a
    /// name first (`emr`).
    Emr(super::emr::Wrapped),
    /// API Gateway `invoke`: an HTTP call of the API, not an AWS API operation.
    ApiGatewayInvoke,
    /// Bedrock `invokeModel`: `Body` as JSON, `Input`/`Output` in S3.
    InvokeModel,
    /// EKS `call` and `runJob` talk to the cluster's Kubernetes API.
    Kubernetes,
}

/// One optimized integration.
#[derive(Debug)]
pub struct Action {
    /// The resource's service and action (`dynamodb`, `putItem`).
    pub service: &'static str,
    pub action: &'static str,
    /// The `aws-sdk` service and operation it calls (`dynamodb`, `PutItem`).
    pub api: &'static str,
    pub operation: &'static str,
    pub shape: Shape,
    /// What `.sync` waits for; `None` when the action has no `.sync`.
    pub job: Option<&'static Job>,
}

const fn a(service: &'static str, action: &'static str, api: &'static str, operation: &'static str) -> Action {
    Action { service, action, api, operation, shape: Shape::Api, job: None }
}

const fn shaped(mut action: Action, shape: Shape) -> Action {
    action.shape = shape;
    action
}

const fn sync(mut action: Action, job: &'static Job) -> Action {
    action.job = Some(job);
    action
}

use super::emr::Wrapped as W;

#[rustfmt::skip]
static ACTIONS: &[Action] = &[
    a("dynamodb", "getItem", "dynamodb", "GetItem"),
    a("dynamodb", "putItem", "dynamodb", "PutItem"),
    a("dynamodb", "updateItem", "dynamodb", "UpdateItem"),
    a("dynamodb", "deleteItem", "dynamodb", "DeleteItem"),
    shaped(a("sns", "publish", "sns", "Publish"), Shape::Stringify("Message")),
    shaped(a("sqs", "sendMessage", "sqs", "SendMessage"), Shape::Stringify("MessageBody")),
    shaped(a("events", "putEvents", "eventbridge", "PutEvents"), Shape::PutEvents),
    sync(a("athena", "startQueryExecution", "athena", "StartQueryExecution"), &jobs::ATHENA_QUERY),
    a("athena", "stopQueryExecution", "athena", "StopQueryExecution"),
    a("athena", "getQueryExecution", "athena", "GetQueryExecution"),
    a("athena", "getQueryResults", "athena", "GetQueryResults"),
    sync(shaped(a("glue", "startJobRun", "glue", "StartJobRun"), Shape::EchoRequest("JobName")), &jobs::GLUE_JOB_RUN),
    sync(a("batch", "submitJob", "batch", "SubmitJob"), &jobs::BATCH_JOB),
    sync(a("ecs", "runTask", "ecs", "RunTask"), &jobs::ECS_TASK),
    sync(a("codebuild", "startBuild", "codebuild", "StartBuild"), &jobs::CODEBUILD_BUILD),
    a("codebuild", "stopBuild", "codebuild", "StopBuild"),
    a("codebuild", "batchDeleteBuilds", "codebuild", "BatchDeleteBuilds"),
    a("codebuild", "batchGetReports", "codebuild", "BatchGetReports"),
    sync(a("codebuild", "startBuildBatch", "codebuild", "StartBuildBatch"), &jobs::CODEBUILD_BUILD_BATCH),
    a("codebuild", "stopBuildBatch", "codebuild", "StopBuildBatch"),
    sync(a("codebuild", "retryBuildBatch", "codebuild", "RetryBuildBatch"), &jobs::CODEBUILD_BUILD_BATCH),
    a("codebuild", "deleteBuildBatch", "codebuild", "DeleteBuildBatch"),
    shaped(a("bedrock", "invokeModel", "bedrockruntime", "InvokeModel"), Shape::InvokeModel),
    sync(a("bedrock", "createModelCustomizationJob", "bedrock", "CreateModelCustomizationJob"), &jobs::BEDROCK_CUSTOMIZATION),
    shaped(a("apigateway", "invoke", "apigateway", "invoke"), Shape::ApiGatewayInvoke),
    sync(shaped(a("elasticmapreduce", "createCluster", "emr", "RunJobFlow"), Shape::Emr(W::CreateCluster)), &jobs::EMR_CLUSTER_UP),
    shaped(a("elasticmapreduce", "setClusterTerminationProtection", "emr", "SetTerminationProtection"), Shape::Emr(W::TerminationProtection)),
    sync(shaped(a("elasticmapreduce", "terminateCluster", "emr", "TerminateJobFlows"), Shape::Emr(W::TerminateCluster)), &jobs::EMR_CLUSTER_DOWN),
    sync(shaped(a("elasticmapreduce", "addStep", "emr", "AddJobFlowSteps"), Shape::Emr(W::AddStep)), &jobs::EMR_STEP),
    shaped(a("elasticmapreduce", "cancelStep", "emr", "CancelSteps"), Shape::Emr(W::CancelStep)),
    shaped(a("elasticmapreduce", "modifyInstanceFleetByName", "emr", "ModifyInstanceFleet"), Shape::Emr(W::ModifyInstanceFleetByName)),
    shaped(a("elasticmapreduce", "modifyInstanceGroupByName", "emr", "ModifyInstanceGroups"), Shape::Emr(W::ModifyInstanceGroupByName)),
    a("emr-containers", "createVirtualCluster", "emrcontainers", "CreateVirtualCluster"),
    sync(a("emr-containers", "deleteVirtualCluster", "emrcontainers", "DeleteVirtualCluster"), &jobs::EMR_VIRTUAL_CLUSTER_DOWN),
    sync(a("emr-containers", "startJobRun", "emrcontainers", "StartJobRun"), &jobs::EMR_CONTAINERS_JOB_RUN),
    sync(a("emr-serverless", "createApplication", "emrserverless", "CreateApplication"), &jobs::EMR_SERVERLESS_CREATED),
    sync(shaped(a("emr-serverless", "startApplication", "emrserverless", "StartApplication"), Shape::EchoApplicationId), &jobs::EMR_SERVERLESS_STARTED),
    sync(shaped(a("emr-serverless", "stopApplication", "emrserverless", "StopApplication"), Shape::EchoApplicationId), &jobs::EMR_SERVERLESS_STOPPED),
    sync(shaped(a("emr-serverless", "deleteApplication", "emrserverless", "DeleteApplication"), Shape::EchoApplicationId), &jobs::EMR_SERVERLESS_DELETED),
    sync(a("emr-serverless", "startJobRun", "emrserverless", "StartJobRun"), &jobs::EMR_SERVERLESS_JOB_RUN),
    sync(a("emr-serverless", "cancelJobRun", "emrserverless", "CancelJobRun"), &jobs::EMR_SERVERLESS_JOB_CANCELLED),
    a("sagemaker", "createEndpoint", "sagemaker", "CreateEndpoint"),
    a("sagemaker", "createEndpointConfig", "sagemaker", "CreateEndpointConfig"),
    a("sagemaker", "createModel", "sagemaker", "CreateModel"),
    a("sagemaker", "updateEndpoint", "sagemaker", "UpdateEndpoint"),
    sync(a("sagemaker", "createTrainingJob", "sagemaker", "CreateTrainingJob"), &jobs::SAGEMAKER_TRAINING),
    sync(a("sagemaker", "createTransformJob", "sagemaker", "CreateTransformJob"), &jobs::SAGEMAKER_TRANSFORM),
    sync(a("sagemaker", "createProcessingJob", "sagemaker", "CreateProcessingJob"), &jobs::SAGEMAKER_PROCESSING),
    sync(a("sagemaker", "createHyperParameterTuningJob", "sagemaker", "CreateHyperParameterTuningJob"), &jobs::SAGEMAKER_TUNING),
    sync(a("sagemaker", "createLabelingJob", "sagemaker", "CreateLabelingJob"), &jobs::SAGEMAKER_LABELING),
    sync(a("eks", "createCluster", "eks", "CreateCluster"), &jobs::EKS_CLUSTER_UP),
    sync(a("eks", "deleteCluster", "eks", "DeleteCluster"), &jobs::EKS_CLUSTER_DOWN),
    sync(a("eks", "createNodegroup", "eks", "CreateNodegroup"), &jobs::EKS_NODEGROUP_UP),
    sync(a("eks", "deleteNodegroup", "eks", "DeleteNodegroup"), &jobs::EKS_NODEGROUP_DOWN),
    sync(a("eks", "createFargateProfile", "eks", "CreateFargateProfile"), &jobs::EKS_FARGATE_UP),
    sync(a("eks", "deleteFargateProfile", "eks", "DeleteFargateProfile"), &jobs::EKS_FARGATE_DOWN),
    shaped(a("eks", "call", "eks", "call"), Shape::Kubernetes),
    shaped(a("eks", "runJob", "eks", "runJob"), Shape::Kubernetes),
    sync(a("databrew", "startJobRun", "databrew", "StartJobRun"), &jobs::DATABREW_JOB_RUN),
    sync(a("mediaconvert", "createJob", "mediaconvert", "CreateJob"), &jobs::MEDIACONVERT_JOB),
];

/// The optimized integration `service:action`, or `None` when dmap does not serve it here
/// (Lambda and Step Functions are served elsewhere).
pub fn find(service: &str, action: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.service == service && a.action == action)
}

/// Every optimized integration served here, for validation and documentation.
pub fn all() -> &'static [Action] {
    ACTIONS
}

/// Services whose Task results carry the Java SDK v1 response metadata (`SdkHttpMetadata`,
/// `SdkResponseMetadata`). Seen in AWS's results of DynamoDB, SNS and SQS, and in the results
/// LocalStack recorded against AWS for EventBridge `putEvents` and ECS `runTask`; Batch, Glue
/// and Athena name their errors as v1 clients do, so their results are taken to carry it too.
/// The wrapped and newer integrations (EMR, EMR Serverless, API Gateway, Bedrock) build their
/// results themselves, and the others are undocumented: none.
pub fn adds_sdk_metadata(service: &str) -> bool {
    matches!(service, "dynamodb" | "sns" | "sqs" | "events" | "ecs" | "batch" | "glue" | "athena")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_unique_and_named_by_its_api() {
        for (i, x) in ACTIONS.iter().enumerate() {
            assert!(
                ACTIONS[i + 1..].iter().all(|y| (y.service, y.action) != (x.service, x.action)),
                "{}:{} twice",
                x.service,
                x.action
            );
            assert!(super::super::errors::naming_of(x.service).is_some(), "{} has no error naming", x.service);
        }
    }

    #[test]
    fn pass_through_actions_call_the_operation_of_the_same_name() {
        for x in ACTIONS.iter().filter(|x| x.shape == Shape::Api) {
            let mut chars = x.action.chars();
            let first = chars.next().unwrap().to_ascii_uppercase();
            assert_eq!(format!("{first}{}", chars.as_str()), x.operation, "{}:{}", x.service, x.action);
        }
    }

    /// The resources validation accepts (shared's table, from AWS's pages) are the ones served
    /// here, with `.sync` exactly where a job row exists; Lambda and nested executions are
    /// served elsewhere.
    #[test]
    fn the_validated_table_and_this_one_agree() {
        use shared::asl::resource::Pattern as P;
        use shared::asl::resource::Service;
        let mut validated = 0;
        for service in Service::names().filter_map(Service::from_name) {
            if matches!(service.name(), "lambda" | "states") {
                continue;
            }
            for (action, patterns) in service.actions() {
                validated += 1;
                let served = find(service.name(), action);
                let served = served.unwrap_or_else(|| panic!("{}:{action} is accepted but not served", service.name()));
                // eks:runJob's .sync waits on the Kubernetes API, which is refused at run.
                if served.shape != Shape::Kubernetes {
                    assert_eq!(patterns.contains(P::Sync), served.job.is_some(), "{}:{action} .sync", service.name());
                }
            }
        }
        assert_eq!(validated, ACTIONS.len(), "every action served here is accepted by validation");
    }
}
