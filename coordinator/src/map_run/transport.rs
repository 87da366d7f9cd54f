//! The boundary between a Map Run and the workers: batches go out, outcomes come back. The
//! in-process transport (the embedded default) runs batches on this process's worker pool;
//! the NATS JetStream transport plugs into the same traits.

use std::sync::Arc;

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::protocol::{Batch, Outcome, OutcomeStatus, VERSION};
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
    /// Hands a batch to the workers; its outcome comes back through [`RunChannel::recv`].
    fn send(&mut self, batch: Batch) -> BoxFuture<'_, Result<(), Failure>>;
    /// The next outcome; `None` once the channel is closed.
    fn recv(&mut self) -> BoxFuture<'_, Option<Outcome>>;
    /// An outcome that has already arrived, without waiting.
    fn try_recv(&mut self) -> Option<Outcome>;
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

    fn recv(&mut self) -> BoxFuture<'_, Option<Outcome>> {
        Box::pin(self.rx.recv())
    }

    fn try_recv(&mut self) -> Option<Outcome> {
        self.rx.try_recv().ok()
    }
}

fn panicked((map_run_id, batch, attempt): (String, u64, u32)) -> Outcome {
    let now = chrono::Utc::now().timestamp_millis();
    Outcome {
        v: VERSION,
        map_run_id,
        batch,
        attempt,
        status: OutcomeStatus::Failed,
        output: None,
        error: Some("States.Runtime".into()),
        cause: Some("the child execution stopped abnormally (engine panic)".into()),
        start_millis: now,
        stop_millis: now,
    }
}
