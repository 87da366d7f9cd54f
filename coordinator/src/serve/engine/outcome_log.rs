//! Map Runs on the in-process worker pool, made resumable: each child's outcome is recorded
//! in the store as it arrives, and a Map Run opened again under the same id (a restarted
//! server replaying its execution) gets them back as its history, so its finished children
//! are not run again. Over NATS the outcome stream plays this part.
//!
//! Outcomes are submitted without waiting: a crash may lose the last few, whose children then
//! run again (at least once). They are dropped when the execution that ran the Map Run ends.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::RUNTIME;
use shared::protocol::{Batch, Outcome, read_outcomes, write_outcomes};

use crate::map_run::transport::{Checkpoint, History, RunChannel, RunSpec, StallCause, Transport};
use crate::serve::store::{Store, Write};

pub struct Logged {
    pub inner: Arc<dyn Transport>,
    pub store: Arc<dyn Store>,
}

impl Transport for Logged {
    fn open(&self, spec: RunSpec) -> BoxFuture<'_, Result<Box<dyn RunChannel>, Failure>> {
        Box::pin(async move {
            let map_run_id = spec.map_run_id.clone();
            let inner = self.inner.open(spec).await?;
            Ok(Box::new(LoggedChannel { inner, store: self.store.clone(), map_run_id }) as Box<dyn RunChannel>)
        })
    }
}

struct LoggedChannel {
    inner: Box<dyn RunChannel>,
    store: Arc<dyn Store>,
    map_run_id: String,
}

impl LoggedChannel {
    fn log(&self, o: &Outcome) {
        let mut body = Vec::new();
        write_outcomes(std::slice::from_ref(o), &mut body);
        self.store.submit(vec![Write::AppendOutcomes { map_run_id: self.map_run_id.clone(), body }]);
    }
}

impl RunChannel for LoggedChannel {
    fn send(&mut self, batch: Batch) -> BoxFuture<'_, Result<(), Failure>> {
        self.inner.send(batch)
    }
    fn flush(&mut self) -> BoxFuture<'_, Result<(), Failure>> {
        self.inner.flush()
    }
    fn recv(&mut self) -> BoxFuture<'_, Result<Outcome, Failure>> {
        Box::pin(async move {
            let o = self.inner.recv().await?;
            self.log(&o);
            Ok(o)
        })
    }
    fn try_recv(&mut self) -> Option<Outcome> {
        let o = self.inner.try_recv()?;
        self.log(&o);
        Some(o)
    }
    fn history(&mut self) -> BoxFuture<'_, Result<History, Failure>> {
        Box::pin(async move {
            let bodies = self
                .store
                .outcomes(&self.map_run_id)
                .map_err(|e| Failure::new(RUNTIME, format!("the Map Run's recorded outcomes cannot be read: {e}")))?;
            let mut outcomes = Vec::new();
            for body in bodies {
                // A record this build cannot read is skipped: its child runs again.
                if let Ok(mut read) = read_outcomes(&body) {
                    outcomes.append(&mut read);
                }
            }
            Ok(History { outcomes, ended: None, checkpoint: None })
        })
    }
    fn stall_cause(&self) -> Option<StallCause> {
        self.inner.stall_cause()
    }
    fn note(&mut self, checkpoint: &Checkpoint) {
        self.inner.note(checkpoint)
    }
    fn finish<'a>(&'a mut self, result: &'a Result<Value, Failure>) -> BoxFuture<'a, ()> {
        self.inner.finish(result)
    }
}
