//! AWS's credential chain as dmap resolves it: which source wins for an environment and shared
//! files, the sources that fetch (credential_process, container endpoint, IMDSv2 — served here by
//! a small loopback responder), and the cache's single refresh.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use worker::integrations::aws::credentials::{self, Cached, Credentials, CredentialsError, Source, Sts};
use worker::integrations::aws::profile::{Env, Profiles};

fn resolve(config: &str, credentials_file: &str, vars: &[(&str, &str)]) -> Result<Source, CredentialsError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config"), config).unwrap();
    std::fs::write(dir.path().join("credentials"), credentials_file).unwrap();
    let mut env: Vec<(String, String)> = vec![
        ("AWS_CONFIG_FILE".into(), dir.path().join("config").display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE".into(), dir.path().join("credentials").display().to_string()),
    ];
    env.extend(vars.iter().map(|(a, b)| (a.to_string(), b.to_string())));
    let env = Env::from_pairs(env);
    credentials::chain(&env, &Profiles::load(&env))
}

fn key_id(source: &Source) -> &str {
    match source {
        Source::Static(c) => &c.access_key_id,
        other => panic!("not static keys: {other:?}"),
    }
}

#[test]
fn environment_keys_win_then_the_profile_then_web_identity_container_and_imds() {
    let creds = "[default]\naws_access_key_id = PROFILE\naws_secret_access_key = s\n\
                 [dev]\naws_access_key_id = DEV\naws_secret_access_key = s\n";
    let env_keys = [("AWS_ACCESS_KEY_ID", "ENV"), ("AWS_SECRET_ACCESS_KEY", "s"), ("AWS_SESSION_TOKEN", "t")];
    let s = resolve("", creds, &env_keys).unwrap();
    assert_eq!(key_id(&s), "ENV");
    assert!(matches!(&s, Source::Static(c) if c.session_token.as_deref() == Some("t")));
    assert_eq!(key_id(&resolve("", creds, &[]).unwrap()), "PROFILE");
    assert_eq!(key_id(&resolve("", creds, &[("AWS_PROFILE", "dev")]).unwrap()), "DEV");
    // A profile with only a region is no credentials source: the chain goes on.
    let web = [("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"), ("AWS_ROLE_ARN", "arn:aws:iam::1:role/pod")];
    let s = resolve("[default]\nregion = eu-west-1\n", "", &web).unwrap();
    assert!(matches!(&s, Source::WebIdentity { role_arn, .. } if role_arn == "arn:aws:iam::1:role/pod"), "{s:?}");
    let s = resolve("", "", &[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds/abc")]).unwrap();
    assert!(matches!(&s, Source::Container { uri, .. } if uri == "http://169.254.170.2/v2/creds/abc"), "{s:?}");
    let s = resolve("", "", &[]).unwrap();
    assert!(matches!(&s, Source::Imds { endpoint } if endpoint == "http://169.254.169.254"), "{s:?}");
    assert!(matches!(resolve("", "", &[("AWS_EC2_METADATA_DISABLED", "true")]), Err(CredentialsError::NotFound)));
}

#[test]
fn profiles_assume_roles_over_their_source_profile_or_run_a_process() {
    let config = "[profile admin]\nrole_arn = arn:aws:iam::2:role/admin\nsource_profile = base\nexternal_id = x-1\n\
                  [profile base]\naws_access_key_id = BASE\naws_secret_access_key = s\n\
                  [profile proc]\ncredential_process = /bin/get-creds --json\n\
                  [profile loop]\nrole_arn = arn:aws:iam::2:role/r\nsource_profile = loop2\n\
                  [profile loop2]\nrole_arn = arn:aws:iam::2:role/r\nsource_profile = loop\n";
    let s = resolve(config, "", &[("AWS_PROFILE", "admin")]).unwrap();
    let Source::AssumeRole { role_arn, external_id, base, .. } = &s else { panic!("{s:?}") };
    assert_eq!(
        (role_arn.as_str(), external_id.as_deref(), key_id(base)),
        ("arn:aws:iam::2:role/admin", Some("x-1"), "BASE")
    );
    let s = resolve(config, "", &[("AWS_PROFILE", "proc")]).unwrap();
    assert!(matches!(&s, Source::Process(c) if c == "/bin/get-creds --json"), "{s:?}");
    let e = resolve(config, "", &[("AWS_PROFILE", "loop")]).unwrap_err();
    assert!(e.to_string().contains("too long (or loops)"), "{e}");
}

/// An STS that counts its calls and hands out credentials valid for `valid_for`.
struct FakeSts {
    calls: AtomicUsize,
    valid_for: Duration,
}

impl Sts for FakeSts {
    fn call<'a>(
        &'a self,
        signed: Option<&'a Credentials>,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, String>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            assert_eq!(operation, "AssumeRole");
            assert_eq!(signed.map(|c| c.access_key_id.as_str()), Some("BASE"));
            assert_eq!(input["RoleArn"], "arn:aws:iam::2:role/r");
            let expires = (Utc::now() + self.valid_for).to_rfc3339();
            Ok(
                json!({"Credentials": {"AccessKeyId": format!("ASIA{n}"), "SecretAccessKey": "s", "SessionToken": "t", "Expiration": expires}}),
            )
        })
    }
}

fn assume_role() -> Source {
    let base =
        Credentials { access_key_id: "BASE".into(), secret_access_key: "s".into(), session_token: None, expires: None };
    Source::AssumeRole {
        role_arn: "arn:aws:iam::2:role/r".into(),
        session_name: "dmap".into(),
        external_id: None,
        base: Box::new(Source::Static(base)),
    }
}

#[tokio::test]
async fn many_callers_of_an_expired_entry_wait_for_one_refresh_and_share_it() {
    let sts = Arc::new(FakeSts { calls: AtomicUsize::new(0), valid_for: Duration::hours(1) });
    let cache = Arc::new(Cached::new(assume_role()));
    let http = reqwest::Client::new();
    let gets = (0..20).map(|_| {
        let (cache, sts, http) = (cache.clone(), sts.clone(), http.clone());
        tokio::spawn(async move { cache.get(&http, sts.as_ref()).await.unwrap().access_key_id.clone() })
    });
    let ids = futures::future::join_all(gets).await.into_iter().map(Result::unwrap).collect::<Vec<_>>();
    assert!(ids.iter().all(|id| id == "ASIA0"), "{ids:?}");
    assert_eq!(sts.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn credentials_within_five_minutes_of_expiry_are_refreshed() {
    let sts = FakeSts { calls: AtomicUsize::new(0), valid_for: Duration::minutes(4) };
    let cache = Cached::new(assume_role());
    let http = reqwest::Client::new();
    assert_eq!(cache.get(&http, &sts).await.unwrap().access_key_id, "ASIA0");
    assert_eq!(cache.get(&http, &sts).await.unwrap().access_key_id, "ASIA1");
    assert_eq!(sts.calls.load(Ordering::SeqCst), 2);
}

/// Serves each request with `answer(method, path, headers)` until dropped.
async fn responder(answer: fn(&str, &str, &str) -> (u16, String)) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let n = socket.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
            let mut line = head.lines().next().unwrap_or("").split(' ');
            let (method, path) = (line.next().unwrap_or("").to_owned(), line.next().unwrap_or("").to_owned());
            let (status, body) = answer(&method, &path, &head);
            let reply =
                format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    url
}

const CREDS_JSON: &str =
    r#"{"AccessKeyId":"ASIAMETA","SecretAccessKey":"s","Token":"tok","Expiration":"2099-01-01T00:00:00Z"}"#;

#[tokio::test]
async fn the_container_endpoint_is_asked_with_the_token_from_its_file() {
    let url = responder(|method, path, head| match (method, path) {
        ("get", "/creds") if head.contains("authorization: secret-token") => (200, CREDS_JSON.into()),
        _ => (403, "no".into()),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "secret-token\n").unwrap();
    let env = [
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("{url}/creds")),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file.display().to_string()),
    ];
    let source = resolve("", "", &env.iter().map(|(a, b)| (*a, b.as_str())).collect::<Vec<_>>()).unwrap();
    let sts = FakeSts { calls: AtomicUsize::new(0), valid_for: Duration::hours(1) };
    let c = credentials::fetch(&source, &reqwest::Client::new(), &sts).await.unwrap();
    assert_eq!((c.access_key_id.as_str(), c.session_token.as_deref()), ("ASIAMETA", Some("tok")));
    assert_eq!(c.expires.map(|e| e.to_rfc3339()).as_deref(), Some("2099-01-01T00:00:00+00:00"));
}

#[tokio::test]
async fn imds_v2_takes_a_session_token_then_reads_the_role_s_credentials() {
    let url = responder(|method, path, head| match (method, path) {
        ("put", "/latest/api/token") if head.contains("x-aws-ec2-metadata-token-ttl-seconds: 21600") => {
            (200, "TKN".into())
        }
        ("get", "/latest/meta-data/iam/security-credentials/") if head.contains("x-aws-ec2-metadata-token: tkn") => {
            (200, "web-role\n".into())
        }
        ("get", "/latest/meta-data/iam/security-credentials/web-role")
            if head.contains("x-aws-ec2-metadata-token: tkn") =>
        {
            (200, CREDS_JSON.into())
        }
        _ => (401, String::new()),
    })
    .await;
    let source = resolve("", "", &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", url.as_str())]).unwrap();
    let sts = FakeSts { calls: AtomicUsize::new(0), valid_for: Duration::hours(1) };
    let c = credentials::fetch(&source, &reqwest::Client::new(), &sts).await.unwrap();
    assert_eq!(c.access_key_id, "ASIAMETA");
}

#[tokio::test]
async fn credential_process_prints_version_1_json() {
    let command = format!("printf '%s' '{}'", r#"{"Version":1,"AccessKeyId":"PROC","SecretAccessKey":"s"}"#);
    let sts = FakeSts { calls: AtomicUsize::new(0), valid_for: Duration::hours(1) };
    let c = credentials::fetch(&Source::Process(command), &reqwest::Client::new(), &sts).await.unwrap();
    assert_eq!((c.access_key_id.as_str(), c.expires), ("PROC", None));
    let e = credentials::fetch(&Source::Process("exit 3".into()), &reqwest::Client::new(), &sts).await.unwrap_err();
    assert!(e.to_string().contains("`exit 3` failed"), "{e}");
}
