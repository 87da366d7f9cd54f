//! Map Runs of the server's executions: their records in the store (written as the runs start,
//! progress and end, through the registry's observer) and UpdateMapRun.

use std::sync::Arc;

use crate::map_run::handle::{MapRunView, UpdateError};
use crate::map_run::registry::MapRunObserver;
use crate::map_run::tracker::Counts;
use crate::serve::store::{MapRunCounts, MapRunRecord, Store, Write};

use super::{Engine, MapRunError, MapRunUpdate};

/// Writes each Map Run's record as it changes. Called on the run's own task: it only queues.
pub struct StoreObserver {
    pub store: Arc<dyn Store>,
}

impl MapRunObserver for StoreObserver {
    fn started(&self, view: &MapRunView) {
        self.store.submit(vec![Write::PutMapRun(record(view))]);
    }
    fn progressed(&self, view: &MapRunView) {
        self.store.submit(vec![Write::PutMapRun(record(view))]);
    }
    fn ended(&self, view: &MapRunView) {
        self.store.submit(vec![Write::PutMapRun(record(view))]);
    }
}

fn record(v: &MapRunView) -> MapRunRecord {
    MapRunRecord {
        arn: v.map_run_arn.clone(),
        execution_arn: v.execution_arn.clone(),
        state_machine_arn: v.state_machine_arn.clone(),
        status: v.status.as_str().to_string(),
        start_date: v.start_date,
        stop_date: v.stop_date,
        max_concurrency: v.max_concurrency,
        tolerated_failure_percentage: v.tolerated_failure_percentage,
        tolerated_failure_count: v.tolerated_failure_count,
        item_counts: counts(&v.item_counts),
        execution_counts: counts(&v.execution_counts),
        redrive_count: 0,
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
        self.inner.map_runs.get(map_run_arn).map(|h| record(&h.describe()))
    }
}
