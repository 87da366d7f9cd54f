//! The host of executions that run on this process: the wall clock, tokio timers and the task
//! integrations (functions file, HTTP Task). Map Runs are the coordinator's business; a
//! Distributed Map reached here fails with the engine's "this host cannot run Map Runs".

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::eval::{Host, TaskRequest};

use crate::integrations::Integrations;

/// Runs executions on the wall clock and calls Task integrations (Lambda functions from a
/// functions file, the HTTP Task).
#[derive(Debug, Clone)]
pub struct LocalHost {
    integrations: Arc<Integrations>,
}

impl Default for LocalHost {
    fn default() -> Self {
        LocalHost::new(Arc::new(Integrations::none(Some(shared::asl::eval::MAX_PAYLOAD_BYTES))))
    }
}

impl LocalHost {
    pub fn new(integrations: Arc<Integrations>) -> Self {
        LocalHost { integrations }
    }

    pub fn integrations(&self) -> &Integrations {
        &self.integrations
    }
}

impl Host for LocalHost {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// A tokio timer. Outside a tokio runtime (on the rayon pool, where only machines that
    /// never wait should run) it never panics: a deadline already past completes at once, and
    /// any other never completes, so `execute_pure` — the one driver without a runtime, which
    /// polls once — fails that execution with `States.Runtime` instead of the process
    /// aborting a worker thread. Blocking the thread instead would stall a pool thread for as
    /// long as a back-off lasts (up to a year).
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let left = (deadline - Utc::now()).to_std().unwrap_or_default();
        if tokio::runtime::Handle::try_current().is_err() {
            if left.is_zero() {
                return Box::pin(std::future::ready(()));
            }
            tracing::error!(?left, "a sleep was asked for outside an async runtime; the execution cannot wait here");
            return Box::pin(std::future::pending());
        }
        Box::pin(tokio::time::sleep(left))
    }

    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        Box::pin(self.integrations.invoke(request))
    }

    fn jitter_millis(&self, upper_bound_millis: u64) -> u64 {
        rand::random_range(0..=upper_bound_millis)
    }
}
