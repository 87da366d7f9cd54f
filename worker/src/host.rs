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

    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let left = (deadline - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(left).await;
        })
    }

    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        Box::pin(self.integrations.invoke(request))
    }

    fn jitter_millis(&self, upper_bound_millis: u64) -> u64 {
        rand::random_range(0..=upper_bound_millis)
    }
}
