//! Request and result shapes of the request-response integrations, and their error names.

use serde_json::{Value, json};

use super::super::{ApiError, ApiOutput, HttpResponse, Pattern};
use super::{EXECUTION, Fake, error_of, run};

use Pattern::RequestResponse as RR;

#[tokio::test]
async fn dynamodb_put_item_passes_the_api_request_and_adds_the_sdk_metadata() {
    let answer = ApiOutput {
        output: json!({}),
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/x-amz-json-1.0".into()),
            ("x-amzn-RequestId".into(), "RID".into()),
        ],
        request_id: Some("RID".into()),
    };
    let fake = Fake::new().answer_with("dynamodb:PutItem", Ok(answer));
    let input = json!({"TableName": "Orders", "Item": {"Id": {"S": "o-1"}, "Total": {"N": "12"}}});
    let result = run(&fake, "dynamodb:putItem", RR, input.clone()).await.unwrap();
    assert_eq!(fake.inputs("dynamodb:PutItem"), vec![input]);
    assert_eq!(
        result,
        json!({
            "SdkHttpMetadata": {
                "AllHttpHeaders": {"Content-Type": ["application/x-amz-json-1.0"], "x-amzn-RequestId": ["RID"]},
                "HttpHeaders": {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "RID"},
                "HttpStatusCode": 200
            },
            "SdkResponseMetadata": {"RequestId": "RID"}
        })
    );
}

#[tokio::test]
async fn dynamodb_get_item_returns_the_item_as_the_api_does() {
    let item = json!({"Item": {"MessageId": {"S": "m-1"}, "Body": {"S": "hello"}}});
    let fake = Fake::new().answer("dynamodb:GetItem", item);
    let input = json!({"TableName": "Messages", "Key": {"MessageId": {"S": "m-1"}}});
    let result = run(&fake, "dynamodb:getItem", RR, input.clone()).await.unwrap();
    assert_eq!(fake.inputs("dynamodb:GetItem"), vec![input]);
    assert_eq!(result["Item"], json!({"MessageId": {"S": "m-1"}, "Body": {"S": "hello"}}));
    assert_eq!(result["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
}

#[tokio::test]
async fn errors_carry_the_optimized_prefix_and_v1_cause() {
    let failed = ApiError::Service {
        service: "DynamoDb".into(),
        status: 400,
        code: "ConditionalCheckFailedException".into(),
        message: "The conditional request failed".into(),
        request_id: Some("ABC".into()),
    };
    let fake = Fake::new().answer_with("dynamodb:UpdateItem", Err(failed));
    let input = json!({"TableName": "T", "Key": {"Id": {"S": "1"}}, "UpdateExpression": "SET a = :a"});
    let (error, cause) = error_of(run(&fake, "dynamodb:updateItem", RR, input).await);
    assert_eq!(error, "DynamoDB.ConditionalCheckFailedException");
    assert_eq!(
        cause.as_deref(),
        Some(
            "The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400; \
             Error Code: ConditionalCheckFailedException; Request ID: ABC; Proxy: null)"
        )
    );

    let missing = ApiError::Service {
        service: "Sns".into(),
        status: 404,
        code: "NotFound".into(),
        message: "Topic does not exist".into(),
        request_id: None,
    };
    let fake = Fake::new().answer_with("sns:Publish", Err(missing));
    let (error, _) = error_of(run(&fake, "sns:publish", RR, json!({"TopicArn": "t", "Message": "m"})).await);
    assert_eq!(error, "SNS.NotFoundException");
}

#[tokio::test]
async fn sns_and_sqs_send_json_messages_as_text() {
    let fake = Fake::new()
        .answer("sns:Publish", json!({"MessageId": "sns-1"}))
        .answer("sqs:SendMessage", json!({"MD5OfMessageBody": "d41d", "MessageId": "sqs-1"}));
    let published = run(&fake, "sns:publish", RR, json!({"TopicArn": "arn:t", "Message": {"order": 7}})).await.unwrap();
    let sent =
        run(&fake, "sqs:sendMessage", RR, json!({"QueueUrl": "q", "MessageBody": {"Input": [1, 2]}})).await.unwrap();
    assert_eq!(fake.inputs("sns:Publish"), vec![json!({"TopicArn": "arn:t", "Message": "{\"order\":7}"})]);
    assert_eq!(fake.inputs("sqs:SendMessage"), vec![json!({"QueueUrl": "q", "MessageBody": "{\"Input\":[1,2]}"})]);
    assert_eq!(published["MessageId"], json!("sns-1"));
    assert_eq!(sent["MessageId"], json!("sqs-1"));
    assert_eq!(sent["MD5OfMessageBody"], json!("d41d"));
}

/// `.waitForTaskToken` makes the request-response call (AWS: "Wait for a Callback with Task
/// Token" — the integration's call carries the token, then the Task pauses): one call, with
/// the same request as request-response, for every service AWS lists with the pattern.
#[tokio::test]
async fn wait_for_task_token_makes_the_request_response_call() {
    let fake = Fake::new()
        .answer("sqs:SendMessage", json!({"MessageId": "sqs-1"}))
        .answer("sns:Publish", json!({"MessageId": "sns-1"}))
        .answer("eventbridge:PutEvents", json!({"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]}));
    let wait = Pattern::WaitForTaskToken;
    let sent = run(&fake, "sqs:sendMessage", wait, json!({"QueueUrl": "q", "MessageBody": {"t": "tok"}})).await;
    assert_eq!(sent.unwrap()["MessageId"], json!("sqs-1"));
    run(&fake, "sns:publish", wait, json!({"TopicArn": "arn:t", "Message": "m"})).await.unwrap();
    let entries = json!({"Entries": [{"Detail": {"t": "tok"}, "DetailType": "d", "Source": "s"}]});
    run(&fake, "events:putEvents", wait, entries).await.unwrap();
    assert_eq!(fake.inputs("sqs:SendMessage"), vec![json!({"QueueUrl": "q", "MessageBody": "{\"t\":\"tok\"}"})]);
    assert_eq!(fake.calls().len(), 3);
    for (service, action) in [("sqs", "sendMessage"), ("sns", "publish"), ("events", "putEvents"), ("ecs", "runTask")] {
        assert_eq!(super::super::refusal(service, action, wait), None, "{service}:{action}");
    }
}

#[tokio::test]
async fn put_events_reshapes_entries_and_fails_on_a_failed_entry() {
    let fake = Fake::new()
        .answer("eventbridge:PutEvents", json!({"Entries": [{"EventId": "e-1"}], "FailedEntryCount": 0}))
        .answer(
            "eventbridge:PutEvents",
            json!({"Entries": [{"ErrorCode": "Throttled", "ErrorMessage": "slow down"}], "FailedEntryCount": 1}),
        );
    let input =
        json!({"Entries": [{"Detail": {"Message": "MyMessage"}, "DetailType": "MyDetailType", "Source": "my.source"}]});
    let result = run(&fake, "events:putEvents", RR, input.clone()).await.unwrap();
    assert_eq!(result["Entries"], json!([{"EventId": "e-1"}]));
    assert_eq!(result["FailedEntryCount"], json!(0));
    let sent = &fake.inputs("eventbridge:PutEvents")[0];
    assert_eq!(sent["Entries"][0]["Detail"], json!("{\"Message\":\"MyMessage\"}"));
    assert_eq!(
        sent["Entries"][0]["Resources"],
        json!([EXECUTION, "arn:aws:states:us-east-1:123456789012:stateMachine:Orders"])
    );
    let (error, cause) = error_of(run(&fake, "events:putEvents", RR, input).await);
    assert_eq!(error, "EventBridge.FailedEntry");
    let cause: Value = serde_json::from_str(&cause.unwrap()).unwrap();
    assert_eq!(cause, json!([{"ErrorCode": "Throttled", "ErrorMessage": "slow down"}]));
}

#[tokio::test]
async fn glue_start_job_run_answers_the_job_name_too() {
    let fake = Fake::new().answer("glue:StartJobRun", json!({"JobRunId": "jr_1"}));
    let result =
        run(&fake, "glue:startJobRun", RR, json!({"JobName": "etl", "Arguments": {"--day": "1"}})).await.unwrap();
    assert_eq!(result["JobName"], json!("etl"));
    assert_eq!(result["JobRunId"], json!("jr_1"));
}

#[tokio::test]
async fn pass_through_actions_return_the_api_output() {
    let fake = Fake::new().answer("sagemaker:CreateModel", json!({"ModelArn": "arn:m"}));
    let input = json!({"ModelName": "m", "ExecutionRoleArn": "arn:r", "PrimaryContainer": {"Image": "i"}});
    let result = run(&fake, "sagemaker:createModel", RR, input.clone()).await.unwrap();
    assert_eq!(result, json!({"ModelArn": "arn:m"}));
    assert_eq!(fake.inputs("sagemaker:CreateModel"), vec![input]);

    let fake = Fake::new().answer("athena:StartQueryExecution", json!({"QueryExecutionId": "q-1"}));
    let input = json!({"QueryString": "SELECT 1", "WorkGroup": "primary"});
    let result = run(&fake, "athena:startQueryExecution", RR, input.clone()).await.unwrap();
    assert_eq!(result["QueryExecutionId"], json!("q-1"));
    assert_eq!(result["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
    assert_eq!(fake.inputs("athena:StartQueryExecution"), vec![input]);
}

#[tokio::test]
async fn ecs_run_task_request_response_returns_failures_without_failing() {
    let answer = json!({"Tasks": [], "Failures": [{"Arn": "arn:ci", "Reason": "RESOURCE:MEMORY"}]});
    let fake = Fake::new().answer("ecs:RunTask", answer.clone());
    let input = json!({"Cluster": "c", "TaskDefinition": "td"});
    let result = run(&fake, "ecs:runTask", RR, input.clone()).await.unwrap();
    assert_eq!(result["Failures"], answer["Failures"]);
    assert_eq!(result["Tasks"], json!([]));
    assert_eq!(fake.inputs("ecs:RunTask"), vec![input], "only .sync tags the task as started by Step Functions");
}

#[tokio::test]
async fn emr_wrapped_apis_rename_members() {
    let fake = Fake::new()
        .answer("emr:RunJobFlow", json!({"JobFlowId": "j-1", "ClusterArn": "arn:c"}))
        .answer("emr:AddJobFlowSteps", json!({"StepIds": ["s-1"]}))
        .answer("emr:TerminateJobFlows", json!({}))
        .answer("emr:CancelSteps", json!({"CancelStepsInfoList": [{"StepId": "s-1", "Status": "SUBMITTED"}]}));
    let created =
        run(&fake, "elasticmapreduce:createCluster", RR, json!({"Name": "c", "ReleaseLabel": "emr-7.0.0"})).await;
    assert_eq!(created.unwrap(), json!({"ClusterId": "j-1", "ClusterArn": "arn:c"}));
    let step = json!({"Name": "s", "HadoopJarStep": {"Jar": "command-runner.jar"}});
    let added = run(&fake, "elasticmapreduce:addStep", RR, json!({"ClusterId": "j-1", "Step": step})).await;
    assert_eq!(added.unwrap(), json!({"StepId": "s-1"}));
    assert_eq!(fake.inputs("emr:AddJobFlowSteps"), vec![json!({"JobFlowId": "j-1", "Steps": [step]})]);
    run(&fake, "elasticmapreduce:terminateCluster", RR, json!({"ClusterId": "j-1"})).await.unwrap();
    assert_eq!(fake.inputs("emr:TerminateJobFlows"), vec![json!({"JobFlowIds": ["j-1"]})]);
    let cancelled = run(&fake, "elasticmapreduce:cancelStep", RR, json!({"ClusterId": "j-1", "StepId": "s-1"})).await;
    assert_eq!(cancelled.unwrap(), json!({"CancelStepsInfo": {"StepId": "s-1", "Status": "SUBMITTED"}}));
    assert_eq!(fake.inputs("emr:CancelSteps"), vec![json!({"ClusterId": "j-1", "StepIds": ["s-1"]})]);
}

#[tokio::test]
async fn emr_modify_instance_group_by_name_looks_the_group_up() {
    let groups = json!({"InstanceGroups": [{"Id": "ig-A", "Name": "Master"}, {"Id": "ig-B", "Name": "Core"}]});
    let fake = Fake::new().answer("emr:ListInstanceGroups", groups).answer("emr:ModifyInstanceGroups", json!({}));
    let input = json!({"ClusterId": "j-1", "InstanceGroupName": "Core", "InstanceGroup": {"InstanceCount": 4}});
    run(&fake, "elasticmapreduce:modifyInstanceGroupByName", RR, input).await.unwrap();
    assert_eq!(fake.inputs("emr:ListInstanceGroups"), vec![json!({"ClusterId": "j-1"})]);
    assert_eq!(
        fake.inputs("emr:ModifyInstanceGroups"),
        vec![json!({"ClusterId": "j-1", "InstanceGroups": [{"InstanceGroupId": "ig-B", "InstanceCount": 4}]})]
    );
}

#[tokio::test]
async fn emr_serverless_start_application_answers_the_application_id() {
    let fake = Fake::new().answer("emrserverless:StartApplication", json!({}));
    let result = run(&fake, "emr-serverless:startApplication", RR, json!({"ApplicationId": "app-1"})).await;
    assert_eq!(result.unwrap(), json!({"ApplicationId": "app-1"}));
}

fn http(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect(),
        body: body.as_bytes().to_vec(),
    }
}

#[tokio::test]
async fn api_gateway_invoke_builds_the_url_and_returns_the_documented_shape() {
    let fake = Fake::new().http_answer(http(200, &[("key", "value1"), ("key", "value2")], "{\"myBills\":[]}"));
    let input = json!({
        "ApiEndpoint": "abc123.execute-api.us-east-1.amazonaws.com",
        "Method": "GET",
        "Stage": "prod",
        "Path": "bills",
        "QueryParameters": {"billId": ["123", "45 6"]},
        "Headers": {"key": ["value1", "value2"]},
        "AuthType": "IAM_ROLE"
    });
    let result = run(&fake, "apigateway:invoke", RR, input).await.unwrap();
    assert_eq!(
        result,
        json!({"ResponseBody": {"myBills": []}, "Headers": {"key": ["value1", "value2"]}, "StatusCode": 200, "StatusText": "OK"})
    );
    let (request, signed) = fake.sent().remove(0);
    assert_eq!(request.method, "GET");
    assert_eq!(request.url, "https://abc123.execute-api.us-east-1.amazonaws.com/prod/bills?billId=123&billId=45%206");
    assert_eq!(request.headers, vec![("key".to_owned(), "value1".to_owned()), ("key".to_owned(), "value2".to_owned())]);
    assert_eq!(signed.as_deref(), Some("execute-api"));
}

#[tokio::test]
async fn api_gateway_non_2xx_is_named_by_status_and_bodies_drop_nulls() {
    let fake = Fake::new().http_answer(http(403, &[], "{\"message\":\"Missing Authentication Token\"}"));
    let input = json!({
        "ApiEndpoint": "http://127.0.0.1:9/api", "Method": "POST",
        "RequestBody": {"a": 1, "b": null}
    });
    let (error, cause) = error_of(run(&fake, "apigateway:invoke", RR, input).await);
    assert_eq!(error, "ApiGateway.403");
    assert_eq!(cause.as_deref(), Some("{\"message\":\"Missing Authentication Token\"}"));
    let (request, signed) = fake.sent().remove(0);
    assert_eq!(request.url, "http://127.0.0.1:9/api");
    assert_eq!(request.body, b"{\"a\":1}");
    assert_eq!(signed, None);

    let forbidden = json!({"ApiEndpoint": "x.execute-api.us-east-1.amazonaws.com", "Method": "GET", "Headers": {"X-Amz-Date": ["1"]}});
    let (error, cause) = error_of(run(&fake, "apigateway:invoke", RR, forbidden).await);
    assert_eq!(error, "States.Runtime");
    assert!(cause.unwrap().starts_with("The Parameters '{\"ApiEndpoint\""));
    assert_eq!(fake.sent().len(), 1, "a refused request is not sent");
}

#[tokio::test]
async fn bedrock_invoke_model_sends_json_bodies_as_text_and_parses_the_answer() {
    let fake = Fake::new().answer(
        "bedrockruntime:InvokeModel",
        json!({"Body": "{\"results\":[{\"outputText\":\"hi\"}]}", "ContentType": "application/json"}),
    );
    let input = json!({"ModelId": "amazon.titan-text-express-v1", "Body": {"inputText": "hello"}});
    let result = run(&fake, "bedrock:invokeModel", RR, input).await.unwrap();
    assert_eq!(result, json!({"Body": {"results": [{"outputText": "hi"}]}, "ContentType": "application/json"}));
    assert_eq!(
        fake.inputs("bedrockruntime:InvokeModel"),
        vec![json!({"ModelId": "amazon.titan-text-express-v1", "Body": "{\"inputText\":\"hello\"}"})]
    );
}

#[tokio::test]
async fn bedrock_invoke_model_reads_input_from_and_writes_output_to_s3() {
    let fake = Fake::new()
        .answer("s3:GetObject", json!({"Body": "{\"inputText\":\"from s3\"}", "ContentType": "application/json"}))
        .answer(
            "bedrockruntime:InvokeModel",
            json!({"Body": "{\"outputText\":\"done\"}", "ContentType": "application/json"}),
        )
        .answer("s3:PutObject", json!({"ETag": "\"e\""}));
    let input = json!({
        "ModelId": "m",
        "Input": {"S3Uri": "s3://in-bucket/prompts/1.json"},
        "Output": {"S3Uri": "s3://out-bucket/answers/1.json"}
    });
    let result = run(&fake, "bedrock:invokeModel", RR, input).await.unwrap();
    assert_eq!(fake.inputs("s3:GetObject"), vec![json!({"Bucket": "in-bucket", "Key": "prompts/1.json"})]);
    assert_eq!(
        fake.inputs("bedrockruntime:InvokeModel"),
        vec![json!({"ModelId": "m", "Body": "{\"inputText\":\"from s3\"}", "ContentType": "application/json"})]
    );
    assert_eq!(
        fake.inputs("s3:PutObject"),
        vec![
            json!({"Bucket": "out-bucket", "Key": "answers/1.json", "Body": "{\"outputText\":\"done\"}", "ContentType": "application/json"})
        ]
    );
    assert_eq!(result, json!({"Body": {"S3Uri": "s3://out-bucket/answers/1.json"}, "ContentType": "application/json"}));

    let both = json!({"ModelId": "m", "Body": {}, "Input": {"S3Uri": "s3://b/k"}});
    let (error, _) = error_of(run(&fake, "bedrock:invokeModel", RR, both).await);
    assert_eq!(error, "States.Runtime");
}

#[tokio::test]
async fn patterns_and_actions_dmap_cannot_run_are_refused_at_run() {
    let fake = Fake::new();
    let cases = [
        ("eks:call", RR),
        ("eks:runJob", Pattern::Sync),
        ("dynamodb:putItem", Pattern::WaitForTaskToken),
        ("dynamodb:putItem", Pattern::Sync),
        ("glue:startJobRun", Pattern::Sync2),
        ("dynamodb:scan", RR),
        ("states:startExecution", Pattern::Sync),
    ];
    for (resource, pattern) in cases {
        let (error, cause) = error_of(run(&fake, resource, pattern, json!({})).await);
        assert_eq!(error, "States.Runtime", "{resource} {pattern:?}");
        assert!(cause.is_some_and(|c| !c.is_empty()));
    }
    assert!(fake.calls().is_empty(), "nothing is called for a refused Task");
    for (resource, pattern) in cases {
        let (service, action) = resource.split_once(':').unwrap();
        assert!(super::super::refusal(service, action, pattern).is_some(), "{resource} is refused before a run too");
    }
    assert_eq!(super::super::refusal("glue", "startJobRun", Pattern::Sync), None);
    assert_eq!(super::super::refusal("dynamodb", "putItem", RR), None);
}
