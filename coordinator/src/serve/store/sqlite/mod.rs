//! The embedded store: one SQLite database, `<data dir>/dmap.sqlite3`, in WAL mode.
//!
//! One writer thread owns the connection that writes and commits units in groups
//! (`writer`); reads take a connection from a small pool, and WAL lets them read the last
//! committed state while the writer writes. `schema` creates the tables, `apply` turns a
//! write into SQL, `reads` and `rows` read records back, `page` makes page keys, and
//! `metrics` counts groups and their latency.
//!
//! It must not interpret what it stores: definitions, inputs and event details are text.

mod activities;
mod apply;
mod budget;
mod lock;
mod metrics;
mod page;
mod reads;
mod rows;
mod schema;
mod writer;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tokio::sync::oneshot;

pub use metrics::{CommitLatency, LATENCY_BOUNDS};
pub use writer::{GROUP_CAP, QUEUE_BYTES, QUEUE_CAPACITY};

use super::{
    ActivityRecord, AliasRecord, Commit, EventRecord, ExecutionFilter, ExecutionRecord, MapRunRecord, Page,
    PageRequest, StateMachineRecord, Store, StoreError, VersionRecord, Write,
};
use budget::Budget;
use metrics::Stats;
use reads::ReadError;
use writer::{Message, Unit};

/// The database file's name in the data directory.
pub const FILE_NAME: &str = "dmap.sqlite3";

/// Read connections kept open between reads. More readers than this at once open their own
/// connection (reads never wait for one another) and close it afterwards.
const IDLE_READERS: usize = 8;

/// The SQLite store. Dropping it (or [`Sqlite::close`]) commits every unit queued so far and
/// stops the writer.
pub struct Sqlite {
    path: PathBuf,
    sender: SyncSender<Message>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    stats: Arc<Stats>,
    budget: Arc<Budget>,
    /// Last, so that it is released after the writer has stopped.
    _lock: lock::DirLock,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Sqlite {
    /// Opens (or creates) the store in `dir`, creating the directory when missing. Refuses a
    /// database whose schema is newer than this build's, and a directory another process has
    /// open (`<dir>/dmap.lock`).
    pub fn open(dir: &Path) -> Result<Sqlite, StoreError> {
        let path = dir.join(FILE_NAME);
        let database = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Database {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|error| database(Box::new(error)))?;
        let lock = lock::DirLock::acquire(dir).map_err(|error| database(Box::new(error)))?;
        let conn = schema::open_writer(&path).map_err(|error| database(Box::new(error)))?;
        let stats = Arc::new(Stats::default());
        let budget = Arc::new(Budget::new(QUEUE_BYTES));
        let (sender, handle) = writer::spawn(conn, &path, Arc::clone(&stats), Arc::clone(&budget))
            .map_err(|error| database(Box::new(error)))?;
        Ok(Sqlite {
            path,
            sender,
            writer: Mutex::new(Some(handle)),
            readers: Mutex::new(Vec::new()),
            stats,
            budget,
            _lock: lock,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commits every unit queued so far, then stops the writer; later units fail with
    /// [`StoreError::Closed`]. Reads go on working. Called by `drop` too.
    pub fn close(&self) {
        let handle = self.writer.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(handle) = handle {
            // Fails only when the writer has already stopped.
            let _ = self.sender.send(Message::Stop);
            if handle.join().is_err() {
                tracing::error!(store = %self.path.display(), "the store's writer panicked");
            }
        }
    }

    /// Groups committed since the store was opened (one transaction and one sync each).
    pub fn groups_committed(&self) -> u64 {
        self.stats.groups()
    }

    /// Units committed since the store was opened, failed units included (they were part of a
    /// committed group).
    pub fn units_committed(&self) -> u64 {
        self.stats.units()
    }

    /// How long groups took to commit (see [`CommitLatency`]).
    pub fn commit_latency(&self) -> CommitLatency {
        self.stats.latency()
    }

    /// Queues a unit, blocking while the queue is full (see [`QUEUE_CAPACITY`] and
    /// [`QUEUE_BYTES`]).
    fn send(
        &self,
        writes: Vec<Write>,
        done: Option<oneshot::Sender<Result<(), StoreError>>>,
    ) -> Result<(), StoreError> {
        let weight = budget::weight(&writes);
        self.budget.take(weight).map_err(|_| StoreError::Closed)?;
        self.sender.send(Message::Unit(Unit { writes, done, weight })).map_err(|_| {
            self.budget.give(weight);
            StoreError::Closed
        })
    }

    /// Runs `read` on a pooled read connection.
    fn read<T, E>(&self, read: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, StoreError>
    where
        E: Into<ReadError>,
    {
        let idle = self.readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => schema::open_reader(&self.path).map_err(|error| self.error(error.into()))?,
        };
        let result = read(&conn).map_err(|error| self.error(error.into()));
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < IDLE_READERS {
            readers.push(conn);
        }
        result
    }

    fn error(&self, error: ReadError) -> StoreError {
        match error {
            ReadError::PageKey(message) => StoreError::InvalidPageKey(message),
            ReadError::Sqlite(error) => {
                StoreError::Database { path: self.path.display().to_string(), source: Box::new(error) }
            }
        }
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        self.close();
    }
}

impl Store for Sqlite {
    fn commit(&self, unit: Vec<Write>) -> Commit {
        let (done, waiter) = oneshot::channel();
        let sent = self.send(unit, Some(done));
        Box::pin(async move {
            sent?;
            // The writer dropped the waiter's sender without an answer: it stopped.
            waiter.await.unwrap_or(Err(StoreError::Closed))
        })
    }

    fn submit(&self, unit: Vec<Write>) {
        if self.send(unit, None).is_err() {
            tracing::error!(store = %self.path.display(), "a unit submitted to a closed store was dropped");
        }
    }

    fn definition(&self, hash: &str) -> Result<Option<String>, StoreError> {
        self.read(|conn| reads::definition(conn, hash))
    }

    fn state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>, StoreError> {
        self.read(|conn| reads::state_machine(conn, arn))
    }

    fn list_state_machines(&self, page: &PageRequest) -> Result<Page<StateMachineRecord>, StoreError> {
        self.read(|conn| reads::list_state_machines(conn, page))
    }

    fn version(&self, arn: &str) -> Result<Option<VersionRecord>, StoreError> {
        self.read(|conn| reads::version(conn, arn))
    }

    fn list_versions(&self, state_machine_arn: &str, page: &PageRequest) -> Result<Page<VersionRecord>, StoreError> {
        self.read(|conn| reads::list_versions(conn, state_machine_arn, page))
    }

    fn alias(&self, arn: &str) -> Result<Option<AliasRecord>, StoreError> {
        self.read(|conn| reads::alias(conn, arn))
    }

    fn list_aliases(&self, state_machine_arn: &str, page: &PageRequest) -> Result<Page<AliasRecord>, StoreError> {
        self.read(|conn| reads::list_aliases(conn, state_machine_arn, page))
    }

    fn tags(&self, resource_arn: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.read(|conn| reads::tags(conn, resource_arn))
    }

    fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        self.read(|conn| reads::execution(conn, arn))
    }

    fn list_executions(
        &self,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> Result<Page<ExecutionRecord>, StoreError> {
        self.read(|conn| reads::list_executions(conn, filter, page))
    }

    fn running_executions(&self) -> Result<Vec<ExecutionRecord>, StoreError> {
        self.read(reads::running_executions)
    }

    fn events(
        &self,
        execution_arn: &str,
        from: Option<u64>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.read(|conn| reads::events(conn, execution_arn, from, reverse, limit))
    }

    fn map_run(&self, arn: &str) -> Result<Option<MapRunRecord>, StoreError> {
        self.read(|conn| reads::map_run(conn, arn))
    }

    fn list_map_runs(&self, execution_arn: &str, page: &PageRequest) -> Result<Page<MapRunRecord>, StoreError> {
        self.read(|conn| reads::list_map_runs(conn, execution_arn, page))
    }

    fn outcomes(&self, map_run_id: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        self.read(|conn| reads::outcomes(conn, map_run_id))
    }

    fn activity(&self, arn: &str) -> Result<Option<ActivityRecord>, StoreError> {
        self.read(|conn| activities::get(conn, arn))
    }

    fn list_activities(&self, page: &PageRequest) -> Result<Page<ActivityRecord>, StoreError> {
        self.read(|conn| activities::list(conn, page))
    }

    fn activity_count(&self) -> Result<u64, StoreError> {
        self.read(activities::count)
    }

    fn expired_outcomes(&self, stopped_before: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        self.read(|conn| reads::expired_outcomes(conn, stopped_before.timestamp_micros()))
    }
    fn secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|conn| reads::secret(conn, name))
    }
    fn callback_outcome(&self, token: &str) -> Result<Option<String>, StoreError> {
        self.read(|conn| reads::callback_outcome(conn, token))
    }
}
