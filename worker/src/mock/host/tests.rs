use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use serde_json::json;
use shared::asl::parse_definition;

use super::*;
use crate::mock::config::MockConfig;
use crate::mock::select;

/// A base host that counts the calls that reach it and answers each with its state's name.
#[derive(Default)]
struct Base {
    calls: AtomicUsize,
}

impl Host for Base {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep_until(&self, _deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Box::pin(std::future::ready(Ok(json!({"base": request.state_name}))))
    }
}

const CONFIG: &str = r#"{
  "StateMachines": {"M": {"TestCases": {"T": {"Flaky": "FailTwiceThenReturn", "Once": "OneReturn"}}}},
  "MockedResponses": {
    "FailTwiceThenReturn": {
      "0-1": {"Throw": {"Error": "Sns.InternalErrorException", "Cause": "try again"}},
      "2": {"Return": {"MessageId": "m-2"}}
    },
    "OneReturn": {"0": {"Return": {"n": 0}}}
  }
}"#;

fn host() -> MockHost<Base> {
    let config = MockConfig::parse(CONFIG).expect("valid");
    let case = select::choose(&config, "T", None).expect("the test case");
    MockHost::new(Base::default(), Arc::new(case))
}

fn call(host: &MockHost<Base>, execution: &str, state: &str) -> Result<Value, Failure> {
    let request = TaskRequest {
        state_name: state.into(),
        resource: Arc::new(shared::asl::resource::Resource::parse("arn:aws:states:::sns:publish").expect("a resource")),
        input: json!({}),
        timeout_seconds: 60,
        heartbeat_seconds: None,
        credentials: None,
        execution_arn: execution.into(),
        call_id: 2,
        task_token: None,
    };
    match pin!(host.invoke_task(request)).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => panic!("a mocked call is answered at once"),
    }
}

#[test]
fn invocations_count_per_execution_and_state() {
    let host = host();
    let sns_error = Err(Failure::new("Sns.InternalErrorException", "try again"));
    assert_eq!(call(&host, "e1", "Flaky"), sns_error);
    assert_eq!(call(&host, "e1", "Flaky"), sns_error);
    // Another execution starts at invocation 0; the other state of e1 too.
    assert_eq!(call(&host, "e2", "Flaky"), sns_error);
    assert_eq!(call(&host, "e1", "Once"), Ok(json!({"n": 0})));
    assert_eq!(call(&host, "e1", "Flaky"), Ok(json!({"MessageId": "m-2"})));
    // Invocation 3 has no response: the execution fails with States.Runtime.
    let missing = call(&host, "e1", "Flaky").unwrap_err();
    assert_eq!(missing.error.as_deref(), Some("States.Runtime"));
    let cause = missing.cause.unwrap();
    assert!(cause.contains("invocation 3 of the Task state 'Flaky'"), "{cause}");
    assert!(cause.contains("answers invocations 0-1, 2"), "{cause}");
    assert_eq!(host.base().calls.load(Ordering::Relaxed), 0, "a mocked state never calls out");
}

#[test]
fn unmocked_states_go_to_the_base_host() {
    let host = host();
    assert_eq!(call(&host, "e1", "Other"), Ok(json!({"base": "Other"})));
    assert_eq!(host.base().calls.load(Ordering::Relaxed), 1);
    assert_eq!(host.executions_counted(), 0, "unmocked calls keep no count");
}

#[test]
fn counts_are_dropped_when_the_execution_ends() {
    let host = host();
    for i in 0..1000 {
        let arn = format!("child-{i}");
        assert_eq!(call(&host, &arn, "Once"), Ok(json!({"n": 0})));
        host.execution_ended(&arn);
    }
    assert_eq!(host.executions_counted(), 0);
}

#[test]
fn the_engine_reports_the_end_of_each_execution() {
    let definition = r#"{"StartAt": "Once", "States": {"Once": {"Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"}, "End": true}}}"#;
    let (machine, _) = parse_definition(definition).expect("valid");
    let host = host();
    for name in ["a", "b"] {
        let options = shared::asl::eval::ExecutionOptions { execution_name: name.into(), ..Default::default() };
        let outcome = shared::asl::eval::execute_pure(&machine, json!({}), &options, &host).expect("never suspends");
        // Each execution is invocation 0 of its own: the second one is not left without a response.
        assert_eq!(outcome.output, Some(json!({"n": 0})));
    }
    assert_eq!(host.executions_counted(), 0);
}

/// A mocked `.waitForTaskToken` state is answered by its mocked response, as AWS Step Functions
/// Local answers it ("Using mocked service integrations": the mocked response stands for the
/// task's result), even on a host that cannot take callbacks; each attempt is one invocation
/// (the call and its wait are not counted twice), so the retries see responses 0, 1 and 2.
#[test]
fn a_mocked_wait_for_task_token_state_is_answered_by_its_mock_once_per_attempt() {
    let definition = r#"{"StartAt": "Flaky", "States": {"Flaky": {"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}],
        "End": true}}}"#;
    let (machine, _) = parse_definition(definition).expect("valid");
    let host = host();
    let options = shared::asl::eval::ExecutionOptions::default();
    let outcome = shared::asl::eval::execute_pure(&machine, json!({}), &options, &host).expect("never suspends");
    assert_eq!(outcome.failure, None);
    assert_eq!(outcome.output, Some(json!({"MessageId": "m-2"})));
    assert_eq!(host.base().calls.load(Ordering::Relaxed), 0, "a mocked state never calls out");
}
