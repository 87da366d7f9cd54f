//! Hosts of the coordinator's executions. [`EmbeddedHost`] adds Map Runs on top of any base
//! host (usually [`LocalHost`]: the wall clock, tokio timers and the task integrations),
//! running children on this process's worker pool (the embedded default of `dmap run`) or
//! on workers over a transport (NATS). Its Map Runs are in its [`MapRuns`] registry while
//! they run: describe, update or stop them there.

use std::sync::{Arc, Weak};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::eval::map_run::MapRunRequest;
use shared::asl::eval::{ActivityDispatch, CallbackWait, Host, TaskRequest};
use worker::executor::Executor;
pub use worker::host::LocalHost;

use crate::map_run::registry::MapRuns;
use crate::map_run::run::{MapRunner, RunOptions};
use crate::map_run::status::Progress;
use crate::map_run::transport::{InProcess, Transport};
use crate::storage::Storage;

/// A base host plus Map Runs on the in-process worker pool. Children run with this same host,
/// so their own Distributed Maps become nested Map Runs.
pub struct EmbeddedHost<H> {
    base: H,
    runner: MapRunner,
}

impl<H: Host + 'static> EmbeddedHost<H> {
    /// Map Runs on this process's worker pool.
    pub fn new(base: H, storage: Arc<Storage>, options: RunOptions, progress: Arc<Progress>) -> Arc<Self> {
        Self::with_map_runs(base, storage, options, progress, None, MapRuns::new())
    }

    /// Map Runs over another transport (NATS workers).
    pub fn with_transport(
        base: H,
        storage: Arc<Storage>,
        options: RunOptions,
        progress: Arc<Progress>,
        transport: Arc<dyn Transport>,
    ) -> Arc<Self> {
        Self::with_map_runs(base, storage, options, progress, Some(transport), MapRuns::new())
    }

    /// Map Runs over `transport` (`None`: this process's worker pool), registered in
    /// `map_runs` (which may carry an observer: `dmap serve` persists the runs through it).
    pub fn with_map_runs(
        base: H,
        storage: Arc<Storage>,
        options: RunOptions,
        progress: Arc<Progress>,
        transport: Option<Arc<dyn Transport>>,
        map_runs: MapRuns,
    ) -> Arc<Self> {
        Self::with_map_runs_logged(base, storage, options, progress, transport, map_runs, |t| t)
    }

    /// As [`EmbeddedHost::with_map_runs`]; `wrap` wraps the in-process transport when there is
    /// no other (`dmap serve` records its children's outcomes so a restart does not run them
    /// again).
    pub fn with_map_runs_logged(
        base: H,
        storage: Arc<Storage>,
        options: RunOptions,
        progress: Arc<Progress>,
        transport: Option<Arc<dyn Transport>>,
        map_runs: MapRuns,
        wrap: impl FnOnce(Arc<dyn Transport>) -> Arc<dyn Transport>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me: &Weak<Self>| {
            let transport = transport.unwrap_or_else(|| {
                let children: Arc<dyn Host> = Arc::new(WeakHost(me.clone()));
                wrap(Arc::new(InProcess::new(Executor::new(children))))
            });
            EmbeddedHost {
                base,
                runner: MapRunner { storage, transport, options, progress, started: Default::default(), map_runs },
            }
        })
    }

    /// The base host (the wall clock, sleeps and Task calls).
    pub fn base(&self) -> &H {
        &self.base
    }

    /// The running Map Runs of this host.
    pub fn map_runs(&self) -> &MapRuns {
        &self.runner.map_runs
    }

    /// Runs a Map Run whose id derives from its execution and `key`, stable for the Map
    /// state's entry (the id of the event that entered it): a restarted server that runs the
    /// entry again computes the same Map Run ARN and resumes the run through its transport.
    pub fn run_map_keyed<'a>(
        &'a self,
        request: MapRunRequest<'a>,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Value, Failure>> {
        Box::pin(self.runner.run(request, Some(key)))
    }
}

impl<H: Host + 'static> Host for EmbeddedHost<H> {
    fn inner(&self) -> Option<&dyn Host> {
        Some(&self.base)
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
    fn run_map<'a>(&'a self, request: MapRunRequest<'a>) -> BoxFuture<'a, Result<Value, Failure>> {
        Box::pin(self.runner.run(request, None))
    }
}

/// The host as its own children see it: a weak reference, so that host and worker pool do not
/// keep each other alive.
struct WeakHost<H>(Weak<EmbeddedHost<H>>);

impl<H: Host + 'static> WeakHost<H> {
    fn get(&self) -> Option<Arc<EmbeddedHost<H>>> {
        self.0.upgrade()
    }
}

impl<H: Host + 'static> Host for WeakHost<H> {
    fn now(&self) -> DateTime<Utc> {
        self.get().map(|h| h.now()).unwrap_or_else(Utc::now)
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let host = self.get();
        Box::pin(async move {
            if let Some(h) = host {
                h.sleep_until(deadline).await;
            }
        })
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        let host = self.get();
        Box::pin(async move {
            match host {
                Some(h) => h.invoke_task(request).await,
                None => Err(Failure::new("States.Runtime", "the run ended while a child was still calling a task")),
            }
        })
    }
    fn jitter_millis(&self, upper_bound_millis: u64) -> u64 {
        self.get().map_or(upper_bound_millis, |h| h.jitter_millis(upper_bound_millis))
    }
    fn execution_ended(&self, execution_arn: &str) {
        if let Some(h) = self.get() {
            h.execution_ended(execution_arn)
        }
    }
    fn run_map<'a>(&'a self, request: MapRunRequest<'a>) -> BoxFuture<'a, Result<Value, Failure>> {
        let host = self.get();
        Box::pin(async move {
            match host {
                Some(h) => h.runner.run(request, None).await,
                None => Err(Failure::new("States.Runtime", "the run ended while a child was starting a Map Run")),
            }
        })
    }
    fn task_token(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> Option<String> {
        self.get().and_then(|h| h.task_token(execution_arn, entered_id, attempt))
    }
    fn wait_for_callback(&self, wait: CallbackWait) -> BoxFuture<'_, Result<Value, Failure>> {
        let host = self.get();
        Box::pin(async move {
            match host {
                Some(h) => h.wait_for_callback(wait).await,
                None => Err(Failure::new("States.Runtime", "the run ended while a child was waiting for a callback")),
            }
        })
    }
    fn dispatch_activity(&self, dispatch: ActivityDispatch) -> BoxFuture<'_, Result<String, Failure>> {
        let host = self.get();
        Box::pin(async move {
            match host {
                Some(h) => h.dispatch_activity(dispatch).await,
                None => Err(Failure::new(
                    "States.Runtime",
                    "the run ended while a child was waiting for an activity worker",
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;
    use shared::asl::eval::{ExecutionOptions, Status, execute};
    use worker::mock::MockHost;

    use super::*;

    /// Every Distributed Map child that called a mocked Task leaves no count behind: the end of
    /// each child reaches the mock host through the children's weak host and the embedded one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn children_release_their_mock_counts_when_they_end() {
        let definition = r#"{"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "ItemsPath": "$.ids",
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                "StartAt": "Put", "States": {"Put": {"Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:putItem", "End": true}}},
            "End": true}}}"#;
        let (machine, _) = shared::asl::parse_definition(definition).expect("valid");
        let config = r#"{"StateMachines": {"M": {"TestCases": {"T": {"Put": "Ok"}}}},
            "MockedResponses": {"Ok": {"0": {"Return": "done"}}}}"#;
        let case = worker::mock::from_text(config, Path::new("mocks.json"), "T", None, &machine).expect("valid");
        let host = EmbeddedHost::new(
            MockHost::new(LocalHost::default(), Arc::new(case)),
            Arc::new(Storage::default()),
            RunOptions::default(),
            Arc::new(Progress::silent()),
        );
        let ids: Vec<u32> = (0..2000).collect();
        let outcome = execute(&machine, json!({"ids": ids}), &ExecutionOptions::default(), &*host).await;
        assert_eq!(outcome.status, Status::Succeeded, "{:?}", outcome.failure);
        assert_eq!(outcome.output, Some(json!(vec!["done"; 2000])));
        assert_eq!(host.base().executions_counted(), 0);
    }
}
