//! The [`Host`] that `dmap test` runs executions through: a manual clock and the case's task
//! mocks. Nothing here waits or calls out, so every future it returns is ready at once and an
//! execution finishes in one go, deterministically, however long its Waits, retries or
//! `TimeoutSeconds` are.
//!
//! The clock starts at the real time the case starts, so that Wait timestamps recorded in the
//! past are in the past here too; `sleep_until` moves it to the deadline at once.

use std::panic::resume_unwind;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::asl::Failure;
use shared::asl::error_name::TASK_FAILED;
use shared::asl::eval::{Host, TaskRequest};

use shared::asl::resource::Target;
use worker::integrations::lambda::{bare_name, invoke_response};

use super::case::{Behaviour, Integration, LAMBDA_INVOKE, TaskMock};
use super::functions::Functions;

/// How many times an execution may read the clock (about once per state entered) before the
/// run is abandoned as runaway: far above AWS's 25,000 history events per execution, so only
/// an engine that loops without end reaches it.
const CLOCK_READ_BUDGET: u64 = 5_000_000;

/// The payload [`TestHost`] unwinds with when an execution exceeds [`CLOCK_READ_BUDGET`].
#[derive(Debug)]
pub struct Runaway;

pub struct TestHost {
    clock: Mutex<DateTime<Utc>>,
    mocks: Vec<TaskMock>,
    clock_reads: AtomicU64,
    invocations: AtomicU64,
    /// Sleeps wait for `advance` (see [`TestHost::discrete`]).
    discrete: bool,
    deadlines: Mutex<Vec<(DateTime<Utc>, std::task::Waker)>>,
    functions: Option<Functions>,
}

impl TestHost {
    pub fn new(start: DateTime<Utc>, mocks: Vec<TaskMock>) -> Self {
        TestHost {
            clock: Mutex::new(start),
            mocks,
            clock_reads: AtomicU64::new(0),
            invocations: AtomicU64::new(0),
            discrete: false,
            deadlines: Mutex::new(Vec::new()),
            functions: None,
        }
    }

    /// A host whose sleeps wait for [`TestHost::advance`] (driven by a poll loop that knows
    /// when everything is blocked) instead of jumping the clock at once.
    pub fn discrete(start: DateTime<Utc>, mocks: Vec<TaskMock>) -> Self {
        TestHost { discrete: true, ..TestHost::new(start, mocks) }
    }

    /// Serves the Lambda mocks that [`super::functions::for_mocks`] made real functions through
    /// the Lambda integration.
    pub fn with_functions(mut self, functions: Option<Functions>) -> Self {
        self.functions = functions;
        self
    }

    fn is_function(&self, f: &Functions, request: &TaskRequest) -> bool {
        let name = if request.resource.is_lambda_invoke() {
            request.input.get("FunctionName").and_then(Value::as_str).and_then(bare_name)
        } else if let Target::Function { name } = &request.resource.target {
            Some(name.as_str())
        } else {
            None
        };
        name.is_some_and(|n| f.names.iter().any(|m| m == n))
    }

    /// Moves the clock to the earliest pending deadline; false when nobody sleeps.
    pub fn advance(&self) -> bool {
        let mut d = self.deadlines.lock().unwrap_or_else(|e| e.into_inner());
        let Some(next) = d.iter().map(|(t, _)| *t).min() else { return false };
        let now = {
            let mut clock = self.clock.lock().unwrap_or_else(|e| e.into_inner());
            if next > *clock {
                *clock = next;
            }
            *clock
        };
        let (due, waiting): (Vec<_>, Vec<_>) = d.drain(..).partition(|(t, _)| *t <= now);
        *d = waiting;
        drop(d);
        for (_, waker) in due {
            waker.wake();
        }
        true
    }

    fn time(&self) -> DateTime<Utc> {
        *self.clock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves one Task call from the mocks.
    fn serve(&self, request: &TaskRequest) -> Result<Value, Failure> {
        let lambda_invoke = request.resource.is_lambda_invoke();
        let function = lambda_invoke.then(|| request.input.get("FunctionName").and_then(Value::as_str)).flatten();
        let candidates: Vec<&TaskMock> =
            self.mocks.iter().filter(|m| serves(m, &request.resource.arn, function)).collect();
        let mock = candidates
            .iter()
            .find(|m| m.state.as_deref() == Some(request.state_name.as_str()))
            .or(candidates.first())
            .ok_or_else(|| missing(request, function))?;
        let event = match mock.integration() {
            Integration::LambdaInvoke => request.input.get("Payload").cloned().unwrap_or_else(|| json!({})),
            Integration::Direct => request.input.clone(),
        };
        let result = match mock.behaviour {
            Behaviour::Identity => event,
            Behaviour::Constant => mock.returns.clone(),
        };
        Ok(match mock.integration() {
            Integration::LambdaInvoke => self.invoke_response(result),
            Integration::Direct => result,
        })
    }

    /// Wraps a mock's result the way `lambda:invoke` returns it (the Lambda integration's own
    /// wrapper), with a request id counting the calls and the manual clock's date.
    fn invoke_response(&self, payload: Value) -> Value {
        let n = self.invocations.fetch_add(1, Ordering::Relaxed) + 1;
        let request_id = format!("00000000-0000-4000-8000-{n:012x}");
        invoke_response(payload, &request_id, self.time())
    }
}

impl Host for TestHost {
    fn now(&self) -> DateTime<Utc> {
        if self.clock_reads.fetch_add(1, Ordering::Relaxed) >= CLOCK_READ_BUDGET {
            // Not a bug report: `resume_unwind` skips the panic hook. The runner catches it.
            resume_unwind(Box::new(Runaway));
        }
        self.time()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        if !self.discrete {
            let mut clock = self.clock.lock().unwrap_or_else(|e| e.into_inner());
            if deadline > *clock {
                *clock = deadline;
            }
            return Box::pin(std::future::ready(()));
        }
        // Discrete-event time: the sleeper waits until the runner, finding every branch
        // blocked, moves the clock to the earliest deadline. So concurrent branches happen in
        // time order, as on a real clock, only instantly.
        Box::pin(std::future::poll_fn(move |cx| {
            if self.time() >= deadline {
                return std::task::Poll::Ready(());
            }
            // Combinators (FuturesUnordered) re-poll only what was woken: keep the waker.
            self.deadlines.lock().unwrap_or_else(|e| e.into_inner()).push((deadline, cx.waker().clone()));
            std::task::Poll::Pending
        }))
    }

    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        if let Some(f) = &self.functions
            && self.is_function(f, &request)
        {
            return Box::pin(f.integrations.invoke(request));
        }
        Box::pin(std::future::ready(self.serve(&request)))
    }
}

/// Whether `mock` stands for the integration a Task calls. `function` is the request's
/// `FunctionName` for `lambda:invoke`.
fn serves(mock: &TaskMock, resource: &str, function: Option<&str>) -> bool {
    if resource == LAMBDA_INVOKE {
        let wanted = mock.function.as_deref().unwrap_or("*");
        return mock.resource == resource
            && (wanted == "*" || function.is_some_and(|f| function_name(f) == function_name(wanted)));
    }
    mock.resource == resource
        || (resource.contains(":function:")
            && mock.resource.contains(":function:")
            && function_name(resource) == function_name(&mock.resource))
}

/// The bare function name of a name, a partial ARN (`123456789012:function:f`) or an ARN,
/// without a version or alias qualifier.
pub fn function_name(s: &str) -> &str {
    let rest = s.find(":function:").map_or(s, |i| &s[i + ":function:".len()..]);
    rest.split(':').next().unwrap_or(rest)
}

fn missing(request: &TaskRequest, function: Option<&str>) -> Failure {
    let what = match function {
        Some(f) => format!("Resource '{}' with FunctionName '{f}'", request.resource),
        None => format!("Resource '{}'", request.resource),
    };
    Failure::new(
        TASK_FAILED,
        format!("dmap test: no mock in the case's \"tasks\" serves Task state '{}' ({what})", request.state_name),
    )
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;

    fn mocks(v: Value) -> Vec<TaskMock> {
        serde_json::from_value(v).unwrap()
    }

    fn request(state: &str, resource: &str, input: Value) -> TaskRequest {
        TaskRequest {
            state_name: state.into(),
            resource: std::sync::Arc::new(shared::asl::resource::Resource::parse(resource).expect("a valid resource")),
            input,
            timeout_seconds: 60,
            heartbeat_seconds: None,
            credentials: None,
            execution_arn: "arn".into(),
            call_id: 2,
            task_token: None,
        }
    }

    fn ready<T>(f: impl Future<Output = T>) -> T {
        match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the test host never suspends"),
        }
    }

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-03-25T15:37:04Z").unwrap().to_utc()
    }

    #[test]
    fn sleeping_moves_the_clock_at_once_and_never_back() {
        let host = TestHost::new(start(), Vec::new());
        ready(host.sleep_until(start() + chrono::Duration::seconds(60)));
        assert_eq!(host.now(), start() + chrono::Duration::seconds(60));
        ready(host.sleep_until(start()));
        assert_eq!(host.now(), start() + chrono::Duration::seconds(60));
    }

    #[test]
    fn lambda_arn_mocks() {
        let arn = "arn:aws:lambda:us-east-1:111111111111:function:f";
        let m = mocks(json!([
            {"state": "A", "resource": arn, "behaviour": "identity"},
            {"state": "B", "resource": arn, "behaviour": "constant", "returns": {"k": 1}},
        ]));
        let host = TestHost::new(start(), m.clone());
        assert_eq!(ready(host.invoke_task(request("A", arn, json!({"x": 1})))), Ok(json!({"x": 1})));
        assert_eq!(ready(host.invoke_task(request("B", arn, json!({"x": 1})))), Ok(json!({"k": 1})));
        // A qualified ARN of the same function is served by its mock.
        assert_eq!(ready(host.invoke_task(request("A", &format!("{arn}:prod"), json!(2)))), Ok(json!(2)));
        let err =
            ready(host.invoke_task(request("C", "arn:aws:lambda:us-east-1:1:function:g", json!({})))).unwrap_err();
        assert_eq!(err.error.as_deref(), Some(TASK_FAILED));
        assert!(err.cause.unwrap().contains("function:g"));
    }

    #[test]
    fn lambda_invoke_matches_function_name_and_wraps_the_result() {
        let m = mocks(json!([
            {"resource": LAMBDA_INVOKE, "integration": "lambda:invoke", "function": "f", "behaviour": "identity"},
        ]));
        let host = TestHost::new(start(), m.clone());
        let by_arn = json!({"FunctionName": "arn:aws:lambda:us-east-1:1:function:f:live", "Payload": {"a": 1}});
        let got = ready(host.invoke_task(request("S", LAMBDA_INVOKE, by_arn))).unwrap();
        assert_eq!(got["Payload"], json!({"a": 1}));
        assert_eq!(got["StatusCode"], json!(200));
        assert_eq!(got["ExecutedVersion"], json!("$LATEST"));
        assert_eq!(got["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
        assert_eq!(got["SdkHttpMetadata"]["HttpHeaders"]["Date"], json!("Mon, 25 Mar 2024 15:37:04 GMT"));
        assert_eq!(got["SdkResponseMetadata"]["RequestId"], got["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"]);
        let no_payload = ready(host.invoke_task(request("S", LAMBDA_INVOKE, json!({"FunctionName": "f"})))).unwrap();
        assert_eq!(no_payload["Payload"], json!({}));
        let other = ready(host.invoke_task(request("S", LAMBDA_INVOKE, json!({"FunctionName": "g"}))));
        assert!(other.unwrap_err().cause.unwrap().contains("FunctionName 'g'"));
    }

    #[test]
    fn function_names() {
        assert_eq!(function_name("f"), "f");
        assert_eq!(function_name("f:alias"), "f");
        assert_eq!(function_name("123456789012:function:f"), "f");
        assert_eq!(function_name("arn:aws:lambda:us-east-1:123456789012:function:f:7"), "f");
    }
}
