//! The host of one durable execution: the server's shared host (clock, timers, task
//! integrations, Map Runs) plus the execution's journal.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::eval::map_run::MapRunRequest;
use shared::asl::eval::{ActivityDispatch, CallbackWait, Host, TaskRequest};
use shared::asl::history::Journal;

use super::journal::StoreJournal;

pub struct DurableHost<'a> {
    pub base: &'a dyn Host,
    pub journal: &'a StoreJournal,
}

impl Host for DurableHost<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.base.now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        self.base.sleep_until(deadline)
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.base.invoke_task(request)
    }
    fn run_map<'a>(&'a self, request: MapRunRequest<'a>) -> BoxFuture<'a, Result<Value, Failure>> {
        self.base.run_map(request)
    }
    fn jitter_millis(&self, upper_bound_millis: u64) -> u64 {
        self.base.jitter_millis(upper_bound_millis)
    }
    fn random(&self) -> u64 {
        self.base.random()
    }
    fn execution_ended(&self, execution_arn: &str) {
        self.base.execution_ended(execution_arn)
    }
    fn journal(&self) -> Option<&dyn Journal> {
        Some(self.journal)
    }
    fn task_token(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> Option<String> {
        self.base.task_token(execution_arn, entered_id, attempt)
    }
    fn wait_for_callback(&self, wait: CallbackWait) -> BoxFuture<'_, Result<Value, Failure>> {
        self.base.wait_for_callback(wait)
    }
    fn dispatch_activity(&self, dispatch: ActivityDispatch) -> BoxFuture<'_, Result<String, Failure>> {
        self.base.dispatch_activity(dispatch)
    }
}

/// A borrowed host as an owned one, for wrappers that own their base (the mock host).
pub struct Borrowed<'a>(pub &'a dyn Host);

impl Host for Borrowed<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        self.0.sleep_until(deadline)
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.0.invoke_task(request)
    }
    fn run_map<'a>(&'a self, request: MapRunRequest<'a>) -> BoxFuture<'a, Result<Value, Failure>> {
        self.0.run_map(request)
    }
    fn jitter_millis(&self, upper_bound_millis: u64) -> u64 {
        self.0.jitter_millis(upper_bound_millis)
    }
    fn random(&self) -> u64 {
        self.0.random()
    }
    fn execution_ended(&self, execution_arn: &str) {
        self.0.execution_ended(execution_arn)
    }
    fn task_token(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> Option<String> {
        self.0.task_token(execution_arn, entered_id, attempt)
    }
    fn wait_for_callback(&self, wait: CallbackWait) -> BoxFuture<'_, Result<Value, Failure>> {
        self.0.wait_for_callback(wait)
    }
    fn dispatch_activity(&self, dispatch: ActivityDispatch) -> BoxFuture<'_, Result<String, Failure>> {
        self.0.dispatch_activity(dispatch)
    }
}
