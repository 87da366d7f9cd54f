//! One Map Run's children while it runs: dispatching them (or recording them as failed when
//! their input is too large), recording their outcomes in the ledger and the results,
//! aborting those in flight, and recording those never started as PENDING. The loop that
//! decides what to do next is `run.rs`'s.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use shared::asl::Failure;
use shared::asl::error_name::DATA_LIMIT_EXCEEDED;
use shared::protocol::{Batch, ChildIdentity, Outcome, OutcomeStatus, VERSION};

use super::super::batcher::Packed;
use super::super::handle::MapRunHandle;
use super::super::names::RunNames;
use super::super::record::{ChildRecord, ChildStatus};
use super::super::registry::ChildRun;
use super::super::sink::Sink;
use super::super::tracker::Tracker;
use super::super::transport::{Checkpoint, RunChannel, RunSpec};

pub(super) struct InFlight {
    pub(super) item_count: u64,
    pub(super) input: Arc<str>,
}

/// The state of one Map Run while it runs.
pub(super) struct Run<'a> {
    pub(super) names: &'a RunNames,
    pub(super) handle: &'a MapRunHandle,
    pub(super) spec: &'a RunSpec,
    pub(super) parent: &'a shared::asl::eval::ExecutionOptions,
    pub(super) tracker: Tracker,
    pub(super) in_flight: HashMap<u64, InFlight>,
    pub(super) in_flight_bytes: usize,
    pub(super) next_batch: u64,
    /// Outcomes of batches not handed out yet by this coordinator: replayed from before an
    /// interruption, or arriving for batches the interrupted coordinator had handed out.
    pub(super) replay: HashMap<u64, Outcome>,
    pub(super) max_input: Option<usize>,
    /// EXPRESS children (they cannot be stopped; observers do not list them).
    pub(super) express: bool,
    pub(super) progress: super::super::status::RunProgress<'a>,
    /// Ticks while the Map Run waits for an outcome, so that a stall is noticed.
    pub(super) idle: tokio::time::Interval,
}

impl Run<'_> {
    /// The next outcome, noticing meanwhile (every second) if the Map Run has stalled; `None`
    /// when an update or a stop came first (the caller's loop applies it). The ticker is made
    /// once per Map Run: waiting costs no timer per outcome.
    pub(super) async fn next_outcome(&mut self, channel: &mut dyn RunChannel) -> Result<Option<Outcome>, Failure> {
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

    pub(super) async fn dispatch(
        &mut self,
        p: Packed,
        channel: &mut dyn RunChannel,
        sink: &mut Sink,
    ) -> Result<(), Failure> {
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

    pub(super) async fn on_outcome(&mut self, o: Outcome, sink: &mut Sink) -> Result<(), Failure> {
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

    pub(super) async fn abort_in_flight(&mut self, sink: &mut Sink) -> Result<(), Failure> {
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

    pub(super) async fn pending(&mut self, p: Packed, sink: &mut Sink) -> Result<(), Failure> {
        let batch = self.next_batch;
        self.next_batch += 1;
        self.tracker.on_pending_child();
        let name = self.names.child_name(batch);
        let rec =
            self.record(&name, ChildStatus::Pending, Arc::from(p.input), None, None, None, None, None, p.item_count);
        sink.write(batch, rec).await
    }

    pub(super) async fn finish(&mut self, batch: u64, rec: ChildRecord, sink: &mut Sink) -> Result<(), Failure> {
        let (status, items) = (rec.status, rec.item_count);
        if let Some(o) = self.handle.observer() {
            let run = ChildRun {
                map_run_arn: self.handle.map_run_arn(),
                execution_arn: self.handle.execution_arn(),
                definition: &self.spec.definition,
                express: self.express,
            };
            o.child_ended(&run, &rec);
        }
        self.tracker.on_finished(status, items);
        sink.write(batch, rec).await?;
        self.tracker.on_written(status, items);
        self.progress.update(&self.tracker);
        Ok(())
    }

    pub(super) fn checkpoint(&self, sink: &Sink) -> Checkpoint {
        let items = &self.tracker.items;
        Checkpoint {
            next_batch: self.next_batch,
            items_read: items.total,
            items_succeeded: items.succeeded,
            items_failed: items.failed + items.timed_out + items.aborted,
            items_pending: items.pending,
            files_written: sink.files_written(),
            counts: Some((self.tracker.items, self.tracker.executions)),
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

/// Ticks every second while the Map Run waits, from a second after it starts.
pub(super) fn idle_ticker() -> tokio::time::Interval {
    let every = Duration::from_secs(1);
    let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    t
}

fn millis(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}
