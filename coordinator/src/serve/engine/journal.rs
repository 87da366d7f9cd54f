//! One execution's journal over the store: numbers and appends the events the engine writes,
//! and, after a restart, answers from the events recorded before it (see
//! `shared::asl::history`).
//!
//! Events are submitted without waiting (group commit makes them durable shortly after): a
//! crash can only lose a suffix of them, which replay writes again. Events of pure steps (a
//! Pass, a Choice, an entry or exit) are held and submitted with the next event after which the
//! execution may wait or has heard from outside (a Task started or answered, a Wait entered,
//! a Map Run started or ended, a failure that may be retried after a back-off), or with its
//! last event: replay recomputes them if they are lost, and an execution of pure states costs
//! one store unit instead of one per event. Once the execution has ended (or been stopped) the
//! journal is closed and writes nothing more, so no event can follow the execution's last.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::history::{Entry, Event, Journal, outcome_of};

use super::generations::Redrive;
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
    /// Where the execution's `TimeoutSeconds` counts from: its start, or its latest redrive
    /// (AWS resets the state machine's timeout when an execution is redriven).
    timeout_from: DateTime<Utc>,
    seed: u64,
    /// Events recorded before a restart, by key.
    replay: HashMap<String, Recorded>,
    /// The latest redrive, when the execution has been redriven.
    redrive: Option<Redrive>,
    state: Mutex<State>,
}

struct State {
    /// Events held until the next one that must reach the store (see the module's doc).
    held: Vec<EventRecord>,
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
            timeout_from: started_at,
            seed,
            replay: recorded,
            redrive: None,
            state: Mutex::new(State { held: Vec::new(), next_id: last_id + 1, last_id, closed: false, written: 0 }),
        }
    }

    /// The journal of a redriven execution: its timeout counts from `redrive_date`, and the
    /// events it writes follow the `ExecutionRedriven` event.
    pub fn redriven(mut self, redrive: Option<Redrive>, redrive_date: Option<DateTime<Utc>>) -> Self {
        self.redrive = redrive;
        if let Some(d) = redrive_date {
            self.timeout_from = d;
        }
        self
    }

    /// Closes the journal and returns what the execution's last event needs: its id, the one
    /// before it, and the events still held (to be written in the same unit). `None` if it was
    /// closed already (the execution ended another way).
    pub fn close(&self) -> Option<Closing> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.closed {
            return None;
        }
        s.closed = true;
        Some(Closing { id: s.next_id, previous: s.last_id, held: std::mem::take(&mut s.held) })
    }

    /// Events this journal wrote.
    pub fn written(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).written
    }
}

/// What the last event of a closed journal needs.
#[derive(Debug)]
pub struct Closing {
    pub id: u64,
    pub previous: u64,
    pub held: Vec<EventRecord>,
}

/// At most this many events are held before they are submitted anyway (a long run of pure
/// states, such as a loop of Choice and Pass).
const MAX_HELD: usize = 64;

/// Whether the execution may wait after `event`, or `event` reports what the outside world
/// answered: then it and the events held before it go to the store at once.
fn must_reach_store(event: &Event<'_>) -> bool {
    match event {
        Event::TaskStarted { .. }
        | Event::TaskSucceeded { .. }
        | Event::TaskFailed { .. }
        | Event::TaskTimedOut { .. }
        // A callback Task waits after these (the call answered; a worker took the task).
        | Event::TaskSubmitted { .. }
        | Event::ActivityScheduled { .. }
        | Event::ActivityStarted { .. }
        | Event::ActivitySucceeded { .. }
        | Event::ActivityFailed { .. }
        | Event::ActivityTimedOut { .. }
        | Event::ActivityScheduleFailed { .. }
        | Event::MapRunStarted { .. }
        | Event::MapRunSucceeded { .. }
        | Event::MapRunFailed { .. }
        | Event::ParallelStateFailed
        | Event::MapStateFailed
        | Event::MapIterationFailed { .. } => true,
        Event::StateEntered { state, .. } => matches!(state.kind, shared::asl::model::StateKind::Wait(_)),
        _ => false,
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
        let flush = must_reach_store(&event);
        let (mut kind, mut details) = (event.kind(), event.details());
        let mut previous = previous;
        if let Some(r) = &self.redrive {
            // The redriven run's first events follow ExecutionRedriven, not the events of the
            // run before it that they come after in their scope.
            previous = previous.max(r.event_id);
            // A Map Run that runs again where it ran before is redriven (AWS: MapRunRedriven,
            // with the Map Run's redrive count).
            if let (Event::MapRunStarted { .. }, Some((arn, count))) = (&event, r.map_runs.get(key)) {
                kind = "MapRunRedriven";
                details = Some(serde_json::json!({"mapRunArn": arn, "redriveCount": count}));
            }
        }
        s.held.push(EventRecord {
            execution_arn: self.execution_arn.clone(),
            id,
            previous_event_id: previous,
            timestamp: at,
            event_type: kind.to_string(),
            details: details.map(|d| d.to_string()),
            key: Some(key.to_string()),
        });
        if flush || s.held.len() >= MAX_HELD {
            // Submitted under the lock, so events reach the store in id order.
            let events = std::mem::take(&mut s.held);
            self.store.submit(vec![Write::AppendEvents(events)]);
        }
        Entry { id, at }
    }

    fn outcome(&self, key: &str) -> Option<Result<Value, Failure>> {
        let r = self.replay.get(key)?;
        outcome_of(&r.kind, r.details.as_ref())
    }

    fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    fn timeout_from(&self) -> DateTime<Utc> {
        self.timeout_from
    }

    fn seed(&self) -> u64 {
        self.seed
    }
}
