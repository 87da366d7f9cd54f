//! `dmap run` with optimized integrations against moto: `dynamodb:putItem` writes the item and a
//! second put is caught as `DynamoDB.ConditionalCheckFailedException`; `sqs:sendMessage` puts
//! the JSON body in the queue; `glue:startJobRun.sync` waits for the job run moto reports
//! RUNNING, then SUCCEEDED. Each side effect is read back with boto3.

mod support;

use serde_json::{Value, json};
use support::dmap::Run;
use testkit::Moto;

#[test]
fn optimized_tasks_write_send_wait_for_a_job_and_catch_by_their_step_functions_names() {
    let moto = Moto::start();
    let queue = moto.python(&format!(
        "import boto3, json, urllib.request\n\
         boto3.client('dynamodb').create_table(TableName='orders', BillingMode='PAY_PER_REQUEST',\
         KeySchema=[{{'AttributeName':'pk','KeyType':'HASH'}}], AttributeDefinitions=[{{'AttributeName':'pk','AttributeType':'S'}}])\n\
         urllib.request.urlopen(urllib.request.Request('{}/moto-api/state-manager/set-transition', method='POST', \
         data=json.dumps({{'model_name': 'glue::job_run', 'transition': {{'progression': 'manual', 'times': 2}}}}).encode()))\n\
         boto3.client('glue').create_job(Name='etl', Role='arn:aws:iam::123456789012:role/r', \
         Command={{'Name': 'glueetl', 'ScriptLocation': 's3://b/s.py'}})\n\
         print(boto3.client('sqs').create_queue(QueueName='orders')['QueueUrl'])",
        moto.url()
    ));
    let put = |next: &str| {
        json!({"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": "orders", "Item": {"pk": {"S.$": "$.id"}},
                "ConditionExpression": "attribute_not_exists(pk)"},
            "ResultPath": null, "Next": next})
    };
    let mut again = put("Unreachable");
    again["Catch"] = json!([{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.caught", "Next": "Notify"}]);
    let definition = json!({"StartAt": "Save", "States": {
        "Save": put("SaveAgain"),
        "SaveAgain": again,
        "Unreachable": {"Type": "Fail", "Error": "NotCaught"},
        "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": queue.trim(), "MessageBody": {"order.$": "$.id"}},
            "ResultSelector": {"id.$": "$.MessageId"}, "ResultPath": "$.sent", "Next": "Etl"},
        "Etl": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
            "Parameters": {"JobName": "etl"},
            "ResultSelector": {"state.$": "$.JobRunState", "run.$": "$.Id"}, "ResultPath": "$.etl", "End": true}
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
        .env("DMAP_SYNC_POLL_INTERVAL_MS", "50")
        .go();
    assert_eq!(ran.code, 0, "dmap run failed:\n{}\n{}", ran.stdout, ran.stderr);
    let out: Value = serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("{e}: {}", ran.stdout));
    assert_eq!(out["caught"]["Error"], "DynamoDB.ConditionalCheckFailedException");
    assert_eq!(out["etl"]["state"], "SUCCEEDED");

    let table = moto.python(
        "import boto3\nprint([i['pk']['S'] for i in boto3.client('dynamodb').scan(TableName='orders')['Items']])",
    );
    assert_eq!(table.trim(), "['o-7']");
    let message = moto.python(&format!(
        "import boto3, json\nm = boto3.client('sqs').receive_message(QueueUrl='{}')['Messages'][0]\nprint(json.dumps([m['MessageId'], m['Body']]))",
        queue.trim()
    ));
    let message: Value = serde_json::from_str(message.trim()).unwrap();
    assert_eq!(message, json!([out["sent"]["id"], "{\"order\":\"o-7\"}"]));
    let runs = moto.python(
        "import boto3\nprint([(r['Id'], r['JobRunState']) for r in boto3.client('glue').get_job_runs(JobName='etl')['JobRuns']])",
    );
    assert_eq!(runs.trim(), format!("[('{}', 'SUCCEEDED')]", out["etl"]["run"].as_str().unwrap()));
}
