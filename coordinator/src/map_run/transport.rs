//! The boundary between a Map Run and the workers: batches go out, outcomes come back. The
//! in-process transport (the embedded default) runs batches on this process's worker pool;
//! the NATS JetStream transport plugs into the same traits.

use std::sync::Arc;

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::protocol::{Batch, Outcome};
use tokio::sync::mpsc;
use worker::executor::{Child, Executor};

/// What workers need to run the children of one Map Run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub map_run_id: String,
    /// Content hash of the child definition.
    pub definition_hash: String,
    /// The child definition as written (workers elsewhere compile it).
    pub definition: Arc<Value>,
    /// The compiled child (in-process workers use it directly).
    pub child: Arc<Child>,
}

pub trait Transport: Send + Sync {
    /// Opens the channel of one Map Run.
    fn open(&self, spec: RunSpec) -> BoxFuture<'_, Result<Box<dyn RunChannel>, Failure>>;
}

/// One Map Run's channel to the workers.
pub trait RunChannel: Send {
    /// Hands a batch to the workers; its outcome comes back through [`RunChannel::recv`]. A
    /// transport may hold batches back to send several together until [`RunChannel::flush`].
    fn send(&mut self, batch: Batch) -> BoxFuture<'_, Result<(), Failure>>;
    /// Sends what [`RunChannel::send`] held back; called before the Map Run waits.
    fn flush(&mut self) -> BoxFuture<'_, Result<(), Failure>> {
        Box::pin(async { Ok(()) })
    }
    /// The next outcome; an error when the workers can no longer be reached.
    fn recv(&mut self) -> BoxFuture<'_, Result<Outcome, Failure>>;
    /// An outcome that has already arrived, without waiting.
    fn try_recv(&mut self) -> Option<Outcome>;
    /// A resumed Map Run: the outcomes received before it was interrupted, and the result if
    /// it had already ended.
    fn history(&mut self) -> BoxFuture<'_, Result<History, Failure>> {
        Box::pin(async { Ok(History::default()) })
    }
    /// Why the workers may not be taking this Map Run's children, kept current by the
    /// transport (e.g. no live worker serves its functions); read when the run stalls.
    fn stall_cause(&self) -> Option<StallCause> {
        None
    }
    /// Progress for the checkpoint (kept by transports that can resume).
    fn note(&mut self, _checkpoint: &Checkpoint) {}
    /// The Map Run ended with `result`: record it, release what the run held.
    fn finish<'a>(&'a mut self, _result: &'a Result<Value, Failure>) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// A cause a transport keeps current, shared with the Map Run's status.
pub type StallCause = Arc<std::sync::Mutex<Option<String>>>;

/// What a resumed Map Run finds.
#[derive(Debug, Default)]
pub struct History {
    pub outcomes: Vec<Outcome>,
    /// The Map Run had already ended with this result.
    pub ended: Option<Result<Value, Failure>>,
    /// Its last checkpoint, when it had already ended (its final counts).
    pub checkpoint: Option<Checkpoint>,
}

/// Where a Map Run stands, as its checkpoint records it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// Batches (children) handed out so far; the reader position in batches.
    pub next_batch: u64,
    pub items_read: u64,
    pub items_succeeded: u64,
    pub items_failed: u64,
    pub items_pending: u64,
    /// Result files completed so far (keys).
    pub files_written: Vec<String>,
    /// DescribeMapRun's counts (absent from the records of older versions): a run found
    /// ended when it is resumed reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<(super::tracker::Counts, super::tracker::Counts)>,
}

/// Runs batches on this process: pure children on the rayon pool, the others as tokio tasks.
#[derive(Clone)]
pub struct InProcess {
    executor: Executor,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess")
    }
}

impl InProcess {
    pub fn new(executor: Executor) -> Self {
        InProcess { executor }
    }
}

impl Transport for InProcess {
    fn open(&self, spec: RunSpec) -> BoxFuture<'_, Result<Box<dyn RunChannel>, Failure>> {
        let (tx, rx) = mpsc::unbounded_channel();
        let channel = InProcessChannel { executor: self.executor.clone(), child: spec.child, tx, rx };
        Box::pin(async move { Ok(Box::new(channel) as Box<dyn RunChannel>) })
    }
}

struct InProcessChannel {
    executor: Executor,
    child: Arc<Child>,
    tx: mpsc::UnboundedSender<Outcome>,
    rx: mpsc::UnboundedReceiver<Outcome>,
}

impl RunChannel for InProcessChannel {
    fn send(&mut self, batch: Batch) -> BoxFuture<'_, Result<(), Failure>> {
        let (executor, child, tx) = (self.executor.clone(), self.child.clone(), self.tx.clone());
        tokio::spawn(async move {
            let ids = (batch.map_run_id.clone(), batch.batch, batch.attempt);
            // A panicking child fails alone; its outcome must still come back, or the Map Run
            // would wait for it forever.
            let outcome = match AssertUnwindSafe(executor.run(child, batch)).catch_unwind().await {
                Ok(o) => o,
                Err(_) => panicked(ids),
            };
            // The Map Run may have ended (a breached threshold aborts what is in flight).
            let _ = tx.send(outcome);
        });
        Box::pin(async { Ok(()) })
    }

    fn recv(&mut self) -> BoxFuture<'_, Result<Outcome, Failure>> {
        Box::pin(async {
            self.rx.recv().await.ok_or_else(|| {
                Failure::new("States.Runtime", "the in-process workers stopped while children were running")
            })
        })
    }

    fn try_recv(&mut self) -> Option<Outcome> {
        self.rx.try_recv().ok()
    }
}

fn panicked((map_run_id, batch, attempt): (String, u64, u32)) -> Outcome {
    Outcome::failed(
        map_run_id,
        batch,
        attempt,
        "States.Runtime",
        "the child execution stopped abnormally (engine panic)",
        chrono::Utc::now().timestamp_millis(),
    )
}
