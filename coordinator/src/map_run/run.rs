//! Runs one Map Run: items → ItemSelector → ItemBatcher → dispatch under MaxConcurrency →
//! outcomes → ledger and tolerated failures → results. Memory is bounded by the in-flight
//! window (children running, plus one chunk of read items), not by the item count.
//!
//! Each run has a [`MapRunHandle`] in the host's [`MapRuns`] from its start to its end: the
//! driver publishes its counts there, and applies the updates and the stop it finds there at
//! the top of its loop (or as soon as it waits for an outcome).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::{DATA_LIMIT_EXCEEDED, EXCEED_TOLERATED_FAILURE_THRESHOLD, RUNTIME};
use shared::asl::eval::map_run::MapRunRequest;
use shared::asl::model::{ExecutionType, ProcessorMode};
use shared::protocol::{Batch, ChildIdentity, DefinitionRecord, Outcome, OutcomeStatus, VERSION};
use worker::executor::Child;

use super::batcher::{Batcher, MAX_BATCH_BYTES, Packed};
use super::handle::{MapRunHandle, MapRunStatus, Start};
use super::items::Source;
use super::names::RunNames;
use super::record::{ChildRecord, ChildStatus};
use super::registry::{MapRuns, map_run_id};
use super::sink::Sink;
use super::status::Progress;
use super::tracker::{Tolerance, Tracker};
use super::transport::{Checkpoint, RunChannel, RunSpec, Transport};
use crate::storage::Storage;

/// AWS runs at most 10,000 children of a Map Run at once; dmap's window when MaxConcurrency is 0.
pub const MAX_CHILDREN: u64 = 10_000;
/// Child inputs held in flight at most (bytes of JSON text), whatever MaxConcurrency allows:
/// bounds the coordinator's memory when batches are large. Children that wait or call out
/// hold their parsed input (about ten times the text) while they wait for a function process,
/// so they get a quarter of it (measured with `bench functions`: peak RSS 441 → 166 MiB, 485k → 593k items/s).
const IN_FLIGHT_BYTES: usize = 16 << 20;
/// The cause of the `States.Runtime` failure of a Map state whose Map Run was stopped
/// ([`MapRunHandle::stop`]): no Catch catches it, so the execution fails (or is aborted, as its
/// engine decides).
pub const ABORTED_CAUSE: &str = "The Map Run was aborted";

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// ResultWriter file size before rolling over to the next file (AWS: 5 GB).
    pub rollover_bytes: u64,
    /// AWS's 256 KiB limits on child inputs and state outputs; `None` lifts them.
    pub max_payload_bytes: Option<usize>,
    /// The id of the execution's first Map Run (`--resume ID`); later ones get `ID-2`, `ID-3`…
    /// in the order they start. `None`: random ids. Runs started with a key
    /// ([`MapRunner::run`]) take their id from it instead.
    pub map_run_id: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { rollover_bytes: 5 << 30, max_payload_bytes: Some(MAX_BATCH_BYTES as usize), map_run_id: None }
    }
}

/// Runs Map Runs over a transport, reading and writing through storage.
pub struct MapRunner {
    pub storage: Arc<Storage>,
    pub transport: Arc<dyn Transport>,
    pub options: RunOptions,
    pub progress: Arc<Progress>,
    /// Map Runs started so far without a key (numbers the ids derived from
    /// `options.map_run_id`).
    pub started: std::sync::atomic::AtomicU64,
    /// The running Map Runs, by ARN: their handles.
    pub map_runs: MapRuns,
}

struct InFlight {
    item_count: u64,
    input: Arc<str>,
}

/// A run's place in the registry: it leaves it however the run's future ends. A future
/// dropped before the end (its execution was cancelled) leaves the run ABORTED.
struct Registered<'r> {
    runs: &'r MapRuns,
    handle: MapRunHandle,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.handle.end(None, MapRunStatus::Aborted);
        self.runs.remove(&self.handle);
    }
}

impl MapRunner {
    /// Runs a Map Run to its end. `key` is stable for this Map state's entry in its execution
    /// (the engine gives the id of the event that entered the state): the run's id derives
    /// from the execution and the key, so a restarted server resumes the same run. Without a
    /// key, ids come from `options.map_run_id` (`--resume ID`: `ID`, `ID-2`, …) or are random.
    pub async fn run(&self, req: MapRunRequest<'_>, key: Option<&str>) -> Result<Value, Failure> {
        let names = self.names(&req, key);
        let tolerance = Tolerance { count: req.tolerated_failure_count, percentage: req.tolerated_failure_percentage };
        let handle = self.map_runs.register(Start {
            map_run_arn: names.map_run_arn.clone(),
            execution_arn: req.parent.execution_arn(),
            state_machine_arn: names.child_state_machine_arn.clone(),
            max_concurrency: req.max_concurrency,
            tolerance,
        });
        let registered = Registered { runs: &self.map_runs, handle };
        let result = self.drive(req, &names, &registered.handle).await;
        // The driver ends the handle itself on its way out; the ways out before it started
        // (a resumed run that had ended, an error opening it) end it here.
        let status = if result.is_ok() { MapRunStatus::Succeeded } else { MapRunStatus::Failed };
        registered.handle.end(None, status);
        result
    }

    fn names(&self, req: &MapRunRequest<'_>, key: Option<&str>) -> RunNames {
        let label = req.map.label.as_deref();
        if let Some(key) = key {
            return RunNames::with_id(
                &req.parent,
                &req.state.name,
                label,
                &map_run_id(&req.parent.execution_arn(), key),
            );
        }
        let n = self.started.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        match &self.options.map_run_id {
            Some(id) if n == 1 => RunNames::with_id(&req.parent, &req.state.name, label, id),
            Some(id) => RunNames::with_id(&req.parent, &req.state.name, label, &format!("{id}-{n}")),
            None => RunNames::new(&req.parent, &req.state.name, label),
        }
    }

    async fn drive(&self, req: MapRunRequest<'_>, names: &RunNames, handle: &MapRunHandle) -> Result<Value, Failure> {
        let express = req.map.mode == ProcessorMode::Distributed(ExecutionType::Express);
        let child = Arc::new(Child::new(Arc::new(req.map.processor.clone()), self.options.max_payload_bytes));
        let record = DefinitionRecord {
            v: VERSION,
            definition: (*req.map.processor_definition).clone(),
            max_payload_bytes: self.options.max_payload_bytes,
        };
        let spec = RunSpec {
            map_run_id: names.map_run_id.clone(),
            definition_hash: record.content_hash(),
            definition: req.map.processor_definition.clone(),
            child,
        };
        let mut channel = self.transport.open(spec.clone()).await?;
        // A resumed Map Run: what finished before the interruption is replayed, not run again.
        let history = channel.history().await?;
        if let Some(ended) = history.ended {
            return ended;
        }
        let mut replay: HashMap<u64, Outcome> = HashMap::new();
        for o in history.outcomes {
            replay.entry(o.batch).or_insert(o);
        }
        let mut sink = Sink::new(
            req.writer.as_ref(),
            &self.storage,
            &names.map_run_id,
            &names.map_run_arn,
            self.options.rollover_bytes,
            (self.options.max_payload_bytes, &req.state.name),
        )
        .await?;
        let budget = if spec.child.pure { IN_FLIGHT_BYTES } else { IN_FLIGHT_BYTES / 4 };
        let mut window = window_of(req.max_concurrency);
        let tolerance = Tolerance { count: req.tolerated_failure_count, percentage: req.tolerated_failure_percentage };
        let mut run = Run {
            names,
            handle,
            spec: &spec,
            parent: &req.parent,
            tracker: Tracker::new(tolerance),
            in_flight: HashMap::new(),
            in_flight_bytes: 0,
            next_batch: 0,
            replay,
            max_input: self.options.max_payload_bytes,
            progress: self.progress.start(handle, &req.state.name).with_cause(channel.stall_cause()),
            idle: idle_ticker(),
        };
        let mut source = Source::new(&req, self.storage.clone());
        let mut batcher = req
            .batcher
            .as_ref()
            .map(|b| Batcher::new(b.max_items_per_batch, b.max_input_bytes_per_batch, b.batch_input.as_ref()));
        let mut queue: VecDeque<Packed> = VecDeque::new();
        let mut source_done = false;
        let mut failure: Option<Failure> = None;
        // The last update or stop applied (see `MapRunHandle::controls`).
        let mut seen = 0;
        let mut stopped = false;

        loop {
            while let Some(o) = channel.try_recv() {
                run.on_outcome(o, &mut sink).await?;
            }
            if let Some(c) = handle.controls(&mut seen) {
                // UpdateMapRun: a smaller window starts nothing until the run is below it; the
                // new thresholds judge the failures already counted, just below.
                window = window_of(c.max_concurrency);
                run.tracker.set_tolerance(c.tolerance);
                run.progress.observe(true);
                if c.stop {
                    stopped = true;
                    break;
                }
            }
            if run.tracker.breached() {
                break;
            }
            if let Some(f) = sink.overflowed() {
                // The in-memory result can only fail now: nothing more is started.
                failure = Some(f.clone());
                break;
            }
            if queue.is_empty() {
                if source_done {
                    if run.in_flight.is_empty() {
                        break;
                    }
                    if let Some(o) = run.next_outcome(&mut *channel).await? {
                        run.on_outcome(o, &mut sink).await?;
                    }
                    continue;
                }
                channel.flush().await?;
                channel.note(&run.checkpoint(&sink));
                match source.next_chunk().await {
                    Ok(Some(items)) => {
                        run.tracker.on_read(items.len() as u64);
                        pack(items, batcher.as_mut(), &mut queue);
                    }
                    Ok(None) => {
                        source_done = true;
                        run.tracker.on_reader_done();
                        queue.extend(batcher.as_mut().and_then(Batcher::take));
                    }
                    Err(f) => {
                        failure = Some(f);
                        break;
                    }
                }
                run.progress.update(&run.tracker);
                continue;
            }
            if run.in_flight.len() < window && (run.in_flight_bytes < budget || run.in_flight.is_empty()) {
                if let Some(p) = queue.pop_front() {
                    run.dispatch(p, &mut *channel, &mut sink).await?;
                }
            } else if let Some(o) = run.next_outcome(&mut *channel).await? {
                run.on_outcome(o, &mut sink).await?;
            }
        }

        let breached = !stopped && run.tracker.breached();
        if stopped || breached || failure.is_some() {
            // Standard children are stopped (ABORTED); Express children cannot be, so their
            // results are awaited.
            if express {
                while !run.in_flight.is_empty() {
                    if let Some(o) = run.next_outcome(&mut *channel).await? {
                        run.on_outcome(o, &mut sink).await?;
                    }
                }
            } else {
                run.abort_in_flight(&mut sink).await?;
            }
            // What never started is PENDING. The rest of the dataset is read for the
            // PENDING files only when results are exported and the reader still works.
            queue.extend(batcher.as_mut().and_then(Batcher::take));
            while let Some(p) = queue.pop_front() {
                run.pending(p, &mut sink).await?;
            }
            if sink.exports() && failure.is_none() && !source_done {
                while let Some(items) = source.next_chunk().await.ok().flatten() {
                    run.tracker.on_read(items.len() as u64);
                    pack(items, batcher.as_mut(), &mut queue);
                    while let Some(p) = queue.pop_front() {
                        run.pending(p, &mut sink).await?;
                    }
                }
                queue.extend(batcher.as_mut().and_then(Batcher::take));
                while let Some(p) = queue.pop_front() {
                    run.pending(p, &mut sink).await?;
                }
            }
        }
        let result = sink.finish().await;
        let status = if stopped {
            MapRunStatus::Aborted
        } else if breached || failure.is_some() || result.is_err() {
            MapRunStatus::Failed
        } else {
            MapRunStatus::Succeeded
        };
        run.progress.finish(&run.tracker, status);
        let result = if stopped {
            Err(Failure::new(RUNTIME, ABORTED_CAUSE))
        } else if breached {
            Err(Failure::new(
                EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            ))
        } else if let Some(f) = failure {
            Err(f)
        } else {
            result
        };
        channel.finish(&result).await;
        result
    }
}

/// The state of one Map Run while it runs.
struct Run<'a> {
    names: &'a RunNames,
    handle: &'a MapRunHandle,
    spec: &'a RunSpec,
    parent: &'a shared::asl::eval::ExecutionOptions,
    tracker: Tracker,
    in_flight: HashMap<u64, InFlight>,
    in_flight_bytes: usize,
    next_batch: u64,
    /// Outcomes of batches not handed out yet by this coordinator: replayed from before an
    /// interruption, or arriving for batches the interrupted coordinator had handed out.
    replay: HashMap<u64, Outcome>,
    max_input: Option<usize>,
    progress: super::status::RunProgress<'a>,
    /// Ticks while the Map Run waits for an outcome, so that a stall is noticed.
    idle: tokio::time::Interval,
}

impl Run<'_> {
    /// The next outcome, noticing meanwhile (every second) if the Map Run has stalled; `None`
    /// when an update or a stop came first (the caller's loop applies it). The ticker is made
    /// once per Map Run: waiting costs no timer per outcome.
    async fn next_outcome(&mut self, channel: &mut dyn RunChannel) -> Result<Option<Outcome>, Failure> {
        channel.flush().await?;
        // What was dispatched since the last outcome is seen while the run waits (one snapshot
        // per wait, not one per child started).
        self.progress.publish(&self.tracker);
        loop {
            // All three are cancel-safe: an outcome not taken now stays in the channel, and a
            // wake-up not taken stays in the handle.
            tokio::select! {
                o = channel.recv() => return o.map(Some),
                _ = self.handle.changed() => return Ok(None),
                _ = self.idle.tick() => self.progress.idle(&self.tracker),
            }
        }
    }

    async fn dispatch(&mut self, p: Packed, channel: &mut dyn RunChannel, sink: &mut Sink) -> Result<(), Failure> {
        let batch = self.next_batch;
        self.next_batch += 1;
        self.tracker.on_started(p.item_count);
        let name = self.names.child_name(batch);
        // A child input over AWS's 256 KiB fails that child (its items), not the run.
        if let Some(limit) = self.max_input
            && p.input.len() > limit
        {
            let cause = format!(
                "The input of the child execution for items {}..{} is {} bytes, over the {limit}-byte limit",
                p.first_item,
                p.first_item + p.item_count - 1,
                p.input.len()
            );
            let now = Utc::now();
            let rec = self.record(
                &name,
                ChildStatus::Failed,
                Arc::from(p.input),
                None,
                Some(DATA_LIMIT_EXCEEDED.into()),
                Some(cause),
                Some(now),
                Some(now),
                p.item_count,
            );
            return self.finish(batch, rec, sink).await;
        }
        // The text was built from JSON items by concatenation: no need to parse it again.
        let input: Arc<str> = Arc::from(p.input);
        if let Some(o) = self.replay.remove(&batch) {
            // Finished before an interruption.
            self.in_flight_bytes += input.len();
            self.in_flight.insert(batch, InFlight { item_count: p.item_count, input });
            return self.on_outcome(o, sink).await;
        }
        let msg = Batch {
            v: VERSION,
            map_run_id: self.names.map_run_id.clone(),
            batch,
            attempt: 1,
            definition: self.spec.definition_hash.clone(),
            first_item: p.first_item,
            item_count: p.item_count,
            child: ChildIdentity {
                name,
                state_machine_name: self.names.child_state_machine_name.clone(),
                region: self.parent.region.clone(),
                account: self.parent.account.clone(),
                role_arn: self.parent.role_arn.clone(),
            },
            // The transport sets it if it needs one (NATS).
            nonce: String::new(),
            input: input.clone(),
        };
        self.in_flight_bytes += input.len();
        self.in_flight.insert(batch, InFlight { item_count: p.item_count, input });
        channel.send(msg).await
    }

    async fn on_outcome(&mut self, o: Outcome, sink: &mut Sink) -> Result<(), Failure> {
        // An outcome for a batch no longer in flight is a duplicate delivery or arrives after
        // its child was aborted: the ledger already has it, and it is dropped. One for a batch
        // not handed out yet waits in `replay` until the reader reaches it.
        let Some(f) = self.in_flight.remove(&o.batch) else {
            if o.batch >= self.next_batch {
                self.replay.entry(o.batch).or_insert(o);
            }
            return Ok(());
        };
        self.in_flight_bytes -= f.input.len();
        let status = match o.status {
            OutcomeStatus::Succeeded => ChildStatus::Succeeded,
            OutcomeStatus::Failed => ChildStatus::Failed,
            OutcomeStatus::TimedOut => ChildStatus::TimedOut,
        };
        let name = self.names.child_name(o.batch);
        let output = o.output;
        let rec = self.record(
            &name,
            status,
            f.input,
            output,
            o.error,
            o.cause,
            millis(o.start_millis),
            millis(o.stop_millis),
            f.item_count,
        );
        self.finish(o.batch, rec, sink).await
    }

    async fn abort_in_flight(&mut self, sink: &mut Sink) -> Result<(), Failure> {
        let mut batches: Vec<u64> = self.in_flight.keys().copied().collect();
        batches.sort_unstable();
        for batch in batches {
            if let Some(f) = self.in_flight.remove(&batch) {
                self.in_flight_bytes -= f.input.len();
                let name = self.names.child_name(batch);
                let rec = self.record(
                    &name,
                    ChildStatus::Aborted,
                    f.input,
                    None,
                    None,
                    None,
                    None,
                    Some(Utc::now()),
                    f.item_count,
                );
                self.finish(batch, rec, sink).await?;
            }
        }
        Ok(())
    }

    async fn pending(&mut self, p: Packed, sink: &mut Sink) -> Result<(), Failure> {
        let batch = self.next_batch;
        self.next_batch += 1;
        self.tracker.on_pending_child();
        let name = self.names.child_name(batch);
        let rec =
            self.record(&name, ChildStatus::Pending, Arc::from(p.input), None, None, None, None, None, p.item_count);
        sink.write(batch, rec).await
    }

    async fn finish(&mut self, batch: u64, rec: ChildRecord, sink: &mut Sink) -> Result<(), Failure> {
        let (status, items) = (rec.status, rec.item_count);
        self.tracker.on_finished(status, items);
        sink.write(batch, rec).await?;
        self.tracker.on_written(status, items);
        self.progress.update(&self.tracker);
        Ok(())
    }

    fn checkpoint(&self, sink: &Sink) -> Checkpoint {
        let items = &self.tracker.items;
        Checkpoint {
            next_batch: self.next_batch,
            items_read: items.total,
            items_succeeded: items.succeeded,
            items_failed: items.failed + items.timed_out + items.aborted,
            items_pending: items.pending,
            files_written: sink.files_written(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        name: &str,
        status: ChildStatus,
        input: Arc<str>,
        output: Option<String>,
        error: Option<String>,
        cause: Option<String>,
        start_date: Option<DateTime<Utc>>,
        stop_date: Option<DateTime<Utc>>,
        item_count: u64,
    ) -> ChildRecord {
        ChildRecord {
            status,
            execution_arn: self.names.child_execution_arn(name),
            name: name.to_string(),
            state_machine_arn: self.names.child_state_machine_arn.clone(),
            input,
            output,
            error,
            cause,
            start_date,
            stop_date,
            item_count,
        }
    }
}

/// The in-flight window for a MaxConcurrency. 0 means AWS's "as many as possible", which AWS
/// caps at 10,000; an explicit MaxConcurrency is honoured above that (dmap's workers hold more).
fn window_of(max_concurrency: u64) -> usize {
    (if max_concurrency == 0 { MAX_CHILDREN } else { max_concurrency }) as usize
}

/// Turns selected items into child inputs: batches when an ItemBatcher is configured, one
/// child per item otherwise.
fn pack(items: Vec<super::items::Selected>, batcher: Option<&mut Batcher>, queue: &mut VecDeque<Packed>) {
    match batcher {
        Some(b) => {
            for it in items {
                queue.extend(b.push(it.index, &it.input));
            }
        }
        None => queue.extend(items.into_iter().map(|it| Packed {
            first_item: it.index,
            item_count: 1,
            input: String::from(Box::<str>::from(it.input)),
        })),
    }
}

/// Waits for the next outcome, first sending what the channel held back.
fn idle_ticker() -> tokio::time::Interval {
    let every = Duration::from_secs(1);
    let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    t
}

fn millis(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}
