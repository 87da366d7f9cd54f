//! Map Runs of the server's executions: their records in the store (written as the runs start,
//! progress and end, through the registry's observer) and UpdateMapRun.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::map_run::handle::{MapRunView, UpdateError};
use crate::map_run::record::{ChildRecord, ChildStatus};
use crate::map_run::registry::{ChildRun, MapRunObserver};
use crate::map_run::tracker::Counts;
use crate::serve::store::{ExecutionRecord, ExecutionStatus, MachineType, MapRunCounts, MapRunRecord, Store, Write};

use super::{Engine, MapRunError, MapRunUpdate};

/// Writes each Map Run's record as it changes, and each STANDARD child as an execution when
/// it ends (what ListExecutions with `mapRunArn` lists). Called on the run's own task: it only
/// queues writes.
pub struct StoreObserver {
    store: Arc<dyn Store>,
    /// Per running Map Run: the children's definition hash (stored once per run) and the
    /// parent's role.
    runs: Mutex<HashMap<String, (String, String)>>,
    /// Map Runs running again (resumed after a restart, or redriven), by ARN: what their
    /// records keep from before (the redrive wrote its count and date before they started).
    redriven: Mutex<HashMap<String, Redriven>>,
}

impl StoreObserver {
    pub fn new(store: Arc<dyn Store>) -> Self {
        StoreObserver { store, runs: Mutex::new(HashMap::new()), redriven: Mutex::new(HashMap::new()) }
    }

    fn redriven(&self, arn: &str) -> Redriven {
        self.redriven.lock().unwrap_or_else(|e| e.into_inner()).get(arn).copied().unwrap_or_default()
    }
}

impl MapRunObserver for StoreObserver {
    fn started(&self, view: &MapRunView) {
        // A Map Run that has a record already runs again: resumed after a restart, or
        // redriven; either way it keeps its redrive count.
        let redriven = self
            .store
            .map_run(&view.map_run_arn)
            .ok()
            .flatten()
            .map(|r| Redriven { count: r.redrive_count, date: r.redrive_date, start: Some(r.start_date) })
            .unwrap_or_default();
        if redriven.start.is_some() {
            self.redriven.lock().unwrap_or_else(|e| e.into_inner()).insert(view.map_run_arn.clone(), redriven);
        }
        self.store.submit(vec![Write::PutMapRun(record(view, redriven))]);
    }
    fn progressed(&self, view: &MapRunView) {
        self.store.submit(vec![Write::PutMapRun(record(view, self.redriven(&view.map_run_arn)))]);
    }
    fn ended(&self, view: &MapRunView) {
        self.runs.lock().unwrap_or_else(|e| e.into_inner()).remove(&view.map_run_arn);
        let redriven =
            self.redriven.lock().unwrap_or_else(|e| e.into_inner()).remove(&view.map_run_arn).unwrap_or_default();
        self.store.submit(vec![Write::PutMapRun(record(view, redriven))]);
    }
    fn child_ended(&self, run: &ChildRun<'_>, child: &ChildRecord) {
        if run.express {
            return;
        }
        let mut unit = Vec::with_capacity(2);
        let (hash, role) = {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            match runs.get(run.map_run_arn) {
                Some(known) => known.clone(),
                None => {
                    let text = run.definition.to_string();
                    let hash = hex::encode(Sha256::digest(text.as_bytes()));
                    unit.push(Write::PutDefinition { hash: hash.clone(), text });
                    // The children run with their parent's role, as on AWS.
                    let role =
                        self.store.execution(run.execution_arn).ok().flatten().map(|e| e.role_arn).unwrap_or_default();
                    runs.insert(run.map_run_arn.to_string(), (hash.clone(), role.clone()));
                    (hash, role)
                }
            }
        };
        let status = match child.status {
            ChildStatus::Succeeded => ExecutionStatus::Succeeded,
            ChildStatus::TimedOut => ExecutionStatus::TimedOut,
            ChildStatus::Aborted => ExecutionStatus::Aborted,
            ChildStatus::Failed | ChildStatus::Pending => ExecutionStatus::Failed,
        };
        let stop = child.stop_date.unwrap_or_else(chrono::Utc::now);
        let redriven = self.redriven(run.map_run_arn).count > 0;
        let child_record = ExecutionRecord {
            arn: child.execution_arn.clone(),
            name: child.name.clone(),
            state_machine_arn: child.state_machine_arn.clone(),
            version_arn: None,
            alias_arn: None,
            machine_type: MachineType::Standard,
            status,
            input: child.input.to_string(),
            output: child.output.clone(),
            error: child.error.clone(),
            cause: child.cause.clone(),
            start_date: child.start_date.unwrap_or(stop),
            stop_date: Some(stop),
            definition_hash: hash,
            role_arn: role,
            trace_header: None,
            map_run_arn: Some(run.map_run_arn.to_string()),
            item_count: Some(child.item_count),
            redrive_count: 0,
            redrive_date: redriven.then(|| child.start_date.unwrap_or(stop)),
            mock_test_case: None,
        };
        unit.push(if redriven { Write::RedriveChild(child_record) } else { Write::CreateExecution(child_record) });
        self.store.submit(unit);
    }
}

/// What a Map Run that runs again keeps from its record: its redrive count and last redrive
/// date, and when it first started (AWS: a redriven Map Run keeps its start date).
#[derive(Debug, Clone, Copy, Default)]
struct Redriven {
    count: u64,
    date: Option<chrono::DateTime<chrono::Utc>>,
    start: Option<chrono::DateTime<chrono::Utc>>,
}

fn record(v: &MapRunView, r: Redriven) -> MapRunRecord {
    MapRunRecord {
        arn: v.map_run_arn.clone(),
        execution_arn: v.execution_arn.clone(),
        state_machine_arn: v.state_machine_arn.clone(),
        status: v.status.as_str().to_string(),
        start_date: r.start.unwrap_or(v.start_date),
        stop_date: v.stop_date,
        max_concurrency: v.max_concurrency,
        tolerated_failure_percentage: v.tolerated_failure_percentage,
        tolerated_failure_count: v.tolerated_failure_count,
        item_counts: counts(&v.item_counts),
        execution_counts: counts(&v.execution_counts),
        redrive_count: r.count,
        redrive_date: r.date,
    }
}

fn counts(c: &Counts) -> MapRunCounts {
    MapRunCounts {
        pending: c.pending,
        running: c.running,
        succeeded: c.succeeded,
        failed: c.failed,
        timed_out: c.timed_out,
        aborted: c.aborted,
        total: c.total,
        results_written: c.results_written,
    }
}

impl Engine {
    /// UpdateMapRun: applied at once to a running Map Run of this server.
    pub fn update_map_run(&self, map_run_arn: &str, update: MapRunUpdate) -> Result<(), MapRunError> {
        let MapRunUpdate { max_concurrency, tolerated_failure_percentage, tolerated_failure_count } = update;
        match self.inner.map_runs.update(
            map_run_arn,
            max_concurrency,
            tolerated_failure_percentage,
            tolerated_failure_count,
        ) {
            Ok(()) => Ok(()),
            Err(UpdateError::Completed(arn)) => Err(MapRunError::Completed(arn)),
            Err(UpdateError::Invalid(message)) => Err(MapRunError::Invalid(message)),
            // Not running here: ended (the store has it) or unknown.
            Err(UpdateError::NotFound(arn)) => match self.inner.store.map_run(&arn) {
                Ok(Some(_)) => Err(MapRunError::Completed(arn)),
                _ => Err(MapRunError::DoesNotExist(arn)),
            },
        }
    }

    /// The live view of a running Map Run (DescribeMapRun reads it before the store, so an
    /// update shows at once).
    pub fn map_run(&self, map_run_arn: &str) -> Option<MapRunRecord> {
        let h = self.inner.map_runs.get(map_run_arn)?;
        let stored = self.inner.store.map_run(map_run_arn).ok().flatten();
        let kept = stored.map(|r| Redriven { count: r.redrive_count, date: r.redrive_date, start: Some(r.start_date) });
        Some(record(&h.describe(), kept.unwrap_or_default()))
    }
}
