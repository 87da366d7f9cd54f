//! The optimized integrations through the real signed client: against moto (DynamoDB, SQS,
//! EventBridge, Glue), each test checking the side effect in the service with boto3; and
//! against a small AWS-protocol responder where moto cannot play the part (a Glue job that
//! fails or never ends, an API Gateway stage).

mod http_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_support::{Received, Reply, Server};
use serde_json::{Value, json};
use shared::asl::Failure;
use shared::asl::eval::TaskRequest;
use shared::asl::resource::Resource;
use testkit::Moto;
use worker::integrations::aws::optimized::{self, Api, Bound, Call, Options, Pattern};
use worker::integrations::aws::profile::Env;
use worker::integrations::aws::{Aws, AwsOptions, Role};

const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:Orders:run-1";

fn aws_at(env: Vec<(&'static str, String)>) -> Arc<dyn Api> {
    let aws = Aws::new(AwsOptions { env: Some(Env::from_pairs(env)), ..AwsOptions::default() }).unwrap();
    Arc::new(Bound { aws, role: None })
}

/// The client pointed at a responder on `url`, as at moto.
fn aws_for_responder(url: String) -> Arc<dyn Api> {
    aws_at(vec![
        ("AWS_ENDPOINT_URL", url),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
    ])
}

async fn run(
    api: &Arc<dyn Api>,
    resource: &str,
    pattern: Pattern,
    input: Value,
    timeout: Option<Duration>,
) -> Result<Value, Failure> {
    let (service, action) = resource.split_once(':').unwrap();
    let call = Call { service, action, pattern, input, timeout, execution_arn: EXECUTION };
    let options = Options { poll_interval: Some(Duration::from_millis(50)) };
    optimized::invoke(Arc::clone(api), call, &options).await
}

#[tokio::test]
async fn dynamodb_put_item_writes_the_item_and_conditions_fail_by_their_optimized_name() {
    let moto = Moto::start();
    moto.python(
        "import boto3\nboto3.client('dynamodb').create_table(TableName='orders', \
         KeySchema=[{'AttributeName':'pk','KeyType':'HASH'}], \
         AttributeDefinitions=[{'AttributeName':'pk','AttributeType':'S'}], BillingMode='PAY_PER_REQUEST')",
    );
    let api = aws_at(moto.env());
    let put = json!({"TableName": "orders", "Item": {"pk": {"S": "o-1"}, "total": {"N": "12"}}});
    let result = run(&api, "dynamodb:putItem", Pattern::RequestResponse, put.clone(), None).await.unwrap();
    assert_eq!(result["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
    let seen = moto.python(
        "import boto3\nprint(boto3.client('dynamodb').get_item(TableName='orders', Key={'pk':{'S':'o-1'}})['Item']['total']['N'])",
    );
    assert_eq!(seen.trim(), "12");

    let got = run(
        &api,
        "dynamodb:getItem",
        Pattern::RequestResponse,
        json!({"TableName": "orders", "Key": {"pk": {"S": "o-1"}}}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(got["Item"], json!({"pk": {"S": "o-1"}, "total": {"N": "12"}}));

    let conditional = json!({
        "TableName": "orders", "Item": {"pk": {"S": "o-1"}},
        "ConditionExpression": "attribute_not_exists(pk)"
    });
    let failure = run(&api, "dynamodb:putItem", Pattern::RequestResponse, conditional, None).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("DynamoDB.ConditionalCheckFailedException"));
    let cause = failure.cause.unwrap();
    assert!(
        cause.contains(
            "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: "
        ),
        "{cause}"
    );
    let total = moto.python(
        "import boto3\nprint(boto3.client('dynamodb').get_item(TableName='orders', Key={'pk':{'S':'o-1'}})['Item'].get('total',{}).get('N'))",
    );
    assert_eq!(total.trim(), "12", "the refused put changed nothing");
}

#[tokio::test]
async fn sqs_send_message_puts_the_json_text_in_the_queue() {
    let moto = Moto::start();
    let url = moto.python("import boto3\nprint(boto3.client('sqs').create_queue(QueueName='work')['QueueUrl'])");
    let api = aws_at(moto.env());
    let input = json!({"QueueUrl": url.trim(), "MessageBody": {"order": 7, "items": ["a"]}});
    let result = run(&api, "sqs:sendMessage", Pattern::RequestResponse, input, None).await.unwrap();
    let id = result["MessageId"].as_str().expect("a MessageId").to_owned();
    let received = moto.python(&format!(
        "import boto3, json\nm = boto3.client('sqs').receive_message(QueueUrl='{}')['Messages'][0]\nprint(json.dumps([m['MessageId'], m['Body']]))",
        url.trim()
    ));
    let received: Value = serde_json::from_str(received.trim()).unwrap();
    assert_eq!(received, json!([id, "{\"order\":7,\"items\":[\"a\"]}"]));
}

#[tokio::test]
async fn sns_publish_sends_the_json_text_to_subscribers_and_names_a_missing_topic() {
    let moto = Moto::start();
    let made = moto.python(
        "import boto3\nsqs = boto3.client('sqs')\nurl = sqs.create_queue(QueueName='inbox')['QueueUrl']\n\
         arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']\n\
         sns = boto3.client('sns')\ntopic = sns.create_topic(Name='orders')['TopicArn']\n\
         sns.subscribe(TopicArn=topic, Protocol='sqs', Endpoint=arn, Attributes={'RawMessageDelivery': 'true'})\n\
         print(topic, url)",
    );
    let (topic, queue) = made.trim().split_once(' ').unwrap();
    let api = aws_at(moto.env());
    let input = json!({"TopicArn": topic, "Message": {"order": 7}});
    let result = run(&api, "sns:publish", Pattern::RequestResponse, input, None).await.unwrap();
    assert!(result["MessageId"].is_string(), "{result}");
    assert_eq!(result["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
    let body = moto.python(&format!(
        "import boto3\nprint(boto3.client('sqs').receive_message(QueueUrl='{queue}')['Messages'][0]['Body'])"
    ));
    assert_eq!(body.trim(), "{\"order\":7}");

    let missing = json!({"TopicArn": "arn:aws:sns:us-east-1:123456789012:nope", "Message": "m"});
    let failure = run(&api, "sns:publish", Pattern::RequestResponse, missing, None).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("SNS.NotFoundException"));
    let cause = failure.cause.unwrap();
    // AWS's v1 Cause names the wire code (`NotFound`); the client reports the error's shape name
    // (`NotFoundException`), so only the frame of the Cause is pinned here.
    assert!(
        cause.starts_with("Endpoint does not exist (Service: AmazonSNS; Status Code: 404; Error Code: "),
        "{cause}"
    );
}

#[tokio::test]
async fn put_events_delivers_the_event_with_the_execution_in_its_resources() {
    let moto = Moto::start();
    let queue = moto.python(
        "import boto3\nsqs = boto3.client('sqs')\nurl = sqs.create_queue(QueueName='events')['QueueUrl']\n\
         arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']\n\
         ev = boto3.client('events')\n\
         ev.put_rule(Name='all', EventPattern='{\"source\": [\"dmap.test\"]}')\n\
         ev.put_targets(Rule='all', Targets=[{'Id': 'q', 'Arn': arn}])\nprint(url)",
    );
    let api = aws_at(moto.env());
    let input = json!({"Entries": [{"Source": "dmap.test", "DetailType": "Order", "Detail": {"order": 7}}]});
    let result = run(&api, "events:putEvents", Pattern::RequestResponse, input, None).await.unwrap();
    assert_eq!(result["FailedEntryCount"], json!(0));
    let event = moto.python(&format!(
        "import boto3\nprint(boto3.client('sqs').receive_message(QueueUrl='{}')['Messages'][0]['Body'])",
        queue.trim()
    ));
    let event: Value = serde_json::from_str(event.trim()).unwrap();
    assert_eq!(event["detail"], json!({"order": 7}));
    assert_eq!(event["resources"], json!([EXECUTION, "arn:aws:states:us-east-1:123456789012:stateMachine:Orders"]));
}

#[tokio::test]
async fn a_glue_job_run_sync_polls_until_moto_says_succeeded() {
    let moto = Moto::start();
    // moto's job runs finish at once; make each report RUNNING to two polls first.
    moto.python(&format!(
        "import boto3, json, urllib.request\n\
         urllib.request.urlopen(urllib.request.Request('{}/moto-api/state-manager/set-transition', method='POST', \
         data=json.dumps({{'model_name': 'glue::job_run', 'transition': {{'progression': 'manual', 'times': 2}}}}).encode()))\n\
         boto3.client('glue').create_job(Name='etl', Role='arn:aws:iam::123456789012:role/r', \
         Command={{'Name': 'glueetl', 'ScriptLocation': 's3://b/s.py'}})",
        moto.url()
    ));
    let api = aws_at(moto.env());
    let result = run(&api, "glue:startJobRun", Pattern::Sync, json!({"JobName": "etl"}), None).await.unwrap();
    assert_eq!(result["JobRunState"], json!("SUCCEEDED"));
    assert_eq!(result["JobName"], json!("etl"));
    let runs = moto.python(
        "import boto3\nprint(','.join(r['Id'] + ':' + r['JobRunState'] for r in boto3.client('glue').get_job_runs(JobName='etl')['JobRuns']))",
    );
    assert_eq!(runs.trim(), format!("{}:SUCCEEDED", result["Id"].as_str().unwrap()));
}

/// The calls a responder received: `X-Amz-Target` and JSON body, in order.
type Log = Arc<Mutex<Vec<(String, Value)>>>;

/// Plays Glue (awsJson 1.1): StartJobRun answers `jr_1`; GetJobRun answers `states` in turn,
/// the last one for ever; BatchStopJobRun answers a submission.
async fn glue(states: &'static [&'static str]) -> (Server, Log) {
    let polls = AtomicUsize::new(0);
    let log = Log::default();
    let seen = Arc::clone(&log);
    let server = Server::start(move |request: &Received| {
        let target = request.header("x-amz-target").unwrap_or_default().to_owned();
        let input = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        seen.lock().unwrap().push((target.clone(), input));
        let body = match target.as_str() {
            "AWSGlue.StartJobRun" => json!({"JobRunId": "jr_1"}),
            "AWSGlue.GetJobRun" => {
                let n = polls.fetch_add(1, Ordering::SeqCst).min(states.len() - 1);
                json!({"JobRun": {"Id": "jr_1", "JobName": "etl", "JobRunState": states[n], "ErrorMessage": "boom"}})
            }
            "AWSGlue.BatchStopJobRun" => json!({"SuccessfulSubmissions": [{"JobName": "etl", "JobRunId": "jr_1"}]}),
            other => return Reply::json(400, json!({"__type": "UnknownOperationException", "message": other})),
        };
        Reply::bytes(200, body.to_string()).header("content-type", "application/x-amz-json-1.1")
    })
    .await;
    (server, log)
}

#[tokio::test]
async fn a_failed_glue_job_fails_the_task_with_the_job_run_as_cause() {
    let (server, log) = glue(&["RUNNING", "FAILED"]).await;
    let api = aws_for_responder(server.url(""));
    let failure = run(&api, "glue:startJobRun", Pattern::Sync, json!({"JobName": "etl"}), None).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("States.TaskFailed"));
    let cause: Value = serde_json::from_str(failure.cause.as_deref().unwrap()).unwrap();
    assert_eq!(cause, json!({"Id": "jr_1", "JobName": "etl", "JobRunState": "FAILED", "ErrorMessage": "boom"}));
    let seen = log.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            ("AWSGlue.StartJobRun".to_owned(), json!({"JobName": "etl"})),
            ("AWSGlue.GetJobRun".to_owned(), json!({"JobName": "etl", "RunId": "jr_1"})),
            ("AWSGlue.GetJobRun".to_owned(), json!({"JobName": "etl", "RunId": "jr_1"})),
        ],
        "a job that ended is not stopped"
    );
}

#[tokio::test]
async fn a_glue_job_outliving_timeout_seconds_is_stopped() {
    let (server, log) = glue(&["RUNNING"]).await;
    let api = aws_for_responder(server.url(""));
    let timeout = Some(Duration::from_millis(400));
    let failure = run(&api, "glue:startJobRun", Pattern::Sync, json!({"JobName": "etl"}), timeout).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("States.Timeout"));
    let seen = log.lock().unwrap().clone();
    assert!(seen.iter().filter(|(t, _)| t == "AWSGlue.GetJobRun").count() >= 2, "{seen:?}");
    let stops: Vec<&Value> = seen.iter().filter(|(t, _)| t == "AWSGlue.BatchStopJobRun").map(|(_, i)| i).collect();
    assert_eq!(stops, [&json!({"JobName": "etl", "JobRunIds": ["jr_1"]})], "stopped once, before the Task failed");
}

#[tokio::test]
async fn api_gateway_invoke_signs_for_execute_api_and_names_errors_by_status() {
    let mut server = Server::start(|request: &Received| match request.target.as_str() {
        "/prod/bills?id=7" => Reply::json(200, json!({"myBills": []})),
        _ => Reply::json(403, json!({"message": "Missing Authentication Token"})),
    })
    .await;
    let api = aws_for_responder(server.url(""));
    let input = json!({
        "ApiEndpoint": server.url(""), "Method": "GET", "Stage": "prod", "Path": "/bills",
        "QueryParameters": {"id": ["7"]}, "AuthType": "IAM_ROLE"
    });
    let result = run(&api, "apigateway:invoke", Pattern::RequestResponse, input, None).await.unwrap();
    assert_eq!(result["ResponseBody"], json!({"myBills": []}));
    assert_eq!((result["StatusCode"].clone(), result["StatusText"].clone()), (json!(200), json!("OK")));
    let request = server.request();
    let authorization = request.header("authorization").expect("a signed request");
    assert!(authorization.contains("/us-east-1/execute-api/aws4_request"), "{authorization}");

    let input = json!({"ApiEndpoint": server.url(""), "Method": "GET", "Path": "missing"});
    let failure = run(&api, "apigateway:invoke", Pattern::RequestResponse, input, None).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("ApiGateway.403"));
    assert_eq!(failure.cause.as_deref(), Some("{\"message\":\"Missing Authentication Token\"}"));
    assert!(server.request().header("authorization").is_none(), "NO_AUTH is not signed");
}

#[tokio::test]
async fn a_task_with_credentials_calls_as_the_role_moto_sts_hands_out() {
    let moto = Moto::start();
    moto.python(
        "import boto3\nboto3.client('dynamodb').create_table(TableName='audit', \
         KeySchema=[{'AttributeName':'pk','KeyType':'HASH'}], \
         AttributeDefinitions=[{'AttributeName':'pk','AttributeType':'S'}], BillingMode='PAY_PER_REQUEST')",
    );
    let aws = Aws::new(AwsOptions { env: Some(Env::from_pairs(moto.env())), ..AwsOptions::default() }).unwrap();
    let task = |credentials: Value| TaskRequest {
        state_name: "Audit".into(),
        resource: Arc::new(Resource::parse("arn:aws:states:::dynamodb:putItem").unwrap()),
        input: json!({"TableName": "audit", "Item": {"pk": {"S": "a-1"}}}),
        timeout_seconds: 30,
        heartbeat_seconds: None,
        credentials: Some(credentials),
        execution_arn: EXECUTION.into(),
        call_id: 2,
        task_token: None,
    };
    let options = Options::default();
    let role = json!({"RoleArn": "arn:aws:iam::123456789012:role/auditor"});
    optimized::invoke_task(&aws, task(role), &options).await.unwrap();
    let seen = moto.python(
        "import boto3\nprint(boto3.client('dynamodb').get_item(TableName='audit', Key={'pk':{'S':'a-1'}})['Item']['pk']['S'])",
    );
    assert_eq!(seen.trim(), "a-1");

    // The bound role is the identity the calls are made as.
    let role = Role {
        arn: "arn:aws:iam::123456789012:role/auditor".into(),
        session_name: "dmap-Orders".into(),
        external_id: None,
    };
    let bound = Bound { aws: aws.clone(), role: Some(role) };
    let me = bound.call("sts", "GetCallerIdentity", &json!({})).await.unwrap().output;
    assert_eq!(me["Arn"], json!("arn:aws:sts::123456789012:assumed-role/auditor/dmap-Orders"));

    let bad = task(json!({"RoleArn": 5}));
    let failure = optimized::invoke_task(&aws, bad, &options).await;
    assert_eq!(failure.unwrap_err().error.as_deref(), Some("States.Runtime"));
}

#[tokio::test]
async fn bedrock_invoke_model_reads_its_body_from_s3_and_writes_the_answer_there() {
    let moto = Moto::start();
    moto.python(
        "import boto3\ns3 = boto3.client('s3')\ns3.create_bucket(Bucket='prompts')\n\
         s3.put_object(Bucket='prompts', Key='in/1.json', Body=b'{\"inputText\": \"hello\"}', ContentType='application/json')",
    );
    // moto has no Bedrock runtime: a responder plays InvokeModel (restJson1, blob payload).
    let mut model = Server::start(|_: &Received| {
        Reply::bytes(200, "{\"results\":[{\"outputText\":\"hi\"}]}").header("content-type", "application/json")
    })
    .await;
    let mut env = moto.env();
    env.push(("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", model.url("")));
    let api = aws_at(env);
    let input = json!({
        "ModelId": "amazon.titan-text-express-v1",
        "Input": {"S3Uri": "s3://prompts/in/1.json"},
        "Output": {"S3Uri": "s3://prompts/out/1.json"}
    });
    let result = run(&api, "bedrock:invokeModel", Pattern::RequestResponse, input, None).await.unwrap();
    assert_eq!(result["Body"], json!({"S3Uri": "s3://prompts/out/1.json"}));
    let request = model.request();
    assert_eq!(request.target, "/model/amazon.titan-text-express-v1/invoke");
    assert_eq!(request.body_text(), "{\"inputText\": \"hello\"}");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let written = moto.python(
        "import boto3\nprint(boto3.client('s3').get_object(Bucket='prompts', Key='out/1.json')['Body'].read().decode())",
    );
    assert_eq!(written.trim(), "{\"results\":[{\"outputText\":\"hi\"}]}");

    let input = json!({"ModelId": "amazon.titan-text-express-v1", "Body": {"inputText": "again"}});
    let result = run(&api, "bedrock:invokeModel", Pattern::RequestResponse, input, None).await.unwrap();
    assert_eq!(result["Body"], json!({"results": [{"outputText": "hi"}]}));
    assert_eq!(model.request().body_text(), "{\"inputText\":\"again\"}");
}

#[tokio::test]
async fn a_batch_job_sync_over_rest_json_returns_the_job_description() {
    // moto runs Batch jobs in Docker; a responder plays Batch (restJson1, lower-case members).
    let polls = AtomicUsize::new(0);
    let mut batch = Server::start(move |request: &Received| match request.target.as_str() {
        "/v1/submitjob" => Reply::json(
            200,
            json!({"jobArn": "arn:aws:batch:us-east-1:123456789012:job/j-1", "jobName": "n", "jobId": "j-1"}),
        ),
        "/v1/describejobs" => {
            let status = if polls.fetch_add(1, Ordering::SeqCst) == 0 { "RUNNING" } else { "SUCCEEDED" };
            Reply::json(
                200,
                json!({"jobs": [{"jobId": "j-1", "jobName": "n", "status": status, "jobQueue": "q",
                "jobDefinition": "d", "startedAt": 1700000000000_i64}]}),
            )
        }
        _ => Reply::json(404, json!({"message": "unexpected"})),
    })
    .await;
    let api = aws_for_responder(batch.url(""));
    let input = json!({"JobName": "n", "JobQueue": "q", "JobDefinition": "d"});
    let result = run(&api, "batch:submitJob", Pattern::Sync, input, None).await.unwrap();
    assert_eq!(result["JobId"], json!("j-1"));
    assert_eq!(result["Status"], json!("SUCCEEDED"));
    let submitted: Value = serde_json::from_slice(&batch.request().body).unwrap();
    assert_eq!(
        submitted,
        json!({"jobName": "n", "jobQueue": "q", "jobDefinition": "d",
            "containerOverrides": {"environment": [{"name": "MANAGED_BY_AWS", "value": "STARTED_BY_STEP_FUNCTIONS"}]}})
    );
    let described: Value = serde_json::from_slice(&batch.request().body).unwrap();
    assert_eq!(described, json!({"jobs": ["j-1"]}));
}
