//! One execution's journal over the store: numbers and appends the events the engine writes,
//! and, after a restart, answers from the events recorded before it (see
//! `shared::asl::history`).
//!
//! Events are submitted without waiting (group commit makes them durable shortly after): a
//! crash can only lose a suffix of them, which replay writes again. Once the execution has
//! ended (or been stopped) the journal is closed and writes nothing more, so no event can
//! follow the execution's last.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::history::{Entry, Event, Journal, outcome_of};

use crate::serve::store::{EventRecord, Store, Write};

/// A recorded event, as replay needs it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub id: u64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub details: Option<Value>,
}

pub struct StoreJournal {
    store: Arc<dyn Store>,
    execution_arn: String,
    started_at: DateTime<Utc>,
    seed: u64,
    /// Events recorded before a restart, by key.
    replay: HashMap<String, Recorded>,
    state: Mutex<State>,
}

struct State {
    next_id: u64,
    /// The id of the last event written, for the execution's own last event.
    last_id: u64,
    closed: bool,
    /// History events written through this journal (for `/metrics`).
    written: u64,
}

impl StoreJournal {
    /// A journal for an execution whose `ExecutionStarted` (id 1) is written; `recorded` are
    /// the events with keys read back after a restart, and `last_id` the highest id stored.
    pub fn new(
        store: Arc<dyn Store>,
        execution_arn: String,
        started_at: DateTime<Utc>,
        recorded: HashMap<String, Recorded>,
        last_id: u64,
    ) -> Self {
        let seed = seed_of(&execution_arn);
        StoreJournal {
            store,
            execution_arn,
            started_at,
            seed,
            replay: recorded,
            state: Mutex::new(State { next_id: last_id + 1, last_id, closed: false, written: 0 }),
        }
    }

    /// Closes the journal and returns the id the execution's last event takes and the one
    /// before it, or `None` if it was closed already (the execution ended another way).
    pub fn close(&self) -> Option<(u64, u64)> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.closed {
            return None;
        }
        s.closed = true;
        Some((s.next_id, s.last_id))
    }

    /// Events this journal wrote.
    pub fn written(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).written
    }
}

/// The execution's seed: from its ARN, so a restarted execution draws the same numbers.
fn seed_of(arn: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(arn.as_bytes());
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

impl Journal for StoreJournal {
    fn record(&self, key: &str, previous: u64, event: Event<'_>) -> Entry {
        if let Some(r) = self.replay.get(key) {
            return Entry { id: r.id, at: r.at };
        }
        let at = Utc::now();
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let id = s.next_id;
        if s.closed {
            // Stopped: the engine's future is being dropped; what it still reports is not
            // history.
            return Entry { id, at };
        }
        s.next_id += 1;
        s.last_id = id;
        s.written += 1;
        let record = EventRecord {
            execution_arn: self.execution_arn.clone(),
            id,
            previous_event_id: previous,
            timestamp: at,
            event_type: event.kind().to_string(),
            details: event.details().map(|d| d.to_string()),
            key: Some(key.to_string()),
        };
        // Submitted under the lock, so events reach the store in id order.
        self.store.submit(vec![Write::AppendEvents(vec![record])]);
        Entry { id, at }
    }

    fn outcome(&self, key: &str) -> Option<Result<Value, Failure>> {
        let r = self.replay.get(key)?;
        outcome_of(&r.kind, r.details.as_ref())
    }

    fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    fn seed(&self) -> u64 {
        self.seed
    }
}
