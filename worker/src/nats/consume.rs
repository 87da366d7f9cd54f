//! The worker's consume loop: pull batch messages from the shared consumers (and those of the
//! capability tokens it covers: `consume/capabilities.rs`), run their
//! children, publish the outcomes, acknowledge. A message is a parcel of one or more batches
//! (children); its outcome message answers all of them.
//!
//! The ack table — every way a message leaves this worker — lives in [`Worker::handle`]:
//!
//! | situation                                   | action                                        |
//! |---------------------------------------------|-----------------------------------------------|
//! | children running                            | `Progress` every ack-wait / 3                 |
//! | outcomes published (server confirmed)       | `Ack` (double ack)                            |
//! | last allowed run (runs counted in KV)       | run alone: no pulls, no other batch running   |
//! | allowed runs used up                        | publish FAILED outcomes, then `Term`          |
//! | a parcel of several children redelivered    | republish each child alone, then `Term`       |
//! | a batch of another protocol version         | `Nak` after `hand_back`, for a worker that    |
//! |                                             | reads it, until `max_deliveries`; then as     |
//! |                                             | below, cause naming both versions             |
//! | unreadable, but its envelopes name a valid  | publish FAILED outcomes naming the cause,     |
//! | Map Run id and nonce                        | then `Term`                                   |
//! | unreadable, and nowhere to answer (a field  | `Term`, logged as an error and counted        |
//! | that cannot name a subject or key)          | (`dmap_worker_terminated_total`)              |
//! | outcome publish refused for good (an        | `Term`, logged and counted                    |
//! | invalid subject)                            |                                               |
//! | outcomes too large for one message          | several messages; a lone outcome that does    |
//! |                                             | not fit is published FAILED (`consume/fit`)   |
//! | outcome publish not confirmed (transient)   | publish again, same message id, until it is   |
//! | draining on SIGTERM past the grace period   | `Nak`: another worker takes it at once        |
//! | a NATS error while fetching the definition  | `Nak` after 1 s                               |

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::PullConsumer};
use futures::StreamExt;
use shared::protocol::nats::{RUN_HEADER, run_starts_key};
use shared::protocol::{Batch, Outcome, VERSION, read_batches};
use tokio::sync::{Semaphore, watch};

use super::definitions::{Definitions, Lookup};

mod capabilities;
mod fit;
mod publish;
mod unreadable;
use super::topology::WorkerSide;
use crate::executor::Executor;
use publish::Parcel;

/// How much a worker takes on at once.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Messages of CPU-bound children held at once (a little more than the rayon threads, so a
    /// thread never waits for the next pull).
    pub cpu_messages: usize,
    /// Messages of children that wait or call out held at once.
    pub io_messages: usize,
    pub ack_wait: Duration,
    pub max_deliveries: i64,
    /// On SIGTERM, how long in-flight messages may take before they are handed back.
    pub drain: Duration,
    /// How long a batch of another protocol version waits, handed back, before its next
    /// delivery (to this or another worker); after `max_deliveries` it is answered FAILED.
    pub hand_back: Duration,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Stats {
    pub messages: AtomicU64,
    pub batches_succeeded: AtomicU64,
    pub batches_failed: AtomicU64,
    pub batches_timed_out: AtomicU64,
    pub items_succeeded: AtomicU64,
    pub items_failed: AtomicU64,
    pub items_timed_out: AtomicU64,
    pub in_flight_batches: AtomicI64,
    pub redeliveries: AtomicU64,
    pub exhausted: AtomicU64,
    pub splits: AtomicU64,
    pub returned: AtomicU64,
    pub publish_retries: AtomicU64,
    /// Messages terminated without an outcome: nobody could be answered (see the ack table).
    pub terminated: AtomicU64,
    /// Messages of another protocol version handed back for a worker that reads them.
    pub handed_back: AtomicU64,
    /// Outcome publishes unconfirmed for longer than the ack wait (the server has meanwhile
    /// handed their batches to someone else): while any is, the worker makes no progress.
    pub stuck_publishes: AtomicI64,
}

pub struct Worker {
    js: jetstream::Context,
    side: WorkerSide,
    executor: Executor,
    limits: Limits,
    /// Compiled children by definition hash, or the one fetch in progress for a hash.
    definitions: Definitions,
    /// Batches run under its read side; a batch on its last allowed run takes the write side,
    /// so that it runs alone (see [`Worker::handle`]).
    isolation: tokio::sync::RwLock<()>,
    /// Batches waiting to run alone: no new pulls meanwhile.
    isolating: std::sync::atomic::AtomicUsize,
    /// The functions and connections of this worker's functions file (`capabilities`).
    serves: shared::protocol::Needs,
    pub stats: Arc<Stats>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("limits", &self.limits).finish()
    }
}

/// Why a message was given up without an outcome.
enum Abandon {
    /// Draining took too long: hand the message back.
    Drain,
    /// A transient NATS error: try again later.
    Retry(String),
    /// The outcome can never be published (e.g. its subject is invalid): terminate the message.
    Permanent(String),
}

impl Worker {
    /// A worker that serves no functions or connections (pulls `cpu` and `io` only).
    pub fn new(js: jetstream::Context, side: WorkerSide, executor: Executor, limits: Limits) -> Arc<Self> {
        Self::serving(js, side, executor, limits, shared::protocol::Needs::default())
    }

    /// A worker that also pulls the children needing no more than `serves` (what its
    /// executor's integrations serve: `Integrations::serves`).
    pub fn serving(
        js: jetstream::Context,
        side: WorkerSide,
        executor: Executor,
        limits: Limits,
        serves: shared::protocol::Needs,
    ) -> Arc<Self> {
        Arc::new(Worker {
            serves,
            js,
            definitions: Definitions::new(side.definitions.clone()),
            side,
            executor,
            limits,
            isolation: tokio::sync::RwLock::new(()),
            isolating: std::sync::atomic::AtomicUsize::new(0),
            stats: Arc::default(),
        })
    }

    /// Pulls and runs until `stop` turns true, then drains: no new pulls (what an open pull
    /// request still brings is run), in-flight messages finish within the grace period or are
    /// handed back. Returns once nothing is in flight.
    pub async fn run(self: Arc<Self>, stop: watch::Receiver<bool>) {
        let (abandon_tx, abandon_rx) = watch::channel(false);
        let cpu = Arc::new(Semaphore::new(self.limits.cpu_messages.max(1)));
        let io = Arc::new(Semaphore::new(self.limits.io_messages.max(1)));
        let pulls = [
            tokio::spawn(self.clone().pull(self.side.cpu.clone(), cpu.clone(), stop.clone(), abandon_rx.clone())),
            tokio::spawn(self.clone().pull(self.side.io.clone(), io.clone(), stop.clone(), abandon_rx.clone())),
            tokio::spawn(self.clone().serve_capabilities(io.clone(), stop.clone(), abandon_rx.clone())),
        ];
        for p in pulls {
            let _ = p.await;
        }
        // Draining: every permit back means every message is finished.
        let all = async {
            let _a = cpu.acquire_many(self.limits.cpu_messages.max(1) as u32).await;
            let _b = io.acquire_many(self.limits.io_messages.max(1) as u32).await;
        };
        if tokio::time::timeout(self.limits.drain, all).await.is_err() {
            tracing::warn!(
                in_flight = self.stats.in_flight_batches.load(Ordering::Relaxed),
                "drain period over: handing in-flight batches back to the queue"
            );
            let _ = abandon_tx.send(true);
            let _ = cpu.acquire_many(self.limits.cpu_messages.max(1) as u32).await;
            let _ = io.acquire_many(self.limits.io_messages.max(1) as u32).await;
        }
    }

    async fn pull(
        self: Arc<Self>,
        consumer: PullConsumer,
        slots: Arc<Semaphore>,
        mut stop: watch::Receiver<bool>,
        abandon: watch::Receiver<bool>,
    ) {
        let client = self.js.client().statistics();
        loop {
            let stopped = *stop.borrow();
            if stopped {
                return;
            }
            if self.isolating.load(Ordering::Acquire) > 0 {
                // A batch is about to run alone: take nothing new until it has.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(20)) => continue,
                    _ = stop.changed() => return,
                }
            }
            let first = tokio::select! {
                p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
                _ = stop.changed() => return,
            };
            let mut permits = vec![first];
            while permits.len() < 256 {
                match slots.clone().try_acquire_owned() {
                    Ok(p) => permits.push(p),
                    Err(_) => break,
                }
            }
            let connects = client.connects.load(Ordering::Relaxed);
            let request = consumer.batch().max_messages(permits.len()).expires(PULL_EXPIRY).messages();
            let mut messages = match request.await {
                Ok(m) => m,
                Err(e) => {
                    // The server may be restarting: keep polling, never give up.
                    tracing::warn!(error = %e, "cannot pull batches; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        _ = stop.changed() => return,
                    }
                    continue;
                }
            };
            // A restarted server has forgotten this pull request; the client would only give up
            // on it five seconds after its expiry.
            let lost = reconnected(&client, connects);
            tokio::pin!(lost);
            loop {
                let next = tokio::select! {
                    m = messages.next() => m,
                    _ = stop.changed() => {
                        // The open pull request was sized to free slots, and the server may
                        // still fill it until it expires: run what it brings as in-flight work
                        // (the drain waits for it). Handing it back instead would make the next
                        // delivery look like a run that died with its worker — split into
                        // single-child messages and counted against --max-deliveries — and
                        // dropping the request would leave its messages unacknowledged for
                        // AckWait.
                        let until = tokio::time::Instant::now() + PULL_EXPIRY + Duration::from_millis(500);
                        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(until, messages.next()).await {
                            let Some(permit) = permits.pop() else {
                                let _ = msg.ack_with(AckKind::Nak(None)).await;
                                continue;
                            };
                            let (me, abandon) = (self.clone(), abandon.clone());
                            tokio::spawn(async move {
                                me.handle(msg, abandon).await;
                                drop(permit);
                            });
                        }
                        return;
                    }
                    _ = &mut lost => break,
                };
                match next {
                    Some(Ok(msg)) => {
                        let Some(permit) = permits.pop() else { break };
                        let (me, abandon) = (self.clone(), abandon.clone());
                        tokio::spawn(async move {
                            me.handle(msg, abandon).await;
                            drop(permit);
                        });
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "pull request ended");
                        break;
                    }
                    None => break,
                }
            }
        }
    }

    /// One message, from receipt to its final acknowledgement (the ack table above).
    async fn handle(&self, msg: jetstream::Message, abandon: watch::Receiver<bool>) {
        self.stats.messages.fetch_add(1, Ordering::Relaxed);
        let delivered = msg.info().map(|i| i.delivered).unwrap_or(1);
        let body = match super::codec::decode(&msg.payload, msg.headers.as_ref()) {
            Ok(b) => b,
            Err(e) => {
                let run = msg.headers.as_ref().and_then(|h| h.get(RUN_HEADER)).map(|v| v.to_string());
                self.terminate(&msg, &format!("unreadable batch message: {e}"), run.as_deref()).await;
                return;
            }
        };
        let mut batches: Vec<Batch> = match read_batches(&body) {
            Ok(b) if !b.is_empty() && b.iter().all(|b| b.v == VERSION) => b,
            read => {
                let error = read.err().map(|e| e.to_string());
                self.unreadable(&msg, &body, delivered, error, &abandon).await;
                return;
            }
        };
        if delivered > 1 {
            self.stats.redeliveries.fetch_add(1, Ordering::Relaxed);
        }
        for b in &mut batches {
            b.attempt = delivered.max(1) as u32;
        }
        let run = batches[0].map_run_id.clone();
        // The server's own limit is a backstop, several times ours: what counts is how often a
        // batch was *run* (below), not how often it was delivered — a batch that only waited on
        // a worker killed by another batch has lost a delivery, not a run.
        let backstop = delivered >= self.limits.max_deliveries * BACKSTOP;
        if delivered >= 2 && batches.len() > 1 && !backstop {
            // One of these children may be what killed the last worker: run each alone, so
            // that only it can exhaust its deliveries.
            if self.split(&msg, batches).await.is_ok() {
                self.stats.splits.fetch_add(1, Ordering::Relaxed);
                let _ = msg.double_ack_with(AckKind::Term).await;
            } else {
                let _ = msg.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
            }
            return;
        }
        let mut alone = false;
        if delivered >= 2 {
            let runs = if backstop { Ok(Runs::Exhausted(delivered as u64)) } else { self.count_run(&batches[0]).await };
            match runs {
                Ok(Runs::Exhausted(n)) => {
                    // Every earlier run died with its worker: this delivery reports instead of
                    // running, so the items end FAILED rather than stuck in the stream.
                    self.stats.exhausted.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(map_run = %run, first_batch = batches[0].batch, runs = n, "batch started too often: its children fail");
                    let cause = format!(
                        "the batch was started {n} times and no worker finished it (each worker stopped while running \
                         it: killed, out of memory or crashed); it is not retried further"
                    );
                    let outcomes = batches.iter().map(|b| failed(b, "States.Runtime", &cause)).collect();
                    match self.publish_outcomes(&run, &Parcel::of(&batches), outcomes, &abandon).await {
                        Ok(()) => {
                            let _ = msg.double_ack_with(AckKind::Term).await;
                        }
                        Err(Abandon::Permanent(why)) => self.terminate(&msg, &why, Some(&run)).await,
                        Err(_) => {}
                    }
                    return;
                }
                Ok(Runs::Again { last }) => alone = last,
                Err(e) => {
                    tracing::warn!(map_run = %run, error = %e, "cannot count the batch's runs; handing it back");
                    let _ = msg.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
                    return;
                }
            }
        }
        match self.run_batches(&msg, &run, batches, alone, &abandon).await {
            Ok(()) => {
                let _ = msg.double_ack().await;
            }
            Err(Abandon::Drain) => {
                self.stats.returned.fetch_add(1, Ordering::Relaxed);
                let _ = msg.ack_with(AckKind::Nak(None)).await;
            }
            Err(Abandon::Retry(why)) => {
                tracing::warn!(map_run = %run, reason = %why, "batch handed back for a later try");
                let _ = msg.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
            }
            Err(Abandon::Permanent(why)) => self.terminate(&msg, &why, Some(&run)).await,
        }
    }

    /// Ends a message that cannot be answered: `Term`, so that the server never delivers it
    /// again, with the reason logged and counted.
    async fn terminate(&self, msg: &jetstream::Message, why: &str, map_run: Option<&str>) {
        self.stats.terminated.fetch_add(1, Ordering::Relaxed);
        tracing::error!(subject = %msg.subject, map_run = ?map_run, reason = %why, "batch message terminated without an outcome");
        let _ = msg.ack_with(AckKind::Term).await;
    }

    async fn run_batches(
        &self,
        msg: &jetstream::Message,
        run: &str,
        batches: Vec<Batch>,
        alone: bool,
        abandon: &watch::Receiver<bool>,
    ) -> Result<(), Abandon> {
        let hash = batches[0].definition.clone();
        let parcel = Parcel::of(&batches);
        let outcomes: Vec<Outcome> = match self.definitions.child(&hash).await {
            Ok(Lookup::Ready(child)) => {
                let n = batches.len() as i64;
                self.stats.in_flight_batches.fetch_add(n, Ordering::Relaxed);
                // A batch on its last allowed run runs alone: if it is what killed the previous
                // workers, it takes no other batch down with it.
                let work = async {
                    let _pause = alone.then(|| Pausing::new(&self.isolating));
                    let _alone = if alone { Some(self.isolation.write().await) } else { None };
                    let _shared = if alone { None } else { Some(self.isolation.read().await) };
                    if alone {
                        tracing::warn!(map_run = %run, batch = parcel.first, "last allowed run: running it alone");
                    }
                    // The batches move into the executor; `parcel` keeps what publishing needs.
                    // `join_all` keeps their order.
                    futures::future::join_all(batches.into_iter().map(|b| self.executor.run(child.clone(), b))).await
                };
                let result = self.with_progress(msg, work, abandon).await;
                self.stats.in_flight_batches.fetch_sub(n, Ordering::Relaxed);
                result?
            }
            Ok(Lookup::Refused(cause)) => batches.iter().map(|b| failed(b, "States.Runtime", &cause)).collect(),
            Err(e) => return Err(Abandon::Retry(e)),
        };
        self.publish_outcomes(run, &parcel, outcomes, abandon).await
    }

    /// Awaits `work`, telling the server every ack-wait / 3 that the message is being worked on.
    async fn with_progress<T>(
        &self,
        msg: &jetstream::Message,
        work: impl std::future::Future<Output = T>,
        abandon: &watch::Receiver<bool>,
    ) -> Result<T, Abandon> {
        let mut abandon = abandon.clone();
        let every = (self.limits.ack_wait / 3).max(Duration::from_millis(100));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tokio::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return Ok(out),
                _ = ticker.tick() => { let _ = msg.ack_with(AckKind::Progress).await; }
                _ = raised(&mut abandon) => return Err(Abandon::Drain),
            }
        }
    }

    /// Counts a run of a redelivered batch in the runs bucket (key `<run>.starts.<batch>`,
    /// compare-and-set). The first delivery's run is not recorded (that would cost a write per
    /// batch); it is counted as one whether or not it started.
    async fn count_run(&self, b: &Batch) -> Result<Runs, String> {
        let key = run_starts_key(&b.map_run_id, b.batch);
        let max = self.limits.max_deliveries.max(1) as u64;
        for _ in 0..10 {
            let entry = self.side.runs.entry(&key).await.map_err(|e| e.to_string())?;
            let (recorded, revision) = match &entry {
                Some(e) => (
                    std::str::from_utf8(&e.value).ok().and_then(|t| t.parse::<u64>().ok()).unwrap_or(0),
                    Some(e.revision),
                ),
                None => (0, None),
            };
            let before = 1 + recorded;
            if before >= max {
                return Ok(Runs::Exhausted(before));
            }
            let value: bytes::Bytes = (recorded + 1).to_string().into();
            let written = match revision {
                Some(r) => self.side.runs.update(&key, value, r).await.map(|_| ()).map_err(|e| e.to_string()),
                None => self.side.runs.create(&key, value).await.map(|_| ()).map_err(|e| e.to_string()),
            };
            if written.is_ok() {
                return Ok(Runs::Again { last: before + 1 >= max });
            }
        }
        Err("the runs counter kept changing under this worker".into())
    }
}

/// How long a pull request stays open on the server.
const PULL_EXPIRY: Duration = Duration::from_secs(2);

/// The server stops delivering after this many times our limit (a backstop; see `handle`).
pub const BACKSTOP: i64 = 4;

/// What the runs counter says about a redelivered batch.
enum Runs {
    /// It ran this many times already, each time dying with its worker.
    Exhausted(u64),
    /// Run it; `last` when no further run will be allowed.
    Again { last: bool },
}

/// Pauses pulling while it lives (a batch waits to run, or runs, alone).
struct Pausing<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Pausing<'a> {
    fn new(count: &'a std::sync::atomic::AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Pausing(count)
    }
}

impl Drop for Pausing<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Resolves once the client has connected again since it had connected `connects` times.
async fn reconnected(client: &async_nats::Statistics, connects: u64) {
    while client.connects.load(Ordering::Relaxed) == connects {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Resolves once the flag is raised (never, if its sender is gone without raising it).
async fn raised(flag: &mut watch::Receiver<bool>) {
    if flag.wait_for(|a| *a).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn failed(b: &Batch, error: &str, cause: &str) -> Outcome {
    Outcome::failed(b.map_run_id.clone(), b.batch, b.attempt, error, cause, chrono::Utc::now().timestamp_millis())
}
