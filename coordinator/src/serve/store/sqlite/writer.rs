//! The writer thread: the one connection that writes, and group commit.
//!
//! Units arrive over a bounded channel in submission order. The writer blocks for the first
//! unit, then takes every unit already queued (up to [`GROUP_CAP`]) and writes them in one
//! transaction. When a unit fails (a [`StoreError::Conflict`]), the group is rolled back and
//! written again with each unit inside its own savepoint: the failing unit is rolled back
//! alone, and the others commit. One `COMMIT`, hence one sync of the log, makes
//! the whole group durable; only then are its waiters told. While a group is being written,
//! the next one queues, so the cost of a sync is shared by every unit that arrived during it.
//!
//! It must not read for the API: readers have their own connections.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;
use std::time::Instant;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::super::{StoreError, Write};
use super::apply::{ApplyError, apply};
use super::budget::Budget;
use super::metrics::Stats;

/// How many units may wait for the writer, whatever their size; [`QUEUE_BYTES`] bounds their
/// size. A sender blocks when either is reached (backpressure: memory stays bounded). The
/// writer takes [`GROUP_CAP`] units per transaction, so a full queue drains in a few groups:
/// an async caller (the engine on a tokio worker) is blocked only while the disk is that far
/// behind, which is the moment to slow the producers down.
pub const QUEUE_CAPACITY: usize = 65_536;

/// How many bytes of units (estimated by [`weight`](super::budget::weight)) may wait for the
/// writer: about 10 s of history at 5,000 executions/s of 8 events (~12 MB/s), or 512 units
/// that carry 256 KiB inputs.
pub const QUEUE_BYTES: usize = 128 << 20;

/// The most units in one transaction, so that a group's waiters are not held back by an
/// arbitrarily long transaction and the log does not grow without a commit.
pub const GROUP_CAP: usize = 4_096;

/// What goes to the writer.
pub enum Message {
    Unit(Unit),
    /// Commit what was queued before, then stop (units queued after it fail with `Closed`).
    Stop,
}

/// One unit and, for [`Store::commit`](super::super::Store::commit), who waits for it.
pub struct Unit {
    pub writes: Vec<Write>,
    pub done: Option<oneshot::Sender<Result<(), StoreError>>>,
    /// What it took from the budget, given back once written.
    pub weight: usize,
}

/// Starts the writer thread on `conn`.
pub fn spawn(
    conn: Connection,
    path: &Path,
    stats: Arc<Stats>,
    budget: Arc<Budget>,
) -> std::io::Result<(SyncSender<Message>, JoinHandle<()>)> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(QUEUE_CAPACITY);
    let writer = Writer::new(conn, path, stats, budget);
    let handle =
        std::thread::Builder::new().name("dmap-store-writer".to_owned()).spawn(move || writer.run(receiver))?;
    Ok((sender, handle))
}

/// The writer's state; its own thread runs it (tests call [`Writer::write`] directly to make
/// a group of their choice).
pub(super) struct Writer {
    conn: Connection,
    path: String,
    stats: Arc<Stats>,
    budget: Arc<Budget>,
}

impl Writer {
    pub(super) fn new(conn: Connection, path: &Path, stats: Arc<Stats>, budget: Arc<Budget>) -> Writer {
        Writer { conn, path: path.display().to_string(), stats, budget }
    }

    fn run(self, receiver: Receiver<Message>) {
        let mut group = Vec::with_capacity(GROUP_CAP);
        let mut stopping = false;
        while !stopping {
            // Every sender gone (the store dropped without `close`): nothing more can come.
            let Ok(first) = receiver.recv() else { break };
            let mut next = Some(first);
            while let Some(message) = next.take() {
                match message {
                    Message::Unit(unit) => group.push(unit),
                    Message::Stop => {
                        stopping = true;
                        break;
                    }
                }
                if group.len() < GROUP_CAP {
                    // Empty or disconnected: the group is what came so far.
                    next = receiver.try_recv().ok();
                }
            }
            if !group.is_empty() {
                self.write(&mut group);
            }
        }
        // Senders blocked on the budget would otherwise wait for a writer that has gone.
        self.budget.close();
        refuse_the_rest(&receiver);
    }

    /// Writes one group and tells its waiters.
    pub(super) fn write(&self, group: &mut Vec<Unit>) {
        let started = Instant::now();
        let results = match self.transaction(|conn| {
            let written = optimistic(conn, group);
            Ok((written, written))
        }) {
            Ok(true) => Ok(group.iter().map(|_| Ok(())).collect()),
            // A unit failed: the group was rolled back. Write it again with a savepoint per
            // unit, so that only the failing units are lost.
            Ok(false) => self.transaction(|conn| Ok((self.unit_by_unit(conn, group)?, true))),
            Err(error) => Err(error),
        };
        let results = match results {
            Ok(results) => {
                self.stats.record(group.len(), started.elapsed());
                results
            }
            Err(error) => {
                tracing::error!(store = %self.path, %error, units = group.len(), "a group commit failed");
                group.iter().map(|_| Err(self.database(error.to_string().into()))).collect()
            }
        };
        self.budget.give(group.iter().map(|unit| unit.weight).sum());
        for (unit, result) in group.drain(..).zip(results) {
            match unit.done {
                // The waiter may have gone (its request was cancelled): nothing to tell then.
                Some(done) => drop(done.send(result)),
                None => {
                    if let Err(error) = result {
                        tracing::error!(store = %self.path, %error, "a submitted unit was not written");
                    }
                }
            }
        }
    }

    /// Runs `body` in one transaction, which commits when `body` returns `(value, true)` and
    /// rolls back when it returns `(value, false)` or fails. The error means the whole group
    /// is lost.
    fn transaction<T>(&self, body: impl FnOnce(&Connection) -> rusqlite::Result<(T, bool)>) -> rusqlite::Result<T> {
        let conn = &self.conn;
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        let mut committed = false;
        let result = body(conn).and_then(|(value, commit)| {
            if commit {
                conn.prepare_cached("COMMIT")?.execute([])?;
                committed = true;
            }
            Ok(value)
        });
        if !committed
            && !conn.is_autocommit()
            && let Err(error) = conn.execute_batch("ROLLBACK")
        {
            tracing::error!(store = %self.path, %error, "rolling back a group failed");
        }
        result
    }

    /// Every unit inside its own savepoint: a failing unit is rolled back alone.
    fn unit_by_unit(&self, conn: &Connection, group: &[Unit]) -> rusqlite::Result<Vec<Result<(), StoreError>>> {
        let mut savepoint = conn.prepare_cached("SAVEPOINT unit")?;
        let mut release = conn.prepare_cached("RELEASE unit")?;
        let mut rollback = conn.prepare_cached("ROLLBACK TO unit")?;
        let mut results = Vec::with_capacity(group.len());
        for unit in group {
            savepoint.execute([])?;
            match unit.writes.iter().try_for_each(|write| apply(conn, write)) {
                Ok(()) => {
                    release.execute([])?;
                    results.push(Ok(()));
                }
                Err(error) => {
                    // Fails (and fails the group) when SQLite rolled the whole transaction
                    // back itself, as it does on a full disk or an I/O error.
                    rollback.execute([])?;
                    release.execute([])?;
                    results.push(Err(self.unit_error(error)));
                }
            }
        }
        Ok(results)
    }

    fn unit_error(&self, error: ApplyError) -> StoreError {
        match error {
            ApplyError::Conflict(key) => StoreError::Conflict(key),
            error => self.database(Box::new(error)),
        }
    }

    fn database(&self, source: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
        StoreError::Database { path: self.path.clone(), source }
    }
}

/// The group without savepoints, which cost a copy of every page a unit touches first (~10% of
/// the writer's time, measured): `false` as soon as a unit fails, since the writes before it in
/// its unit cannot be undone alone. Failures are rare (a uniqueness race), so the retry
/// unit by unit is too.
fn optimistic(conn: &Connection, group: &[Unit]) -> bool {
    group.iter().all(|unit| unit.writes.iter().all(|write| apply(conn, write).is_ok()))
}

/// Units that came after `Stop`: their waiters hear `Closed`, and submitted ones are counted
/// in the log, since nobody else will learn they were dropped.
fn refuse_the_rest(receiver: &Receiver<Message>) {
    let mut dropped = 0usize;
    while let Ok(message) = receiver.try_recv() {
        if let Message::Unit(unit) = message {
            match unit.done {
                Some(done) => drop(done.send(Err(StoreError::Closed))),
                None => dropped += 1,
            }
        }
    }
    if dropped > 0 {
        tracing::error!(units = dropped, "units submitted after the store was closed were dropped");
    }
}
