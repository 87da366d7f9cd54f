//! `dmap run` with `aws-sdk:*` Tasks against moto's DynamoDB: the put lands in the table (read
//! back by boto3), the SDK's output reaches the state, and a service error is caught by
//! `Catch` under the name Step Functions gives it.

mod support;

use serde_json::{Value, json};
use support::dmap::Run;
use testkit::Moto;

#[test]
fn sdk_tasks_write_read_and_catch_dynamodb_errors_by_their_step_functions_names() {
    let moto = Moto::start();
    moto.python(
        "import boto3\nboto3.client('dynamodb').create_table(TableName='orders', BillingMode='PAY_PER_REQUEST',\
         KeySchema=[{'AttributeName':'pk','KeyType':'HASH'}], AttributeDefinitions=[{'AttributeName':'pk','AttributeType':'S'}])",
    );
    let put = |next: &str| {
        json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem",
            "Parameters": {"TableName": "orders", "Item": {"pk": {"S.$": "$.id"}, "qty": {"N": "2"}},
                "ConditionExpression": "attribute_not_exists(pk)"},
            "ResultPath": null, "Next": next})
    };
    let mut again = put("Unreachable");
    again["Catch"] =
        json!([{"ErrorEquals": ["DynamoDb.ConditionalCheckFailedException"], "ResultPath": "$.caught", "Next": "Get"}]);
    let definition = json!({"StartAt": "Put", "States": {
        "Put": put("PutAgain"),
        "PutAgain": again,
        "Unreachable": {"Type": "Fail", "Error": "NotCaught"},
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
            "Parameters": {"TableName": "orders", "Key": {"pk": {"S.$": "$.id"}}},
            "ResultSelector": {"qty.$": "$.Item.qty.N"}, "ResultPath": "$.read", "End": true}
    }});
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("orders.asl.json");
    std::fs::write(&path, definition.to_string()).expect("write the definition");
    let mut run = Run::new(path.to_str().expect("UTF-8")).arg("--input-json").arg(r#"{"id": "o-7"}"#);
    for (k, v) in moto.env() {
        run = run.env(k, v);
    }
    let ran = run
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .go();
    assert_eq!(ran.code, 0, "dmap run failed:\n{}\n{}", ran.stdout, ran.stderr);
    let out: Value = serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("{e}: {}", ran.stdout));
    assert_eq!(out["read"], json!({"qty": "2"}));
    assert_eq!(out["caught"]["Error"], "DynamoDb.ConditionalCheckFailedException");
    let cause = out["caught"]["Cause"].as_str().expect("a cause");
    assert!(
        cause.starts_with("The conditional request failed (Service: DynamoDb, Status Code: 400, Request ID: "),
        "{cause}"
    );
    let table = moto.python(
        "import boto3\nprint([(i['pk']['S'], i['qty']['N']) for i in boto3.client('dynamodb').scan(TableName='orders')['Items']])",
    );
    assert_eq!(table.trim(), "[('o-7', '2')]");
}
