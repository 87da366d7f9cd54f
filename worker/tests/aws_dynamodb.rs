//! The generic AWS client and the `aws-sdk:*` integration against moto's DynamoDB (awsJson 1.0):
//! calls change the table as boto3 sees it, and errors carry Step Functions' names.

use serde_json::{Value, json};
use shared::asl::eval::TaskRequest;
use testkit::Moto;
use worker::integrations::aws::profile::Env;
use worker::integrations::aws::{ApiError, Aws, AwsOptions, sdk};

fn client(moto: &Moto) -> Aws {
    Aws::new(AwsOptions { env: Some(Env::from_pairs(moto.env())), ..AwsOptions::default() }).unwrap()
}

fn create_table(moto: &Moto) {
    moto.python(
        "import boto3\nboto3.client('dynamodb').create_table(TableName='orders', \
         KeySchema=[{'AttributeName':'pk','KeyType':'HASH'}], \
         AttributeDefinitions=[{'AttributeName':'pk','AttributeType':'S'}], BillingMode='PAY_PER_REQUEST')",
    );
}

fn task(resource: &str, input: Value) -> TaskRequest {
    TaskRequest {
        state_name: "Save".into(),
        resource: std::sync::Arc::new(shared::asl::resource::Resource::parse(resource).unwrap()),
        input,
        timeout_seconds: 30,
        heartbeat_seconds: None,
        credentials: None,
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:M:e".into(),
        call_id: 2,
        task_token: None,
    }
}

#[tokio::test]
async fn put_update_and_get_an_item_as_boto3_sees_it() {
    let moto = Moto::start();
    create_table(&moto);
    let aws = client(&moto);
    let put = json!({"TableName": "orders", "Item": {"pk": {"S": "o-1"}, "qty": {"N": "2"}, "who": {"S": "ann"}}});
    let out = aws.call_api("dynamodb", "putItem", &put, None).await.unwrap();
    assert_eq!((out.status, &out.output), (200, &json!({})));
    let update = json!({
        "TableName": "orders", "Key": {"pk": {"S": "o-1"}},
        "UpdateExpression": "SET qty = qty + :one", "ExpressionAttributeValues": {":one": {"N": "1"}},
        "ReturnValues": "UPDATED_NEW"
    });
    let out = aws.call_api("dynamodb", "UpdateItem", &update, None).await.unwrap();
    // moto adds ConsumedCapacity unasked; the updated attributes are what matters.
    assert_eq!(out.output["Attributes"], json!({"qty": {"N": "3"}}));
    let got = aws
        .call_api("dynamodb", "getItem", &json!({"TableName": "orders", "Key": {"pk": {"S": "o-1"}}}), None)
        .await
        .unwrap();
    assert_eq!(got.output, json!({"Item": {"pk": {"S": "o-1"}, "qty": {"N": "3"}, "who": {"S": "ann"}}}));
    let seen = moto.python(
        "import boto3\nprint(boto3.client('dynamodb').get_item(TableName='orders', Key={'pk':{'S':'o-1'}})['Item']['qty']['N'])",
    );
    assert_eq!(seen.trim(), "3");
}

#[tokio::test]
async fn the_sdk_task_returns_the_api_output_and_timestamps_as_iso_8601() {
    let moto = Moto::start();
    create_table(&moto);
    let aws = client(&moto);
    let out =
        sdk::invoke(&aws, &task("arn:aws:states:::aws-sdk:dynamodb:describeTable", json!({"TableName": "orders"})))
            .await
            .unwrap();
    let created = out["Table"]["CreationDateTime"].as_str().unwrap().to_owned();
    let expected = moto.python(
        "import boto3\nt = boto3.client('dynamodb').describe_table(TableName='orders')['Table']['CreationDateTime']\n\
         print(t.astimezone(__import__('datetime').timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (t.microsecond // 1000))",
    );
    assert_eq!(created, expected.trim());
    assert_eq!(out["Table"]["TableName"], "orders");
    assert_eq!(out["Table"]["KeySchema"], json!([{"AttributeName": "pk", "KeyType": "HASH"}]));
}

#[tokio::test]
async fn a_failed_condition_is_dynamodb_s_error_named_as_step_functions_names_it() {
    let moto = Moto::start();
    create_table(&moto);
    let aws = client(&moto);
    let put =
        json!({"TableName": "orders", "Item": {"pk": {"S": "o-1"}}, "ConditionExpression": "attribute_not_exists(pk)"});
    let resource = "arn:aws:states:::aws-sdk:dynamodb:putItem";
    sdk::invoke(&aws, &task(resource, put.clone())).await.unwrap();
    let failure = sdk::invoke(&aws, &task(resource, put.clone())).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("DynamoDb.ConditionalCheckFailedException"));
    let cause = failure.cause.unwrap();
    assert!(
        cause.starts_with("The conditional request failed (Service: DynamoDb, Status Code: 400, Request ID: "),
        "{cause}"
    );
    let Err(ApiError::Service { code, status, request_id, .. }) = aws.call_api("dynamodb", "putItem", &put, None).await
    else {
        panic!("the second put must fail")
    };
    assert_eq!((code.as_str(), status), ("ConditionalCheckFailedException", 400));
    assert!(request_id.is_some_and(|id| !id.is_empty()) && cause.ends_with(')'));
}

#[tokio::test]
async fn parameters_the_api_does_not_take_fail_the_state_without_calling() {
    let moto = Moto::start();
    create_table(&moto);
    let aws = client(&moto);
    let input = json!({"TableName": "orders", "Item": {"pk": {"S": "o-9"}}, "Bogus": true});
    let failure = sdk::invoke(&aws, &task("arn:aws:states:::aws-sdk:dynamodb:putItem", input)).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("States.Runtime"));
    let cause = failure.cause.unwrap();
    assert!(cause.starts_with("An error occurred while executing the state 'Save'. The Parameters '{"), "{cause}");
    assert!(
        cause
            .ends_with("could not be used to start the Task: [The field \"Bogus\" is not supported by Step Functions]"),
        "{cause}"
    );
    let count = moto.python("import boto3\nprint(boto3.client('dynamodb').scan(TableName='orders')['Count'])");
    assert_eq!(count.trim(), "0");
}

#[tokio::test]
async fn a_closed_port_is_the_sdk_s_client_exception() {
    let moto = Moto::start();
    let port = moto.port;
    drop(moto);
    let env = Env::from_pairs([
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_ACCESS_KEY_ID", "k".into()),
        ("AWS_SECRET_ACCESS_KEY", "s".into()),
    ]);
    let aws = Aws::new(AwsOptions { env: Some(env), ..AwsOptions::default() }).unwrap();
    let failure =
        sdk::invoke(&aws, &task("arn:aws:states:::aws-sdk:dynamodb:listTables", json!({}))).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("DynamoDb.SdkClientException"));
    assert!(failure.cause.unwrap().starts_with("Unable to execute HTTP request: "));
}
