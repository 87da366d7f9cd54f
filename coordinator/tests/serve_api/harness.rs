//! Starts a server and speaks AWS JSON 1.0 to it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use coordinator::serve::api::arn::Scope;
use coordinator::serve::api::definition::AcceptAll;
use coordinator::serve::api::{Ctx, Executions};
use coordinator::serve::auth::{AccessKeys, Policy};
use coordinator::serve::engine::{Engine, EngineOptions};
use coordinator::serve::engine::{EngineError, MapRunError, MapRunUpdate, StartSpec, Started, SyncOutcome};
use coordinator::serve::http::metrics::Metrics;
use coordinator::serve::http::{Authenticator, DEFAULT_BODY_LIMIT, Handle, Options, Server};
use coordinator::serve::setup::{self, HostOptions};
use coordinator::serve::store::sqlite::Sqlite;
use coordinator::serve::store::{Store, Write};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use worker::integrations::aws::credentials::Credentials;
use worker::integrations::aws::sign::{Scope as SigningScope, Signer};

/// The secret of `AKIDEXAMPLE` on [`Api::with_keys`] servers (AWS's documentation example).
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/service-role/StepFunctions-HelloWorld";
pub const PASS: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;
pub const PASS_B: &str = r#"{"StartAt":"B","States":{"B":{"Type":"Pass","Result":1,"End":true}}}"#;

/// A stand-in for the engine that records what the API asked it to start, and answers as
/// the engine does for a new execution.
#[derive(Default)]
pub struct Recorder {
    pub started: Mutex<Vec<StartSpec>>,
}

impl Executions for Recorder {
    fn start(&self, spec: StartSpec) -> BoxFuture<'_, Result<Started, EngineError>> {
        let record = spec.record(Utc::now());
        self.started.lock().expect("recorder").push(spec);
        Box::pin(async move { Ok(Started::New(record)) })
    }
    fn start_sync(&self, spec: StartSpec) -> BoxFuture<'_, Result<SyncOutcome, EngineError>> {
        let now = Utc::now();
        let outcome = SyncOutcome {
            status: "SUCCEEDED",
            output: Some(spec.input.clone()),
            error: None,
            cause: None,
            start_date: now,
            stop_date: now + chrono::Duration::milliseconds(150),
        };
        self.started.lock().expect("recorder").push(spec);
        Box::pin(async move { Ok(outcome) })
    }
    fn stop<'a>(
        &'a self,
        _: &'a str,
        _: Option<String>,
        _: Option<String>,
    ) -> BoxFuture<'a, Result<DateTime<Utc>, EngineError>> {
        Box::pin(async { Ok(Utc::now()) })
    }
    fn redrive<'a>(&'a self, _: &'a str, _: Option<&'a str>) -> BoxFuture<'a, Result<DateTime<Utc>, EngineError>> {
        Box::pin(async { Ok(Utc::now()) })
    }
    fn update_map_run(&self, _: &str, _: MapRunUpdate) -> Result<(), MapRunError> {
        Ok(())
    }
    fn map_run(&self, _: &str) -> Option<coordinator::serve::store::MapRunRecord> {
        None
    }
}

pub struct Api {
    pub url: String,
    pub store: Arc<Sqlite>,
    pub recorder: Arc<Recorder>,
    client: reqwest::Client,
    handle: Option<Handle>,
    _dir: tempfile::TempDir,
}

impl Api {
    pub async fn start() -> Api {
        Api::with_limit(DEFAULT_BODY_LIMIT).await
    }

    pub async fn with_limit(body_limit: usize) -> Api {
        Api::build(body_limit, None, false).await
    }

    /// A server that verifies SigV4 signatures made with `AKIDEXAMPLE`'s secret.
    pub async fn with_keys() -> Api {
        let keys = AccessKeys::new([("AKIDEXAMPLE", SECRET)]).expect("keys");
        let policy = Policy::decide("127.0.0.1:0".parse().expect("an address"), Some(keys), false, "us-east-1")
            .expect("a policy");
        Api::build(DEFAULT_BODY_LIMIT, Some(Arc::new(policy)), false).await
    }

    /// A server whose executions run on dmap's engine with the embedded host.
    pub async fn with_engine() -> Api {
        Api::build(DEFAULT_BODY_LIMIT, None, true).await
    }

    async fn build(body_limit: usize, auth: Option<Arc<dyn Authenticator>>, real_engine: bool) -> Api {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Arc::new(Sqlite::open(dir.path()).expect("the store"));
        let recorder = Arc::new(Recorder::default());
        let activities = Arc::new(coordinator::serve::activities::Activities::new(store.clone() as Arc<dyn Store>));
        let mut callbacks = None;
        let executions: Arc<dyn Executions> = if real_engine {
            let setup =
                setup::build(&HostOptions::default(), store.clone() as Arc<dyn Store>, Some(activities.clone()))
                    .await
                    .expect("the embedded host");
            callbacks = Some(setup.callbacks.clone());
            let options = EngineOptions {
                region: "us-east-1".into(),
                account: "123456789012".into(),
                max_payload_bytes: setup.max_payload_bytes,
                mocks: None,
            };
            Arc::new(Engine::new(store.clone(), setup.host, setup.map_runs, options))
        } else {
            recorder.clone()
        };
        let ctx = Ctx {
            store: store.clone() as Arc<dyn Store>,
            executions,
            scope: Scope::new("us-east-1"),
            support: Some(Arc::new(AcceptAll)),
            machines: Default::default(),
            activities,
            callbacks,
        };
        let mut options = Options::new("127.0.0.1:0".parse().expect("an address"));
        options.body_limit = body_limit;
        let server = Server::bind(&options, ctx, Arc::new(Metrics::new()), auth).await.expect("bound");
        let handle = server.start().expect("serving");
        Api {
            url: format!("http://{}", handle.addr()),
            store,
            recorder,
            client: reqwest::Client::new(),
            handle: Some(handle),
            _dir: dir,
        }
    }

    /// Sends raw bytes with a target; the status and the parsed body.
    pub async fn raw(&self, target: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut request =
            self.client.post(format!("{}/", self.url)).header("content-type", "application/x-amz-json-1.0").body(body);
        if let Some(t) = target {
            request = request.header("x-amz-target", t);
        }
        let response = request.send().await.expect("an answer");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
    }

    pub async fn call(&self, action: &str, body: Value) -> (u16, Value) {
        self.raw(Some(&format!("AWSStepFunctions.{action}")), body.to_string().into_bytes()).await
    }

    /// A successful call's answer.
    pub async fn ok(&self, action: &str, body: Value) -> Value {
        let (status, answer) = self.call(action, body).await;
        assert_eq!(status, 200, "{action}: {answer}");
        answer
    }

    /// A failed call's `__type` and message (HTTP 400).
    pub async fn fails(&self, action: &str, body: Value) -> (String, String) {
        let (status, answer) = self.call(action, body).await;
        assert_eq!(status, 400, "{action}: {answer}");
        (answer["__type"].as_str().unwrap_or("").to_string(), answer["message"].as_str().unwrap_or("").to_string())
    }

    /// Sends `body` to `action` signed with SigV4 by the worker's signer for `secret`.
    pub async fn signed(&self, action: &str, body: Value, secret: &str) -> (u16, Value) {
        let body = body.to_string().into_bytes();
        let host = self.url.trim_start_matches("http://").to_string();
        let mut headers = vec![
            ("content-type".to_string(), "application/x-amz-json-1.0".to_string()),
            ("host".to_string(), host),
            ("x-amz-target".to_string(), format!("AWSStepFunctions.{action}")),
        ];
        let credentials = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: secret.into(),
            session_token: None,
            expires: None,
        };
        let scope = SigningScope { credentials: &credentials, region: "us-east-1", service: "states", now: Utc::now() };
        Signer::default().sign("POST", "/", &mut headers, &body, scope);
        let mut request = self.client.post(format!("{}/", self.url)).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("an answer");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.client.get(format!("{}{path}", self.url)).send().await.expect("an answer");
        (response.status().as_u16(), response.text().await.expect("a body"))
    }

    /// Creates a state machine; its ARN.
    pub async fn create(&self, name: &str, definition: &str, extra: Value) -> String {
        let mut body = json!({"name": name, "definition": definition, "roleArn": ROLE});
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
            b.extend(extra);
        }
        self.ok("CreateStateMachine", body).await["stateMachineArn"].as_str().expect("an ARN").to_string()
    }

    pub async fn commit(&self, unit: Vec<Write>) {
        self.store.commit(unit).await.expect("committed");
    }

    pub async fn stop(mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
    }
}

pub fn arn(resource: &str) -> String {
    format!("arn:aws:states:us-east-1:123456789012:{resource}")
}
