//! The host of one durable execution: the server's shared host (clock, timers, task
//! integrations, Map Runs) plus the execution's journal.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::eval::{Host, TaskRequest};
use shared::asl::history::Journal;

use super::journal::StoreJournal;

pub struct DurableHost<'a> {
    pub base: &'a dyn Host,
    pub journal: &'a StoreJournal,
}

impl Host for DurableHost<'_> {
    fn inner(&self) -> Option<&dyn Host> {
        Some(self.base)
    }
    fn now(&self) -> DateTime<Utc> {
        self.base.now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        self.base.sleep_until(deadline)
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.base.invoke_task(request)
    }
    fn journal(&self) -> Option<&dyn Journal> {
        Some(self.journal)
    }
}

/// A borrowed host as an owned one, for wrappers that own their base (the mock host).
pub struct Borrowed<'a>(pub &'a dyn Host);

impl Host for Borrowed<'_> {
    fn inner(&self) -> Option<&dyn Host> {
        Some(self.0)
    }
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        self.0.sleep_until(deadline)
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.0.invoke_task(request)
    }
}
