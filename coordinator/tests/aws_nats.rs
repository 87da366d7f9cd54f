//! AWS integrations in children of a Map Run over NATS (issue 13, §8): two `dmap-worker`s call
//! DynamoDB (moto, on a free loopback port) for every item, and the table holds each item once.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::nats::{Cluster, assert_all_succeeded_once, fixture};
use testkit::Moto;

const ITEMS: u64 = 60;

#[test]
fn children_on_workers_write_every_item_to_dynamodb() {
    let deadline = Instant::now() + Duration::from_secs(120);
    let moto = Moto::start();
    moto.python(
        "import boto3\nboto3.client('dynamodb').create_table(TableName='items', BillingMode='PAY_PER_REQUEST',\
         KeySchema=[{'AttributeName':'id','KeyType':'HASH'}], AttributeDefinitions=[{'AttributeName':'id','AttributeType':'N'}])",
    );
    let mut c = Cluster::new(&[]).with_env(moto.env());
    c.start_worker();
    c.start_worker();
    c.write_items(ITEMS, |i| json!({"id": i, "word": format!("word-{i}")}));
    c.wait_workers_ready(deadline);

    let mut run = c.dmap_run(&fixture("dynamodb.asl.json"), "ddb", &json!({})).spawn("dmap");
    let exit = run.wait_exit(deadline);
    assert!(exit.success(), "dmap run: {exit}\n{}", c.diagnostic(&[&run]));
    let results = assert_all_succeeded_once(&c, "ddb", ITEMS);
    for rec in &results.succeeded {
        let output: serde_json::Value = serde_json::from_str(rec["Output"].as_str().expect("Output")).expect("JSON");
        for item in output.as_array().expect("the inline Map's outputs") {
            assert_eq!(item["read"]["word"], format!("word-{}", item["id"]), "getItem read back the put: {item}");
        }
    }
    // The side effect, read by boto3: every id once, with its word.
    let table = moto.python(
        "import boto3\nitems=boto3.client('dynamodb').scan(TableName='items')['Items']\n\
         print('\\n'.join(sorted(i['id']['N']+' '+i['word']['S'] for i in items)))",
    );
    let mut want: Vec<String> = (0..ITEMS).map(|i| format!("{i} word-{i}")).collect();
    want.sort();
    assert_eq!(table.lines().collect::<Vec<_>>(), want);
}
