//! The optimized integrations (`arn:aws:states:::SERVICE:ACTION`): which services exist, which
//! actions each offers and which integration patterns each action supports.
//!
//! Provenance: AWS Step Functions Developer Guide, "Integrating optimized services with Step
//! Functions" (the service × pattern table, `integrate-optimized.html`) and each service's own
//! page (`connect-<service>.html`: the API list and, per API, whether `.sync` exists). Where the
//! service table allows `.waitForTaskToken` but a service page does not say per API, every API of
//! that service allows it. Owns nothing but this table; the HTTP Task (`http:invoke`) is not an
//! optimized integration here but a target of its own.

use super::Pattern;

/// A service with optimized integrations, by the name AWS gives it in the Resource ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    ApiGateway,
    Athena,
    Batch,
    Bedrock,
    CodeBuild,
    DataBrew,
    DynamoDb,
    Ecs,
    Eks,
    ElasticMapReduce,
    EmrContainers,
    EmrServerless,
    Events,
    Glue,
    Lambda,
    MediaConvert,
    SageMaker,
    Sns,
    Sqs,
    States,
}

/// Every service, with its ARN name.
const NAMES: &[(Service, &str)] = &[
    (Service::ApiGateway, "apigateway"),
    (Service::Athena, "athena"),
    (Service::Batch, "batch"),
    (Service::Bedrock, "bedrock"),
    (Service::CodeBuild, "codebuild"),
    (Service::DataBrew, "databrew"),
    (Service::DynamoDb, "dynamodb"),
    (Service::Ecs, "ecs"),
    (Service::Eks, "eks"),
    (Service::ElasticMapReduce, "elasticmapreduce"),
    (Service::EmrContainers, "emr-containers"),
    (Service::EmrServerless, "emr-serverless"),
    (Service::Events, "events"),
    (Service::Glue, "glue"),
    (Service::Lambda, "lambda"),
    (Service::MediaConvert, "mediaconvert"),
    (Service::SageMaker, "sagemaker"),
    (Service::Sns, "sns"),
    (Service::Sqs, "sqs"),
    (Service::States, "states"),
];

impl Service {
    /// The service named so in a Resource ARN.
    pub fn from_name(name: &str) -> Option<Service> {
        NAMES.iter().find(|(_, n)| *n == name).map(|(s, _)| *s)
    }

    /// The name in a Resource ARN (`elasticmapreduce`, `emr-serverless`, ...).
    pub fn name(self) -> &'static str {
        NAMES.iter().find(|(s, _)| *s == self).map_or("", |(_, n)| n)
    }

    /// Every ARN name, for suggestions.
    pub fn names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(_, n)| *n)
    }

    /// The actions of this service, each with the patterns it supports.
    pub fn actions(self) -> impl Iterator<Item = (&'static str, Patterns)> {
        TABLE.iter().filter(move |(s, _, _)| *s == self).map(|(_, a, p)| (*a, *p))
    }

    /// The patterns `action` supports, or `None` when the service has no such action.
    pub fn action(self, action: &str) -> Option<Patterns> {
        self.actions().find(|(a, _)| *a == action).map(|(_, p)| p)
    }
}

/// A set of integration patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patterns(u8);

impl Patterns {
    pub fn contains(self, p: Pattern) -> bool {
        self.0 & bit(p) != 0
    }

    /// The suffixes written for these patterns, for messages: `(none)`, `.sync`, ...
    pub fn describe(self) -> String {
        let all = [Pattern::RequestResponse, Pattern::Sync, Pattern::Sync2, Pattern::WaitForTaskToken];
        let names: Vec<&str> = all.into_iter().filter(|p| self.contains(*p)).map(Pattern::describe).collect();
        names.join(", ")
    }
}

impl Patterns {
    pub const REQUEST_RESPONSE: Patterns = RR;
    /// AWS SDK integrations: request-response and callbacks; "Run a Job (.sync): Not supported".
    pub const SDK: Patterns = RR_WAIT;
}

const fn bit(p: Pattern) -> u8 {
    match p {
        Pattern::RequestResponse => 1,
        Pattern::Sync => 2,
        Pattern::Sync2 => 4,
        Pattern::WaitForTaskToken => 8,
    }
}

const RR: Patterns = Patterns(1);
const RR_SYNC: Patterns = Patterns(1 | 2);
const RR_WAIT: Patterns = Patterns(1 | 8);
const RR_SYNC_WAIT: Patterns = Patterns(1 | 2 | 8);
const ALL: Patterns = Patterns(1 | 2 | 4 | 8);

use Service::*;

/// Service × action × patterns. Actions are written as in the Resource ARN (lowerCamel).
const TABLE: &[(Service, &str, Patterns)] = &[
    // connect-api-gateway: invoke; callback allowed.
    (ApiGateway, "invoke", RR_WAIT),
    // connect-athena: only startQueryExecution runs as a job.
    (Athena, "startQueryExecution", RR_SYNC),
    (Athena, "stopQueryExecution", RR),
    (Athena, "getQueryExecution", RR),
    (Athena, "getQueryResults", RR),
    // connect-batch
    (Batch, "submitJob", RR_SYNC),
    // connect-bedrock: the service table allows callbacks; customization jobs also run as jobs.
    (Bedrock, "invokeModel", RR_WAIT),
    (Bedrock, "createModelCustomizationJob", RR_SYNC_WAIT),
    // connect-codebuild: the per-API table.
    (CodeBuild, "startBuild", RR_SYNC),
    (CodeBuild, "stopBuild", RR),
    (CodeBuild, "batchDeleteBuilds", RR),
    (CodeBuild, "batchGetReports", RR),
    (CodeBuild, "startBuildBatch", RR_SYNC),
    (CodeBuild, "stopBuildBatch", RR),
    (CodeBuild, "retryBuildBatch", RR_SYNC),
    (CodeBuild, "deleteBuildBatch", RR),
    // connect-databrew
    (DataBrew, "startJobRun", RR_SYNC),
    // connect-ddb: "The Wait for a Callback with the Task Token integration pattern is not supported."
    (DynamoDb, "getItem", RR),
    (DynamoDb, "putItem", RR),
    (DynamoDb, "updateItem", RR),
    (DynamoDb, "deleteItem", RR),
    // connect-ecs: runTask in every pattern but .sync:2.
    (Ecs, "runTask", RR_SYNC_WAIT),
    // connect-eks
    (Eks, "runJob", RR_SYNC_WAIT),
    (Eks, "call", RR),
    (Eks, "createCluster", RR_SYNC),
    (Eks, "deleteCluster", RR_SYNC),
    (Eks, "createFargateProfile", RR_SYNC),
    (Eks, "deleteFargateProfile", RR_SYNC),
    (Eks, "createNodegroup", RR_SYNC),
    (Eks, "deleteNodegroup", RR_SYNC),
    // connect-emr: AWS's own wrapped APIs.
    (ElasticMapReduce, "createCluster", RR_SYNC),
    (ElasticMapReduce, "setClusterTerminationProtection", RR),
    (ElasticMapReduce, "terminateCluster", RR_SYNC),
    (ElasticMapReduce, "addStep", RR_SYNC),
    (ElasticMapReduce, "cancelStep", RR),
    (ElasticMapReduce, "modifyInstanceFleetByName", RR),
    (ElasticMapReduce, "modifyInstanceGroupByName", RR),
    // connect-emr-eks
    (EmrContainers, "createVirtualCluster", RR),
    (EmrContainers, "deleteVirtualCluster", RR_SYNC),
    (EmrContainers, "startJobRun", RR_SYNC),
    // connect-emr-serverless: six APIs, each also as a job; no callback.
    (EmrServerless, "createApplication", RR_SYNC),
    (EmrServerless, "startApplication", RR_SYNC),
    (EmrServerless, "stopApplication", RR_SYNC),
    (EmrServerless, "deleteApplication", RR_SYNC),
    (EmrServerless, "startJobRun", RR_SYNC),
    (EmrServerless, "cancelJobRun", RR_SYNC),
    // connect-eventbridge
    (Events, "putEvents", RR_WAIT),
    // connect-glue
    (Glue, "startJobRun", RR_SYNC),
    // connect-lambda
    (Lambda, "invoke", RR_WAIT),
    // connect-mediaconvert
    (MediaConvert, "createJob", RR_SYNC),
    // connect-sagemaker: jobs run as jobs; no callback.
    (SageMaker, "createEndpoint", RR),
    (SageMaker, "createEndpointConfig", RR),
    (SageMaker, "createHyperParameterTuningJob", RR_SYNC),
    (SageMaker, "createLabelingJob", RR_SYNC),
    (SageMaker, "createModel", RR),
    (SageMaker, "createProcessingJob", RR_SYNC),
    (SageMaker, "createTrainingJob", RR_SYNC),
    (SageMaker, "createTransformJob", RR_SYNC),
    (SageMaker, "updateEndpoint", RR),
    // connect-sns, connect-sqs
    (Sns, "publish", RR_WAIT),
    (Sqs, "sendMessage", RR_WAIT),
    // connect-stepfunctions: .sync returns Output as a string, .sync:2 as JSON.
    (States, "startExecution", ALL),
];
