//! Tests of the optimized integrations against a fake [`Api`] that records every call and
//! answers from answers written by hand after AWS's documented responses.

mod requests;
mod sync;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;

use super::{Api, ApiError, ApiOutput, Call, HttpRequest, HttpResponse, Options, Pattern, invoke};

pub const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:Orders:run-1";

type Answer = Result<ApiOutput, ApiError>;

/// Answers per `service:Operation`, in order; the last one repeats (a job that stays RUNNING).
#[derive(Default)]
pub struct Fake {
    answers: Mutex<HashMap<String, VecDeque<Answer>>>,
    calls: Mutex<Vec<(String, String, Value)>>,
    http_answers: Mutex<VecDeque<HttpResponse>>,
    sent: Mutex<Vec<(HttpRequest, Option<String>)>>,
}

impl Fake {
    pub fn new() -> Arc<Self> {
        Arc::new(Fake::default())
    }

    pub fn answer(self: &Arc<Self>, key: &str, output: Value) -> Arc<Self> {
        self.answer_with(key, Ok(ApiOutput::ok(output)))
    }

    pub fn answer_with(self: &Arc<Self>, key: &str, answer: Answer) -> Arc<Self> {
        self.answers.lock().unwrap().entry(key.into()).or_default().push_back(answer);
        Arc::clone(self)
    }

    pub fn http_answer(self: &Arc<Self>, response: HttpResponse) -> Arc<Self> {
        self.http_answers.lock().unwrap().push_back(response);
        Arc::clone(self)
    }

    /// Every call made, as `(service, operation, input)`.
    pub fn calls(&self) -> Vec<(String, String, Value)> {
        self.calls.lock().unwrap().clone()
    }

    /// The inputs of the calls of `service:Operation`.
    pub fn inputs(&self, key: &str) -> Vec<Value> {
        self.calls().into_iter().filter(|(s, o, _)| format!("{s}:{o}") == key).map(|(_, _, i)| i).collect()
    }

    pub fn sent(&self) -> Vec<(HttpRequest, Option<String>)> {
        self.sent.lock().unwrap().clone()
    }
}

impl Api for Fake {
    fn call<'a>(&'a self, service: &'a str, operation: &'a str, input: &'a Value) -> BoxFuture<'a, Answer> {
        self.calls.lock().unwrap().push((service.into(), operation.into(), input.clone()));
        let key = format!("{service}:{operation}");
        let mut answers = self.answers.lock().unwrap();
        let answer = match answers.get_mut(&key) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        };
        let answer = answer.unwrap_or_else(|| {
            Err(ApiError::Service {
                service: service.into(),
                status: 400,
                code: "NoRecordedAnswer".into(),
                message: key,
                request_id: None,
            })
        });
        Box::pin(async move { answer })
    }

    fn send<'a>(
        &'a self,
        request: HttpRequest,
        sign_as: Option<&'a str>,
    ) -> BoxFuture<'a, Result<HttpResponse, ApiError>> {
        self.sent.lock().unwrap().push((request, sign_as.map(str::to_owned)));
        let answer = self.http_answers.lock().unwrap().pop_front();
        Box::pin(async move { answer.ok_or_else(|| ApiError::Transport("no recorded HTTP answer".into())) })
    }
}

/// Runs `service:action` with `pattern` and `input`; `.sync` polls every second.
pub async fn run(fake: &Arc<Fake>, resource: &str, pattern: Pattern, input: Value) -> Result<Value, Failure> {
    run_for(fake, resource, pattern, input, None).await
}

pub async fn run_for(
    fake: &Arc<Fake>,
    resource: &str,
    pattern: Pattern,
    input: Value,
    timeout: Option<Duration>,
) -> Result<Value, Failure> {
    let (service, action) = resource.split_once(':').unwrap();
    let call = Call { service, action, pattern, input, timeout, execution_arn: EXECUTION };
    let options = Options { poll_interval: Some(Duration::from_secs(1)) };
    let api: Arc<dyn Api> = Arc::clone(fake) as Arc<dyn Api>;
    invoke(api, call, &options).await
}

pub fn error_of(result: Result<Value, Failure>) -> (String, Option<String>) {
    let failure = result.expect_err("the Task should fail");
    (failure.error.unwrap_or_default(), failure.cause)
}
