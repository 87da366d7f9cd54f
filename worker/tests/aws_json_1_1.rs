//! The generic AWS client against moto in awsJson 1.1 (Secrets Manager, SSM): the target and
//! content type of 1.1, values written by dmap read back by boto3 and the other way round.

use serde_json::json;
use testkit::Moto;
use worker::integrations::aws::profile::Env;
use worker::integrations::aws::{ApiError, Aws, AwsOptions};

fn client(moto: &Moto) -> Aws {
    Aws::new(AwsOptions { env: Some(Env::from_pairs(moto.env())), ..AwsOptions::default() }).unwrap()
}

#[tokio::test]
async fn secrets_written_by_dmap_are_read_by_boto3_and_back() {
    let moto = Moto::start();
    let aws = client(&moto);
    let created = aws
        .call_api("secretsmanager", "createSecret", &json!({"Name": "db", "SecretString": "hunter2"}), None)
        .await
        .unwrap();
    assert_eq!(created.output["Name"], "db");
    let seen = moto
        .python("import boto3\nprint(boto3.client('secretsmanager').get_secret_value(SecretId='db')['SecretString'])");
    assert_eq!(seen.trim(), "hunter2");
    moto.python("import boto3\nboto3.client('secretsmanager').put_secret_value(SecretId='db', SecretString='s3cret')");
    let got = aws.call_api("secretsmanager", "getSecretValue", &json!({"SecretId": "db"}), None).await.unwrap();
    assert_eq!(got.output["SecretString"], "s3cret");
    let err = aws.call_api("secretsmanager", "getSecretValue", &json!({"SecretId": "nope"}), None).await.unwrap_err();
    // AWS answers 400, moto 404: the code is what names the error.
    assert!(matches!(&err, ApiError::Service { code, .. } if code == "ResourceNotFoundException"), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("Secrets Manager can't find the specified secret. (Service: SecretsManager, Status Code: "),
        "{err}"
    );
}

#[tokio::test]
async fn ssm_parameters_round_trip() {
    let moto = Moto::start();
    let aws = client(&moto);
    let put = json!({"Name": "/app/limit", "Value": "42", "Type": "String"});
    let out = aws.call_api("ssm", "putParameter", &put, None).await.unwrap();
    assert_eq!(out.output["Version"], 1);
    let seen =
        moto.python("import boto3\nprint(boto3.client('ssm').get_parameter(Name='/app/limit')['Parameter']['Value'])");
    assert_eq!(seen.trim(), "42");
    let got = aws.call_api("ssm", "getParameter", &json!({"Name": "/app/limit"}), None).await.unwrap();
    assert_eq!((&got.output["Parameter"]["Value"], &got.output["Parameter"]["Type"]), (&json!("42"), &json!("String")));
    assert!(got.output["Parameter"]["LastModifiedDate"].as_str().is_some_and(|d| d.ends_with('Z')));
}

#[tokio::test]
async fn a_host_prefix_is_left_off_a_loopback_endpoint() {
    // Cloud Map's DiscoverInstances goes to `data-servicediscovery…` on AWS; a local endpoint
    // (an IP address) takes it as it is, as AWS's SDKs do.
    let moto = Moto::start();
    moto.python(
        "import boto3\nc = boto3.client('servicediscovery')\nc.create_http_namespace(Name='shop')\n\
         ns = c.list_namespaces()['Namespaces'][0]['Id']\n\
         svc = c.create_service(Name='orders', NamespaceId=ns)['Service']['Id']\n\
         c.register_instance(ServiceId=svc, InstanceId='i-1', Attributes={'AWS_INSTANCE_IPV4': '10.0.0.7'})",
    );
    let aws = client(&moto);
    let found = aws
        .call_api(
            "servicediscovery",
            "discoverInstances",
            &json!({"NamespaceName": "shop", "ServiceName": "orders"}),
            None,
        )
        .await
        .unwrap();
    let instances = found.output["Instances"].as_array().unwrap();
    assert_eq!(instances.len(), 1, "{}", found.output);
    assert_eq!(
        (&instances[0]["InstanceId"], &instances[0]["Attributes"]["AWS_INSTANCE_IPV4"]),
        (&json!("i-1"), &json!("10.0.0.7"))
    );
}
