//! The XML protocols against a real AWS-protocol server: requests serialised by
//! `protocol::serialize` are sent to moto as they are (signing is not this layer's job, so the
//! Authorization header is a placeholder that only names the service, as moto routes by it),
//! and moto's answers are read by `protocol::deserialize`. Side effects are checked with boto3.

use serde_json::{Value, json};
use testkit::Moto;
use worker::integrations::aws::model;
use worker::integrations::aws::protocol::{self, Outcome, Response, ServiceError};

async fn call(moto: &Moto, service: &str, action: &str, input: Value) -> Outcome {
    let svc = model::service(service).unwrap();
    let op = svc.operation(action).unwrap_or_else(|| panic!("{service}:{action}"));
    let request = protocol::serialize(&svc, op, &input).unwrap();
    let date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/{}/us-east-1/{}/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
        &date[..8],
        svc.signing_name,
        "0".repeat(64)
    );
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = reqwest::Client::new()
        .request(method, format!("{}{}", moto.url(), request.path_and_query))
        .header("authorization", auth)
        .header("x-amz-date", date)
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .body(request.body);
    for (k, v) in &request.headers {
        builder = builder.header(k, v);
    }
    let reply = builder.send().await.expect("moto answers");
    let status = reply.status().as_u16();
    let headers: Vec<(String, String)> = reply
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = reply.bytes().await.unwrap();
    protocol::deserialize(&svc, op, &Response { status, headers: &headers, body: &body }).unwrap()
}

async fn ok(moto: &Moto, service: &str, action: &str, input: Value) -> Value {
    match call(moto, service, action, input).await {
        Outcome::Ok(v) => v,
        Outcome::Err(e) => panic!("{service}:{action} failed: {e:?}"),
    }
}

async fn err(moto: &Moto, service: &str, action: &str, input: Value) -> ServiceError {
    match call(moto, service, action, input).await {
        Outcome::Err(e) => e,
        Outcome::Ok(v) => panic!("{service}:{action} succeeded: {v}"),
    }
}

fn is_state_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.len() == 24 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[19] == b'.'
}

#[tokio::test]
async fn sns_over_aws_query_creates_subscribes_publishes_and_lists() {
    let moto = Moto::start();
    let queue_arn = moto.python(
        "import boto3\nsqs=boto3.client('sqs')\nu=sqs.create_queue(QueueName='inbox')['QueueUrl']\n\
         print(sqs.get_queue_attributes(QueueUrl=u,AttributeNames=['QueueArn'])['Attributes']['QueueArn'])",
    );
    let queue_arn = queue_arn.trim();
    let created =
        ok(&moto, "sns", "createTopic", json!({ "Name": "orders", "Tags": [{ "Key": "team", "Value": "a" }] })).await;
    let topic = created["TopicArn"].as_str().unwrap().to_owned();
    assert!(topic.ends_with(":orders"), "{created}");
    let sub = ok(
        &moto,
        "sns",
        "subscribe",
        json!({ "TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn,
        "Attributes": { "RawMessageDelivery": "true" } }),
    )
    .await;
    assert!(sub["SubscriptionArn"].as_str().unwrap().starts_with(&topic));
    let published = ok(
        &moto,
        "sns",
        "publish",
        json!({ "TopicArn": topic, "Message": "order & 42",
        "MessageAttributes": { "kind": { "DataType": "String", "StringValue": "new" } } }),
    )
    .await;
    assert!(published["MessageId"].as_str().is_some_and(|id| id.len() >= 32), "{published}");
    let listed = ok(&moto, "sns", "listSubscriptions", json!({})).await;
    let subs = listed["Subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 1, "{listed}");
    assert_eq!((subs[0]["Protocol"].as_str(), subs[0]["Endpoint"].as_str()), (Some("sqs"), Some(queue_arn)));
    let attributes = ok(&moto, "sns", "getTopicAttributes", json!({ "TopicArn": topic })).await;
    assert_eq!(attributes["Attributes"]["TopicArn"], json!(topic), "{attributes}");
    assert!(attributes["Attributes"]["Policy"].as_str().is_some_and(|p| p.contains("SNS:Publish")));
    // The side effect: the message is in the queue, with its attribute.
    let received = moto.python(
        "import boto3\nsqs=boto3.client('sqs')\nu=sqs.get_queue_url(QueueName='inbox')['QueueUrl']\n\
         m=sqs.receive_message(QueueUrl=u,MessageAttributeNames=['All'])['Messages'][0]\n\
         print(m['Body']);print(m['MessageAttributes']['kind']['StringValue'])",
    );
    assert_eq!(received.lines().collect::<Vec<_>>(), ["order & 42", "new"]);
    let missing = err(&moto, "sns", "publish", json!({ "TopicArn": format!("{topic}-gone"), "Message": "m" })).await;
    assert_eq!((missing.status, missing.code.as_str()), (404, "NotFoundException"), "{missing:?}");
    assert!(!missing.message.is_empty());
}

#[tokio::test]
async fn s3_over_rest_xml_puts_gets_lists_heads_and_deletes() {
    let moto = Moto::start();
    ok(&moto, "s3", "createBucket", json!({ "Bucket": "data" })).await;
    let put = ok(
        &moto,
        "s3",
        "putObject",
        json!({ "Bucket": "data", "Key": "dir/a b+c.txt", "Body": "héllo, world",
        "ContentType": "text/plain", "Metadata": { "owner": "dmap" } }),
    )
    .await;
    assert!(put["ETag"].as_str().is_some_and(|e| e.starts_with('"')), "{put}");
    let seen = moto.python(
        "import boto3\no=boto3.client('s3').get_object(Bucket='data',Key='dir/a b+c.txt')\n\
         print(o['Body'].read().decode());print(o['Metadata']['owner'])",
    );
    assert_eq!(seen.lines().collect::<Vec<_>>(), ["héllo, world", "dmap"]);
    let got = ok(&moto, "s3", "getObject", json!({ "Bucket": "data", "Key": "dir/a b+c.txt" })).await;
    assert_eq!(got["Body"], json!("héllo, world"));
    assert_eq!(got["ContentLength"], json!("héllo, world".len()));
    assert_eq!(got["ContentType"], json!("text/plain"));
    assert_eq!(got["Metadata"], json!({ "owner": "dmap" }));
    assert!(is_state_timestamp(&got["LastModified"]), "{got}");
    let listed = ok(&moto, "s3", "listObjectsV2", json!({ "Bucket": "data", "Prefix": "dir/" })).await;
    assert_eq!(listed["KeyCount"], json!(1), "{listed}");
    assert_eq!(listed["IsTruncated"], json!(false));
    let object = &listed["Contents"][0];
    assert_eq!((&object["Key"], &object["Size"]), (&json!("dir/a b+c.txt"), &json!(13)));
    assert!(is_state_timestamp(&object["LastModified"]), "{listed}");
    let head = err(&moto, "s3", "headObject", json!({ "Bucket": "data", "Key": "nope" })).await;
    assert_eq!((head.status, head.code.as_str()), (404, "NotFound"), "{head:?}");
    let get = err(&moto, "s3", "getObject", json!({ "Bucket": "data", "Key": "nope" })).await;
    assert_eq!((get.status, get.code.as_str()), (404, "NoSuchKey"), "{get:?}");
    // DeleteObjects needs Content-MD5: moto checks it as S3 does.
    let deleted = ok(
        &moto,
        "s3",
        "deleteObjects",
        json!({ "Bucket": "data",
        "Delete": { "Objects": [{ "Key": "dir/a b+c.txt" }] } }),
    )
    .await;
    assert_eq!(deleted["Deleted"][0]["Key"], json!("dir/a b+c.txt"), "{deleted}");
    let left = moto.python("import boto3\nprint(boto3.client('s3').list_objects_v2(Bucket='data')['KeyCount'])");
    assert_eq!(left.trim(), "0");
}

#[tokio::test]
async fn ec2_creates_and_describes_a_vpc_and_its_regions() {
    let moto = Moto::start();
    let created = ok(
        &moto,
        "ec2",
        "createVpc",
        json!({ "CidrBlock": "10.1.0.0/16",
        "TagSpecifications": [{ "ResourceType": "vpc", "Tags": [{ "Key": "Name", "Value": "dmap" }] }] }),
    )
    .await;
    let id = created["Vpc"]["VpcId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("vpc-"), "{created}");
    let described = ok(&moto, "ec2", "describeVpcs", json!({ "VpcIds": [id] })).await;
    let vpc = &described["Vpcs"][0];
    assert_eq!(vpc["CidrBlock"], json!("10.1.0.0/16"), "{described}");
    assert_eq!(vpc["IsDefault"], json!(false));
    assert_eq!(vpc["Tags"], json!([{ "Key": "Name", "Value": "dmap" }]));
    let seen = moto.python(&format!(
        "import boto3\nprint(boto3.client('ec2').describe_vpcs(VpcIds=['{id}'])['Vpcs'][0]['Tags'][0]['Value'])"
    ));
    assert_eq!(seen.trim(), "dmap");
    let regions = ok(&moto, "ec2", "describeRegions", json!({ "RegionNames": ["us-east-1", "eu-west-1"] })).await;
    let names: Vec<&str> =
        regions["Regions"].as_array().unwrap().iter().filter_map(|r| r["RegionName"].as_str()).collect();
    assert_eq!(names, ["us-east-1", "eu-west-1"], "{regions}");
    let missing = err(&moto, "ec2", "describeVpcs", json!({ "VpcIds": ["vpc-00000000"] })).await;
    assert_eq!(missing.code, "InvalidVpcID.NotFound", "{missing:?}");
}
