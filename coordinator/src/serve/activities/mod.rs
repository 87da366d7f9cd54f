//! Activities on `dmap serve`: the tasks of activity Task states, handed to the workers that
//! poll for them (`GetActivityTask`).
//!
//! [`Activities`] is what the host's `dispatch_activity` reaches (through the callbacks
//! wrapper's `ActivityQueue`) and what GetActivityTask polls. It checks at dispatch that the
//! activity exists (AWS fails the Task with `States.Runtime` when it does not), then offers
//! the task on its activity's line ([`queue`]) until a worker takes it, the execution's
//! deadline passes, or the execution is dropped (stopped), which withdraws it.
//!
//! **Durability** comes from the execution's journal, not from here: a queued task lives only
//! in memory, and after a restart the execution's replay reaches the same activity Task again,
//! finds no `ActivityStarted` recorded and dispatches it again, with the same token. A task
//! whose `ActivityStarted` was recorded is never dispatched again (the engine replays the
//! worker's name instead); its token stays valid in the callbacks registry, so the worker that
//! has it can still answer.
//!
//! It must not run executions, nor answer SendTask* (the callbacks registry does both for
//! `.waitForTaskToken` and activity tokens alike).

pub mod queue;

use std::sync::Arc;

use chrono::Utc;
use futures::future::BoxFuture;
use shared::asl::Failure;
use shared::asl::error_name::{RUNTIME, TIMEOUT};
use shared::asl::eval::ActivityDispatch;
use tokio::time::Duration;

use self::queue::Queue;
pub use self::queue::{PollError, Task};
use super::store::Store;

/// AWS's long poll: GetActivityTask holds a request this long before answering with no task.
pub const LONG_POLL: Duration = Duration::from_secs(60);

/// AWS's limit of workers polling one activity at once (`ActivityWorkerLimitExceeded`).
pub const MAX_POLLERS: usize = 1_000;

/// How long an execution's deadline may be for its dispatch to still set a timer (beyond, the
/// task simply waits: tokio's timers cannot reach chrono's latest instant).
const LONGEST_WAIT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

impl crate::callbacks::ActivityQueue for Activities {
    fn dispatch(&self, d: ActivityDispatch) -> BoxFuture<'_, Result<String, Failure>> {
        Activities::dispatch(self, d)
    }
}

/// The activity tasks of this server.
pub struct Activities {
    store: Arc<dyn Store>,
    queue: Queue,
    long_poll: Duration,
}

impl std::fmt::Debug for Activities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activities").field("long_poll", &self.long_poll).finish_non_exhaustive()
    }
}

impl Activities {
    /// AWS's limits: a 60-second long poll, 1,000 pollers per activity.
    pub fn new(store: Arc<dyn Store>) -> Activities {
        Activities { store, queue: Queue::new(MAX_POLLERS), long_poll: LONG_POLL }
    }

    /// Offers an activity Task's work to its workers: the worker's name once one took it.
    pub fn dispatch(&self, d: ActivityDispatch) -> BoxFuture<'_, Result<String, Failure>> {
        Box::pin(async move {
            match self.store.activity(&d.activity_arn) {
                Ok(Some(_)) => {}
                // AWS's cause (after the engine's "An error occurred while executing the state
                // … (entered at the event id #n)." prefix), as recorded against AWS in
                // localstack's tests/aws/services/stepfunctions/v2/activities snapshot
                // `test_activity_task_on_deleted`.
                Ok(None) => {
                    return Err(Failure::new(RUNTIME, format!("The activity {} does not exist.", d.activity_arn)));
                }
                Err(e) => {
                    tracing::error!(error = %e, activity = %d.activity_arn, "reading the activity");
                    return Err(Failure::new(
                        RUNTIME,
                        format!("The activity {} could not be read: {e}", d.activity_arn),
                    ));
                }
            }
            let task = Task { token: d.token, input: d.input.to_string() };
            let left = (d.deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            let offer = self.queue.offer(&d.activity_arn, task);
            if left > LONGEST_WAIT {
                return Ok(offer.await);
            }
            match tokio::time::timeout(left, offer).await {
                Ok(worker) => Ok(worker),
                // The execution's own deadline (a Task's timeout starts when a worker takes
                // it): the engine ends the execution TIMED_OUT.
                Err(_) => Err(Failure::new(
                    TIMEOUT,
                    format!("The execution timed out before a worker took the task of '{}'", d.state_name),
                )),
            }
        })
    }

    /// GetActivityTask's long poll; `Ok(None)` when no task came in time.
    pub async fn poll(&self, activity_arn: &str, worker: &str) -> Result<Option<Task>, PollError> {
        self.queue.poll(activity_arn, worker, self.long_poll).await
    }

    /// Ends every long poll with no task (the server is stopping).
    pub fn close(&self) {
        self.queue.close();
    }

    /// Tasks waiting for a worker.
    pub fn pending(&self) -> usize {
        self.queue.pending()
    }

    /// Workers waiting for a task.
    pub fn pollers(&self) -> usize {
        self.queue.pollers()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration as Span;
    use serde_json::json;

    use super::*;
    use crate::serve::store::sqlite::Sqlite;
    use crate::serve::store::{ActivityRecord, Write};

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:review";

    async fn activities(dir: &std::path::Path) -> Arc<Activities> {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir).unwrap());
        let record = ActivityRecord {
            arn: ARN.into(),
            name: "review".into(),
            creation_date: Utc::now(),
            encryption_configuration: None,
        };
        store.commit(vec![Write::CreateActivity(record)]).await.unwrap();
        Arc::new(Activities::new(store))
    }

    fn dispatch(activity_arn: &str, deadline_in: Span) -> ActivityDispatch {
        ActivityDispatch {
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:m:e".into(),
            state_name: "Review".into(),
            activity_arn: activity_arn.into(),
            token: "token-1".into(),
            input: json!({"doc": 7}),
            deadline: Utc::now() + deadline_in,
            heartbeat_seconds: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_gets_the_input_as_json_text_and_the_execution_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let a = activities(dir.path()).await;
        let queued = a.clone();
        let execution = tokio::spawn(async move { queued.dispatch(dispatch(ARN, Span::hours(1))).await });
        let task = a.poll(ARN, "reviewer-1").await.unwrap().expect("the queued task");
        assert_eq!(task, Task { token: "token-1".into(), input: r#"{"doc":7}"#.into() });
        assert_eq!(execution.await.unwrap(), Ok("reviewer-1".to_string()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_missing_activity_is_a_runtime_error_and_a_task_nobody_takes_ends_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let a = activities(dir.path()).await;
        let missing = "arn:aws:states:us-east-1:123456789012:activity:gone";
        let failure = a.dispatch(dispatch(missing, Span::hours(1))).await.unwrap_err();
        // AWS's cause (the engine prefixes the state and its entry event).
        assert_eq!(failure.error_name(), RUNTIME);
        assert_eq!(failure.cause.as_deref(), Some(format!("The activity {missing} does not exist.").as_str()));

        let failure = a.dispatch(dispatch(ARN, Span::seconds(5))).await.unwrap_err();
        assert_eq!(failure.error_name(), TIMEOUT);
        assert_eq!(a.pending(), 0, "the task left the line with its execution's deadline");
    }
}
