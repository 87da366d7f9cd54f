//! The host of in-process executions: the wall clock, tokio timers, and the task
//! integrations registered in code.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::eval::{Host, TaskRequest};

/// Runs executions on the wall clock. Task integrations (Lambda functions, HTTP) are not
/// wired yet: [`LocalHost::resources`] is empty, so `dmap run` refuses Task states up front
/// instead of failing them at run time.
#[derive(Debug, Default)]
pub struct LocalHost;

impl LocalHost {
    /// The Task resources this host can call.
    pub fn resources() -> Vec<String> {
        Vec::new()
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
        Box::pin(async move {
            Err(Failure::new(
                "States.TaskFailed",
                format!("no integration is registered for the resource '{}'", request.resource),
            ))
        })
    }

    fn jitter_millis(&self, upper_bound_millis: u64) -> u64 {
        rand::random_range(0..=upper_bound_millis)
    }
}
