//! The running Map Runs of a host, by Map Run ARN, and the observer told of each one's start,
//! progress and end — per execution, not per process: a Map Run's id derives from its
//! execution and a key the engine gives it ([`map_run_id`]), so a restarted server names the
//! same run the same way and resumes it.
//!
//! A run is in the registry from its start to its end: once ended, its last view has gone to
//! the observer (which `dmap serve` persists), and whoever holds its handle can still read it.
//! The registry does not persist anything itself, and does not drive runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::handle::{MapRunHandle, MapRunView, Start, UpdateError};

/// Told of every Map Run of the host, on the run's own task: implementations return at once
/// (queue a write, do not perform it).
pub trait MapRunObserver: Send + Sync {
    /// The run started (or resumed): RUNNING, no counts yet.
    fn started(&self, view: &MapRunView);
    /// The counts or the configuration changed: at most every
    /// [`PROGRESS_EVERY`](super::status::PROGRESS_EVERY) for counts, at once for an update.
    fn progressed(&self, view: &MapRunView);
    /// The run ended; `view.status` is final and `view.stop_date` is set. Called before the
    /// run leaves the registry and before [`MapRunHandle::ended`] completes.
    fn ended(&self, view: &MapRunView);
    /// A child that ran has ended (succeeded, failed, timed out or aborted; children never
    /// started are not told).
    fn child_ended(&self, _run: &ChildRun<'_>, _child: &super::record::ChildRecord) {}
}

/// The Map Run a child belongs to, as an observer that keeps children needs it.
#[derive(Debug)]
pub struct ChildRun<'a> {
    pub map_run_arn: &'a str,
    /// The parent execution.
    pub execution_arn: &'a str,
    /// The children's definition as written (the ItemProcessor).
    pub definition: &'a std::sync::Arc<serde_json::Value>,
    /// EXPRESS children (AWS lists only STANDARD ones among executions).
    pub express: bool,
}

/// The running Map Runs of one host (cheap to clone: clones share the runs).
#[derive(Clone, Default)]
pub struct MapRuns {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    runs: Mutex<HashMap<String, MapRunHandle>>,
    observer: Option<Arc<dyn MapRunObserver>>,
}

impl std::fmt::Debug for MapRuns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapRuns").field("running", &self.runs().len()).finish()
    }
}

impl MapRuns {
    /// A registry without an observer (`dmap run`, tests).
    pub fn new() -> Self {
        MapRuns::default()
    }

    /// A registry whose runs report to `observer` (`dmap serve` persists them).
    pub fn with_observer(observer: Arc<dyn MapRunObserver>) -> Self {
        MapRuns { inner: Arc::new(Inner { runs: Mutex::default(), observer: Some(observer) }) }
    }

    /// The running Map Run with this ARN.
    pub fn get(&self, map_run_arn: &str) -> Option<MapRunHandle> {
        self.runs().get(map_run_arn).cloned()
    }

    /// The running Map Runs started by this execution, oldest first.
    pub fn of_execution(&self, execution_arn: &str) -> Vec<MapRunHandle> {
        let mut runs: Vec<(chrono::DateTime<chrono::Utc>, MapRunHandle)> = self
            .runs()
            .values()
            .filter(|h| h.execution_arn() == execution_arn)
            .map(|h| (h.describe().start_date, h.clone()))
            .collect();
        runs.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.map_run_arn().cmp(b.1.map_run_arn())));
        runs.into_iter().map(|(_, h)| h).collect()
    }

    /// Every running Map Run.
    pub fn running(&self) -> Vec<MapRunHandle> {
        self.runs().values().cloned().collect()
    }

    /// UpdateMapRun by ARN: [`UpdateError::NotFound`] when no running run has it (it may have
    /// ended: the caller then asks its store, and answers `Completed` for a known one).
    pub fn update(
        &self,
        map_run_arn: &str,
        max_concurrency: Option<u64>,
        tolerated_failure_percentage: Option<f64>,
        tolerated_failure_count: Option<u64>,
    ) -> Result<(), UpdateError> {
        let handle = self.get(map_run_arn).ok_or_else(|| UpdateError::NotFound(map_run_arn.to_string()))?;
        handle.update(max_concurrency, tolerated_failure_percentage, tolerated_failure_count)
    }

    /// Stops every running Map Run of an execution (StopExecution); returns how many.
    pub fn stop_execution(&self, execution_arn: &str) -> usize {
        self.of_execution(execution_arn).iter().filter(|h| h.stop()).count()
    }

    /// A run starts: its handle enters the registry and the observer is told.
    pub(super) fn register(&self, start: Start) -> MapRunHandle {
        let handle = MapRunHandle::new(start, self.inner.observer.clone());
        // A resumed run replaces an entry its interrupted driver left (a dropped future).
        self.runs().insert(handle.map_run_arn().to_string(), handle.clone());
        if let Some(o) = &self.inner.observer {
            o.started(&handle.describe());
        }
        handle
    }

    /// A run ended: it leaves the registry (if this handle is still the registered one).
    pub(super) fn remove(&self, handle: &MapRunHandle) {
        let mut runs = self.runs();
        if runs.get(handle.map_run_arn()).is_some_and(|h| h.same_run(handle)) {
            runs.remove(handle.map_run_arn());
        }
    }

    fn runs(&self) -> MutexGuard<'_, HashMap<String, MapRunHandle>> {
        self.inner.runs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The id of the Map Run that `key` starts in `execution_arn` (the engine's, from
/// `shared`): the same execution resuming the same Map state computes the same Map Run ARN,
/// and different executions never share one.
pub use shared::asl::eval::map_run::keyed_id as map_run_id;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_execution_and_key() {
        let a = "arn:aws:states:us-east-1:123456789012:execution:M:one";
        let b = "arn:aws:states:us-east-1:123456789012:execution:M:two";
        assert_eq!(map_run_id(a, "7"), map_run_id(a, "7"));
        assert_ne!(map_run_id(a, "7"), map_run_id(a, "8"));
        assert_ne!(map_run_id(a, "7"), map_run_id(b, "7"));
        assert!(uuid::Uuid::parse_str(&map_run_id(a, "7")).is_ok());
    }
}
