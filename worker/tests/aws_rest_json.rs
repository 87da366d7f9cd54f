//! The generic AWS client against moto in restJson1 (API Gateway, Lambda): members bound to the
//! URI and query string, JSON bodies, `locationName`s renamed to the API's member names, and
//! errors read from the `x-amzn-ErrorType` header.

use serde_json::json;
use shared::asl::eval::TaskRequest;
use testkit::Moto;
use worker::integrations::aws::profile::Env;
use worker::integrations::aws::{Aws, AwsOptions, sdk};

fn client(moto: &Moto) -> Aws {
    Aws::new(AwsOptions { env: Some(Env::from_pairs(moto.env())), ..AwsOptions::default() }).unwrap()
}

#[tokio::test]
async fn api_gateway_rest_apis_are_created_and_listed_with_the_api_s_member_names() {
    let moto = Moto::start();
    let aws = client(&moto);
    let created = aws
        .call_api(
            "apigateway",
            "createRestApi",
            &json!({"Name": "shop", "Description": "orders", "Tags": {"team": "a"}}),
            None,
        )
        .await
        .unwrap();
    // AWS answers 201; moto 200. Either is a success.
    assert!((200..300).contains(&created.status));
    let id = created.output["Id"].as_str().unwrap().to_owned();
    let listed = moto.python("import boto3\nprint([(a['id'], a['name'], a['description']) for a in boto3.client('apigateway').get_rest_apis()['items']])");
    assert_eq!(listed.trim(), format!("[('{id}', 'shop', 'orders')]"));
    // `items` travels as `item` (its locationName) and reaches the state as `Items`.
    let got = aws.call_api("apigateway", "getRestApis", &json!({"Limit": 10}), None).await.unwrap();
    let apis = got.output["Items"].as_array().unwrap();
    assert_eq!((apis.len(), &apis[0]["Id"], &apis[0]["Name"]), (1, &json!(id), &json!("shop")));
    assert!(apis[0]["CreatedDate"].as_str().is_some_and(|d| d.len() == 24 && d.ends_with('Z')), "{}", apis[0]);
    // A URI label.
    let one = aws.call_api("apigateway", "getRestApi", &json!({"RestApiId": id}), None).await.unwrap();
    assert_eq!(one.output["Tags"], json!({"team": "a"}));
}

#[tokio::test]
async fn a_missing_resource_is_the_service_s_error_code_from_the_header() {
    let moto = Moto::start();
    let aws = client(&moto);
    let request = TaskRequest {
        state_name: "Get".into(),
        resource: std::sync::Arc::new(
            shared::asl::resource::Resource::parse("arn:aws:states:::aws-sdk:lambda:getFunction").unwrap(),
        ),
        input: json!({"FunctionName": "nope"}),
        timeout_seconds: 30,
        heartbeat_seconds: None,
        credentials: None,
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:M:e".into(),
        call_id: 2,
        task_token: None,
    };
    let failure = sdk::invoke(&aws, &request).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("Lambda.ResourceNotFoundException"));
    let cause = failure.cause.unwrap();
    assert!(cause.contains("(Service: Lambda, Status Code: 404, Request ID: "), "{cause}");
    let listed = aws.call_api("lambda", "listFunctions", &json!({"MaxItems": 5}), None).await.unwrap();
    assert_eq!(listed.output["Functions"], json!([]));
}

#[tokio::test]
async fn a_plain_signed_request_travels_over_the_same_pool() {
    // `Aws::send` is API Gateway invoke's way out: any URL, signed for a signing name.
    let moto = Moto::start();
    let aws = client(&moto);
    let sent = aws
        .send(
            "GET",
            &format!("{}/moto-api/data.json", moto.url()),
            vec![("Accept".into(), "application/json".into())],
            vec![],
            Some("execute-api"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(sent.status, 200);
    let data: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
    assert!(data.is_object(), "{data}");
    let missing = aws.send("GET", &format!("{}/no/such/path", moto.url()), vec![], vec![], None, None).await.unwrap();
    assert_eq!(missing.status, 404, "an HTTP error status is an answer, not an error");
}
