//! Runs one Map Run: items → ItemSelector → ItemBatcher → dispatch under MaxConcurrency →
//! outcomes → ledger and tolerated failures → results. Memory is bounded by the in-flight
//! window (children running, plus one chunk of read items), not by the item count.
//!
//! Each run has a [`MapRunHandle`] in the host's [`MapRuns`] from its start to its end: the
//! driver publishes its counts there, and applies the updates and the stop it finds there at
//! the top of its loop (or as soon as it waits for an outcome).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::{EXCEED_TOLERATED_FAILURE_THRESHOLD, RUNTIME};
use shared::asl::eval::map_run::MapRunRequest;
use shared::asl::model::{ExecutionType, ProcessorMode};
use shared::protocol::{DefinitionRecord, Outcome, VERSION};
use worker::executor::Child;

mod children;

use children::{Run, idle_ticker};

use super::batcher::{Batcher, MAX_BATCH_BYTES, Packed};
use super::handle::{MapRunHandle, MapRunStatus, Start};
use super::items::Source;
use super::names::RunNames;
use super::registry::{MapRuns, map_run_id};
use super::sink::Sink;
use super::status::Progress;
use super::tracker::{Tolerance, Tracker};
use super::transport::{RunSpec, Transport};
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
        registered.handle.end(None, status_of(&result));
        result
    }

    fn names(&self, req: &MapRunRequest<'_>, key: Option<&str>) -> RunNames {
        let label = req.map.label.as_deref();
        // The engine chose the id (keyed by the execution's history): use it.
        if let Some(id) = &req.map_run_id {
            return RunNames::with_id(&req.parent, &req.state.name, label, id);
        }
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
            // A resumed run that had already ended: its result, and its last counts.
            let mut last = Tracker::default();
            if let Some((items, executions)) = history.checkpoint.and_then(|c| c.counts) {
                (last.items, last.executions) = (items, executions);
            }
            handle.end(Some(&last), status_of(&ended));
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
            express,
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
        // The final counts go into the checkpoint, which the transport's record of the end
        // keeps: a run found ended when resumed reports them.
        channel.note(&run.checkpoint(&sink));
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

/// The status of a run that ended with `result`.
fn status_of(result: &Result<Value, Failure>) -> MapRunStatus {
    match result {
        Ok(_) => MapRunStatus::Succeeded,
        Err(f) if f.error.as_deref() == Some(RUNTIME) && f.cause.as_deref() == Some(ABORTED_CAUSE) => {
            MapRunStatus::Aborted
        }
        Err(_) => MapRunStatus::Failed,
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
