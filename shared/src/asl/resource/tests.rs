//! Resource ARNs → target and pattern, or the diagnostic code AWS's refusal maps to. Expected
//! values come from AWS's integration pages (see `optimized.rs`) and the SDK table's naming.

use super::*;
use crate::asl::diagnostic::code;

fn ok(arn: &str) -> (Target, Pattern) {
    match Resource::parse(arn) {
        Ok(r) => {
            assert_eq!(r.arn, arn);
            (r.target, r.pattern)
        }
        Err(e) => panic!("{arn}: refused: {e}"),
    }
}

fn function(name: &str) -> Target {
    Target::Function { name: name.into() }
}

fn opt(service: Service, action: &str) -> Target {
    Target::Optimized { service, action: action.into() }
}

fn sdk(service: &'static str, action: &str) -> Target {
    Target::Sdk { service, action: action.into() }
}

use Pattern::*;

#[test]
fn valid_resources() {
    let cases: Vec<(&str, Target, Pattern)> = vec![
        ("arn:aws:lambda:us-east-1:123456789012:function:f", function("f"), RequestResponse),
        ("arn:aws:lambda:us-east-1:123456789012:function:f:live", function("f"), RequestResponse),
        ("arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST", function("f"), RequestResponse),
        ("arn:aws-cn:lambda:cn-north-1:123456789012:function:my-fn_2:7", function("my-fn_2"), RequestResponse),
        // What dmap accepted before typing: region and account are not checked.
        ("arn:aws:lambda:::function:f", function("f"), RequestResponse),
        ("arn:aws:states:::http:invoke", Target::Http, RequestResponse),
        ("arn:aws:states:::lambda:invoke", opt(Service::Lambda, "invoke"), RequestResponse),
        ("arn:aws:states:::lambda:invoke.waitForTaskToken", opt(Service::Lambda, "invoke"), WaitForTaskToken),
        ("arn:aws:states:::dynamodb:putItem", opt(Service::DynamoDb, "putItem"), RequestResponse),
        ("arn:aws-us-gov:states:::sns:publish", opt(Service::Sns, "publish"), RequestResponse),
        ("arn:aws-cn:states:::sqs:sendMessage.waitForTaskToken", opt(Service::Sqs, "sendMessage"), WaitForTaskToken),
        ("arn:aws:states:::events:putEvents", opt(Service::Events, "putEvents"), RequestResponse),
        ("arn:aws:states:::athena:startQueryExecution.sync", opt(Service::Athena, "startQueryExecution"), Sync),
        ("arn:aws:states:::glue:startJobRun.sync", opt(Service::Glue, "startJobRun"), Sync),
        ("arn:aws:states:::batch:submitJob.sync", opt(Service::Batch, "submitJob"), Sync),
        ("arn:aws:states:::ecs:runTask.sync", opt(Service::Ecs, "runTask"), Sync),
        ("arn:aws:states:::ecs:runTask.waitForTaskToken", opt(Service::Ecs, "runTask"), WaitForTaskToken),
        ("arn:aws:states:::codebuild:startBuild.sync", opt(Service::CodeBuild, "startBuild"), Sync),
        ("arn:aws:states:::bedrock:invokeModel", opt(Service::Bedrock, "invokeModel"), RequestResponse),
        ("arn:aws:states:::apigateway:invoke", opt(Service::ApiGateway, "invoke"), RequestResponse),
        ("arn:aws:states:::elasticmapreduce:addStep.sync", opt(Service::ElasticMapReduce, "addStep"), Sync),
        ("arn:aws:states:::emr-serverless:startJobRun.sync", opt(Service::EmrServerless, "startJobRun"), Sync),
        ("arn:aws:states:::emr-containers:startJobRun", opt(Service::EmrContainers, "startJobRun"), RequestResponse),
        ("arn:aws:states:::sagemaker:createTrainingJob.sync", opt(Service::SageMaker, "createTrainingJob"), Sync),
        ("arn:aws:states:::eks:runJob.sync", opt(Service::Eks, "runJob"), Sync),
        ("arn:aws:states:::states:startExecution", opt(Service::States, "startExecution"), RequestResponse),
        ("arn:aws:states:::states:startExecution.sync", opt(Service::States, "startExecution"), Sync),
        ("arn:aws:states:::states:startExecution.sync:2", opt(Service::States, "startExecution"), Sync2),
        ("arn:aws:states:::aws-sdk:s3:getObject", sdk("s3", "getObject"), RequestResponse),
        // Published samples write `${AWS::Region}:${AWS::AccountId}` into integration ARNs, and
        // AWS deploys them.
        ("arn:aws:states:us-east-1:123456789012:aws-sdk:s3:getObject", sdk("s3", "getObject"), RequestResponse),
        ("arn:aws:states:eu-west-1:123456789012:sns:publish", opt(Service::Sns, "publish"), RequestResponse),
        ("arn:aws:states:::aws-sdk:dynamodb:query", sdk("dynamodb", "query"), RequestResponse),
        ("arn:aws:states:::aws-sdk:sfn:startSyncExecution", sdk("sfn", "startSyncExecution"), RequestResponse),
        ("arn:aws:states:::aws-sdk:ec2:describeInstances", sdk("ec2", "describeInstances"), RequestResponse),
        (
            "arn:aws:states:::aws-sdk:cloudwatchlogs:putLogEvents",
            sdk("cloudwatchlogs", "putLogEvents"),
            RequestResponse,
        ),
        ("arn:aws:states:::aws-sdk:sqs:sendMessage.waitForTaskToken", sdk("sqs", "sendMessage"), WaitForTaskToken),
        // AWS's table names Database Migration Service `databasemigration` (serviceId "Database
        // Migration Service").
        (
            "arn:aws:states:::aws-sdk:databasemigration:describeReplicationTasks",
            sdk("databasemigrationservice", "describeReplicationTasks"),
            RequestResponse,
        ),
        (
            "arn:aws:states:us-east-1:123456789012:activity:my-activity",
            Target::Activity { name: "my-activity".into() },
            WaitForTaskToken,
        ),
    ];
    for (arn, target, pattern) in cases {
        assert_eq!(ok(arn), (target, pattern), "{arn}");
    }
}

#[test]
fn invalid_resources() {
    let (malformed, unknown, pattern, protocol) =
        (code::INVALID_RESOURCE, code::UNKNOWN_INTEGRATION, code::UNSUPPORTED_PATTERN, code::PROTOCOL_NOT_SUPPORTED);
    let cases = [
        ("my-function", malformed),
        ("arn:aws:lambda:us-east-1:123456789012:layer:f", malformed),
        ("arn:aws:lambda:us-east-1:123456789012:function:f:a:b", malformed),
        ("arn:aws:states:::lambda", malformed),
        ("arn:aws:states:::aws-sdk:s3", malformed),
        ("arn:aws:states:us-east-1:123456789012:activity:", malformed),
        ("arn:aws:states:::activity:x", malformed),
        ("arn:aws:states:us-east-1:123456789012:stateMachine:sm", unknown),
        ("arn:aws:sqs:us-east-1:123456789012:queue", malformed),
        ("arn:azure:states:::sns:publish", malformed),
        ("arn:aws:states:::nosuchservice:doThing", unknown),
        ("arn:aws:states:::dynamodb:scan", unknown),
        ("arn:aws:states:::dynamodb:PutItem", unknown),
        ("arn:aws:states:::sns:publish.later", unknown),
        ("arn:aws:states:::aws-sdk:nosuchservice:doThing", unknown),
        ("arn:aws:states:::aws-sdk:s3:GetObject", unknown),
        ("arn:aws:states:::aws-sdk:s3:getObjects", unknown),
        ("arn:aws:states:::aws-sdk:s3:selectObjectContent", unknown),
        ("arn:aws:states:::aws-sdk:lambda:invokeAsync", unknown),
        ("arn:aws:states:::dynamodb:putItem.sync", pattern),
        ("arn:aws:states:::dynamodb:getItem.waitForTaskToken", pattern),
        ("arn:aws:states:::sns:publish.sync", pattern),
        ("arn:aws:states:::glue:startJobRun.waitForTaskToken", pattern),
        ("arn:aws:states:::batch:submitJob.sync:2", pattern),
        ("arn:aws:states:::http:invoke.sync", pattern),
        ("arn:aws:states:::aws-sdk:s3:getObject.sync", pattern),
        ("arn:aws:states:::aws-sdk:eventbridgev2:createEventBus", protocol),
    ];
    for (arn, expected) in cases {
        match Resource::parse(arn) {
            Ok(r) => panic!("{arn}: accepted as {r:?}"),
            Err(e) => assert_eq!(e.code(), expected, "{arn}: {e}"),
        }
    }
}

#[test]
fn near_misses_name_the_closest_valid_name() {
    let message = |arn: &str| Resource::parse(arn).expect_err(arn).to_string();
    assert!(message("arn:aws:states:::dynamodb:PutItem").contains("'putItem'"));
    assert!(message("arn:aws:states:::dynamdb:putItem").contains("'dynamodb'"));
    assert!(message("arn:aws:states:::aws-sdk:s3:GetObject").contains("'getObject'"));
    assert!(message("arn:aws:states:::aws-sdk:dynamodbb:query").contains("'dynamodb'"));
    assert!(message("arn:aws:states:::sns:publish.sync").contains(".waitForTaskToken"));
}

#[test]
fn the_catalogue_holds_every_service_with_its_prefix_and_protocol() {
    let s3 = sdk::service("s3").expect("s3");
    assert_eq!((s3.error_prefix, s3.protocol), ("S3", sdk::Protocol::RestXml));
    let ddb = sdk::service("dynamodb").expect("dynamodb");
    assert_eq!((ddb.error_prefix, ddb.protocol), ("DynamoDb", sdk::Protocol::Json));
    assert!(ddb.has_action("putItem") && !ddb.has_action("PutItem"));
    assert_eq!(sdk::service("sns").map(|s| s.protocol), Some(sdk::Protocol::Query));
    assert_eq!(sdk::service("ec2").map(|s| s.protocol), Some(sdk::Protocol::Ec2));
    assert_eq!(sdk::service("directory").map(|s| s.name), Some("directoryservice"));
    assert!(sdk::service("nosuchservice").is_none());
}
