//! Roles through moto's STS (awsQuery): a Task's `Credentials.RoleArn` is assumed and the call
//! is made as that role; web identity (IRSA) credentials come from AssumeRoleWithWebIdentity.
//! moto's GetCallerIdentity tells which identity signed a call.

use serde_json::json;
use shared::asl::eval::TaskRequest;
use testkit::Moto;
use worker::integrations::aws::profile::Env;
use worker::integrations::aws::{Aws, AwsOptions, sdk};

const ROLE: &str = "arn:aws:iam::123456789012:role/orders-writer";

fn caller_identity_task(credentials: Option<serde_json::Value>) -> TaskRequest {
    TaskRequest {
        state_name: "Who".into(),
        resource: std::sync::Arc::new(
            shared::asl::resource::Resource::parse("arn:aws:states:::aws-sdk:sts:getCallerIdentity").unwrap(),
        ),
        input: json!({}),
        timeout_seconds: 30,
        heartbeat_seconds: None,
        credentials,
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:Orders:run-1".into(),
        call_id: 2,
        task_token: None,
    }
}

#[tokio::test]
async fn a_task_s_role_arn_is_assumed_and_the_call_made_as_that_role() {
    let moto = Moto::start();
    let aws = Aws::new(AwsOptions { env: Some(Env::from_pairs(moto.env())), ..AwsOptions::default() }).unwrap();
    let own = sdk::invoke(&aws, &caller_identity_task(None)).await.unwrap();
    assert!(!own["Arn"].as_str().unwrap().contains("assumed-role"), "{own}");
    let task = caller_identity_task(Some(json!({"RoleArn": ROLE})));
    let assumed = sdk::invoke(&aws, &task).await.unwrap();
    assert_eq!(assumed["Arn"], "arn:aws:sts::123456789012:assumed-role/orders-writer/dmap-Orders");
    // The second call reuses the cached role credentials: moto saw one AssumeRole, with the
    // state machine's ARN as external id.
    let again = sdk::invoke(&aws, &task).await.unwrap();
    assert_eq!(again["Arn"], assumed["Arn"]);
    let roles = moto.python(
        "import json, os, urllib.request\n\
         data = json.load(urllib.request.urlopen(os.environ['AWS_ENDPOINT_URL'] + '/moto-api/data.json'))\n\
         print(json.dumps([(r['role_arn'], r['session_name'], r['external_id']) for r in data['sts']['AssumedRole']]))",
    );
    let expected = json!([[ROLE, "dmap-Orders", "arn:aws:states:us-east-1:123456789012:stateMachine:Orders"]]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&roles).unwrap(), expected);
}

#[tokio::test]
async fn web_identity_credentials_come_from_sts_without_keys() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n").unwrap();
    let mut env: Vec<(&str, String)> =
        moto.env().into_iter().filter(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET")).collect();
    env.push(("AWS_WEB_IDENTITY_TOKEN_FILE", token.display().to_string()));
    env.push(("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/pod-role".into()));
    env.push(("AWS_ROLE_SESSION_NAME", "pod-1".into()));
    env.push(("AWS_CONFIG_FILE", dir.path().join("none").display().to_string()));
    env.push(("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none").display().to_string()));
    let aws = Aws::new(AwsOptions { env: Some(Env::from_pairs(env)), ..AwsOptions::default() }).unwrap();
    let who = sdk::invoke(&aws, &caller_identity_task(None)).await.unwrap();
    assert_eq!(who["Arn"], "arn:aws:sts::123456789012:assumed-role/pod-role/pod-1");
}
