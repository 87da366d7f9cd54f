//! Waiting for an execution's end: what a `.sync` parent does with its child. The engine
//! publishes each end on the execution's `Running` entry when it writes it, so a waiter is woken
//! by that, not by reading the store in a loop; the store is read only for an execution that is
//! not running in this process (ended before the wait began, or, right after a restart, not
//! launched yet by `recover`).

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Engine, EngineError, Inner};
use crate::serve::store::{ExecutionRecord, ExecutionStatus};

/// How an execution ended, as the engine wrote it.
#[derive(Debug, Clone)]
pub struct Ended {
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub stop_date: DateTime<Utc>,
}

/// The longest pause between two store reads of an execution that is RUNNING in the store but
/// not in this process: its end was just queued, or `recover` has not launched it yet.
const MAX_PAUSE: Duration = Duration::from_secs(1);

impl Engine {
    /// The record of `execution_arn` once it has ended (at once when it has).
    pub async fn ended(&self, execution_arn: &str) -> Result<ExecutionRecord, EngineError> {
        let mut pause = Duration::from_millis(10);
        loop {
            let running = self.inner.running.lock().unwrap_or_else(|e| e.into_inner()).get(execution_arn).cloned();
            if let Some(running) = running {
                let mut rx = running.ended.subscribe();
                // The sender lives in `running`, which this holds: the wait ends only by a publish.
                let ended = match rx.wait_for(Option::is_some).await {
                    Ok(value) => value.clone(),
                    Err(_) => None,
                };
                if let Some(e) = ended {
                    let mut record = running.record.clone();
                    record.status = e.status;
                    record.output = e.output.clone();
                    record.error = e.error.clone();
                    record.cause = e.cause.clone();
                    record.stop_date = Some(e.stop_date);
                    return Ok(record);
                }
            }
            match self.inner.store.execution(execution_arn)? {
                None => return Err(EngineError::DoesNotExist(execution_arn.to_string())),
                Some(r) if r.status != ExecutionStatus::Running => return Ok(r),
                Some(_) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
        }
    }

    /// A handle that does not keep the engine alive: for its own host, which the engine owns.
    pub fn downgrade(&self) -> WeakEngine {
        WeakEngine(Arc::downgrade(&self.inner))
    }
}

/// An [`Engine`] held without keeping it alive.
#[derive(Clone)]
pub struct WeakEngine(Weak<Inner>);

impl WeakEngine {
    /// The engine, while the server runs.
    pub fn upgrade(&self) -> Option<Engine> {
        self.0.upgrade().map(|inner| Engine { inner })
    }
}
