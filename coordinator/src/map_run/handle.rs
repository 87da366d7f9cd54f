//! A Map Run's handle: what DescribeMapRun reports of it ([`MapRunView`]), UpdateMapRun
//! (MaxConcurrency and the tolerated failures of the RUNNING run), stopping it, and awaiting
//! its end. Cheap to clone; every clone sees the same run.
//!
//! The run's driver (`run.rs`) is the only writer of the counts and the status: it publishes
//! the tracker's counts once per outcome it records, and reads the controls an update or a
//! stop left here at the top of its loop (one relaxed atomic load when nothing changed), so
//! the hot path takes no lock per item beyond the one snapshot it always took. This module
//! does not drive the run, judge failures (`tracker` does) or persist anything (an observer,
//! `registry`, may).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use super::registry::MapRunObserver;
use super::tracker::{Counts, Tolerance, Tracker};

/// A Map Run's status, as DescribeMapRun spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MapRunStatus {
    Running,
    Succeeded,
    Failed,
    Aborted,
}

impl MapRunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MapRunStatus::Running => "RUNNING",
            MapRunStatus::Succeeded => "SUCCEEDED",
            MapRunStatus::Failed => "FAILED",
            MapRunStatus::Aborted => "ABORTED",
        }
    }
}

/// Everything DescribeMapRun reports of a Map Run, at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRunView {
    pub map_run_arn: String,
    /// The execution that started it.
    pub execution_arn: String,
    /// The labelled child state machine (`…:stateMachine:<name>/<label>`).
    pub state_machine_arn: String,
    pub status: MapRunStatus,
    pub start_date: DateTime<Utc>,
    pub stop_date: Option<DateTime<Utc>>,
    /// As configured or last updated; 0 means AWS's default (up to 10,000 children at once).
    pub max_concurrency: u64,
    /// 0 when not configured, as AWS reports it.
    pub tolerated_failure_percentage: f64,
    /// 0 when not configured, as AWS reports it.
    pub tolerated_failure_count: u64,
    pub item_counts: Counts,
    pub execution_counts: Counts,
    /// dmap's own: seconds without progress, while the run is stalled (`--stall-seconds`).
    pub stalled_seconds: Option<u64>,
}

impl MapRunView {
    /// DescribeMapRun's members as JSON, dates in RFC 3339 (the `--map-run-status` document).
    pub fn document(&self) -> Value {
        let date = |d: &DateTime<Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut doc = json!({
            "mapRunArn": self.map_run_arn,
            "executionArn": self.execution_arn,
            "status": self.status.as_str(),
            "startDate": date(&self.start_date),
            "maxConcurrency": self.max_concurrency,
            "toleratedFailurePercentage": self.tolerated_failure_percentage,
            "toleratedFailureCount": self.tolerated_failure_count,
            "itemCounts": self.item_counts,
            "executionCounts": self.execution_counts,
        });
        if let Some(s) = &self.stop_date {
            doc["stopDate"] = json!(date(s));
        }
        doc
    }
}

/// Why UpdateMapRun (or a stop) was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UpdateError {
    /// AWS: ValidationException, reason CANNOT_UPDATE_COMPLETED_MAP_RUN.
    #[error("Map Run {0} has completed and cannot be updated")]
    Completed(String),
    /// No running Map Run has this ARN in the registry (AWS: ResourceNotFound).
    #[error("Map Run Does Not Exist: '{0}'")]
    NotFound(String),
    /// A value outside UpdateMapRun's ranges (AWS: ValidationException), in AWS's words.
    #[error("{0}")]
    Invalid(String),
}

/// What the driver applies at the top of its loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Controls {
    /// 0: AWS's default window.
    pub max_concurrency: u64,
    pub tolerance: Tolerance,
    pub stop: bool,
}

/// A Map Run: describe it, update it, stop it, await its end.
#[derive(Clone)]
pub struct MapRunHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MapRunHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapRunHandle").field("map_run_arn", &self.shared.map_run_arn).finish()
    }
}

struct Shared {
    map_run_arn: String,
    execution_arn: String,
    live: Mutex<Live>,
    /// Bumped by every update or stop; the driver compares it with the last it applied.
    generation: AtomicU64,
    /// Wakes the driver while it waits for an outcome.
    wake: Notify,
    /// `true` once the run has ended.
    ended: watch::Sender<bool>,
    observer: Option<Arc<dyn MapRunObserver>>,
}

struct Live {
    view: MapRunView,
    controls: Controls,
}

/// The first view of a Map Run that starts now.
pub(super) struct Start {
    pub map_run_arn: String,
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub max_concurrency: u64,
    pub tolerance: Tolerance,
}

impl MapRunHandle {
    pub(super) fn new(start: Start, observer: Option<Arc<dyn MapRunObserver>>) -> Self {
        let controls = Controls { max_concurrency: start.max_concurrency, tolerance: start.tolerance, stop: false };
        let view = MapRunView {
            map_run_arn: start.map_run_arn.clone(),
            execution_arn: start.execution_arn.clone(),
            state_machine_arn: start.state_machine_arn,
            status: MapRunStatus::Running,
            start_date: Utc::now(),
            stop_date: None,
            max_concurrency: start.max_concurrency,
            tolerated_failure_percentage: start.tolerance.percentage.unwrap_or(0.0),
            tolerated_failure_count: start.tolerance.count.unwrap_or(0),
            item_counts: Counts::default(),
            execution_counts: Counts::default(),
            stalled_seconds: None,
        };
        MapRunHandle {
            shared: Arc::new(Shared {
                map_run_arn: start.map_run_arn,
                execution_arn: start.execution_arn,
                live: Mutex::new(Live { view, controls }),
                generation: AtomicU64::new(0),
                wake: Notify::new(),
                ended: watch::channel(false).0,
                observer,
            }),
        }
    }

    pub fn map_run_arn(&self) -> &str {
        &self.shared.map_run_arn
    }

    pub fn execution_arn(&self) -> &str {
        &self.shared.execution_arn
    }

    /// DescribeMapRun, now.
    pub fn describe(&self) -> MapRunView {
        self.live().view.clone()
    }

    pub fn status(&self) -> MapRunStatus {
        self.live().view.status
    }

    /// UpdateMapRun: `None` leaves a value as it is. The window changes at once (children
    /// running above a lowered limit finish; no more start until the run is below it), and the
    /// tolerated failures are judged by the new thresholds at once, including the failures
    /// already seen. A completed run is refused with [`UpdateError::Completed`].
    pub fn update(
        &self,
        max_concurrency: Option<u64>,
        tolerated_failure_percentage: Option<f64>,
        tolerated_failure_count: Option<u64>,
    ) -> Result<(), UpdateError> {
        if let Some(p) = tolerated_failure_percentage
            && !(0.0..=100.0).contains(&p)
        {
            // NaN lands here too: it is in no range.
            return Err(UpdateError::Invalid(format!(
                "1 validation error detected: Value '{p}' at 'toleratedFailurePercentage' failed to satisfy \
                 constraint: Member must have value between 0 and 100"
            )));
        }
        {
            let mut live = self.live();
            if live.view.status != MapRunStatus::Running || live.controls.stop {
                return Err(UpdateError::Completed(self.shared.map_run_arn.clone()));
            }
            let c = &mut live.controls;
            if let Some(m) = max_concurrency {
                c.max_concurrency = m;
            }
            if let Some(p) = tolerated_failure_percentage {
                c.tolerance.percentage = Some(p);
            }
            if let Some(n) = tolerated_failure_count {
                c.tolerance.count = Some(n);
            }
            let c = *c;
            let v = &mut live.view;
            v.max_concurrency = c.max_concurrency;
            v.tolerated_failure_percentage = c.tolerance.percentage.unwrap_or(0.0);
            v.tolerated_failure_count = c.tolerance.count.unwrap_or(0);
            self.shared.generation.fetch_add(1, Ordering::Release);
        }
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Aborts the run: Standard children in flight end ABORTED, what never started is PENDING,
    /// the results are written and the run ends ABORTED (its Map state fails with
    /// `States.Runtime`, which no Catch catches). Returns whether the run was still running.
    pub fn stop(&self) -> bool {
        {
            let mut live = self.live();
            if live.view.status != MapRunStatus::Running || live.controls.stop {
                return false;
            }
            live.controls.stop = true;
            self.shared.generation.fetch_add(1, Ordering::Release);
        }
        self.shared.wake.notify_one();
        true
    }

    /// Completes when the run has ended, with its last view.
    pub async fn ended(&self) -> MapRunView {
        let mut rx = self.shared.ended.subscribe();
        // The sender lives in `self.shared`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|ended| *ended).await;
        self.describe()
    }

    /// Whether both handles are of the same run (not merely the same ARN: a resumed run has
    /// a new handle).
    pub fn same_run(&self, other: &MapRunHandle) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        self.shared.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    // The driver's side.

    /// The controls, if an update or a stop came since `seen` (which is then brought up to
    /// date). One relaxed load when nothing changed.
    pub(super) fn controls(&self, seen: &mut u64) -> Option<Controls> {
        let g = self.shared.generation.load(Ordering::Acquire);
        if g == *seen {
            return None;
        }
        *seen = g;
        Some(self.live().controls)
    }

    /// Completes when an update or a stop comes (or came while the driver was busy).
    pub(super) async fn changed(&self) {
        self.shared.wake.notified().await
    }

    /// Records the tracker's counts.
    pub(super) fn publish(&self, t: &Tracker, stalled_seconds: Option<u64>) {
        let mut live = self.live();
        live.view.item_counts = t.items;
        live.view.execution_counts = t.executions;
        live.view.stalled_seconds = stalled_seconds;
    }

    pub(super) fn observer(&self) -> Option<&Arc<dyn MapRunObserver>> {
        self.shared.observer.as_ref()
    }

    /// The run ended: the last counts, the status and the stop date; the observer is told,
    /// then whoever awaits [`MapRunHandle::ended`]. Only the first call counts.
    pub(super) fn end(&self, t: Option<&Tracker>, status: MapRunStatus) {
        let view = {
            let mut live = self.live();
            if live.view.status != MapRunStatus::Running {
                return;
            }
            if let Some(t) = t {
                live.view.item_counts = t.items;
                live.view.execution_counts = t.executions;
            }
            live.view.status = status;
            live.view.stop_date = Some(Utc::now());
            live.view.stalled_seconds = None;
            live.view.clone()
        };
        if let Some(o) = &self.shared.observer {
            o.ended(&view);
        }
        self.shared.ended.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle() -> MapRunHandle {
        let start = Start {
            map_run_arn: "arn:aws:states:us-east-1:123456789012:mapRun:M/Map:1".into(),
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:M:e".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Map".into(),
            max_concurrency: 0,
            tolerance: Tolerance::default(),
        };
        MapRunHandle::new(start, None)
    }

    /// UpdateMapRun's ranges (botocore: toleratedFailurePercentage 0–100).
    #[test]
    fn a_percentage_outside_0_to_100_is_refused_and_changes_nothing() {
        let h = handle();
        for p in [-0.5, 100.5, f64::NAN] {
            assert!(matches!(h.update(Some(3), Some(p), None), Err(UpdateError::Invalid(_))), "{p}");
        }
        let mut seen = 0;
        assert_eq!(h.controls(&mut seen), None, "a refused update reaches no driver");
        assert_eq!(h.describe().max_concurrency, 0);
    }

    #[test]
    fn updates_reach_the_driver_once_and_leave_unset_values_alone() {
        let h = handle();
        let mut seen = 0;
        h.update(None, None, Some(4)).expect("running");
        h.update(Some(7), Some(12.5), None).expect("running");
        let c = h.controls(&mut seen).expect("changed");
        assert_eq!(c.max_concurrency, 7);
        assert_eq!(c.tolerance, Tolerance { count: Some(4), percentage: Some(12.5) });
        assert!(!c.stop);
        assert_eq!(h.controls(&mut seen), None);
        let v = h.describe();
        assert_eq!((v.max_concurrency, v.tolerated_failure_count, v.tolerated_failure_percentage), (7, 4, 12.5));
    }

    #[tokio::test]
    async fn an_ended_run_refuses_updates_and_stops_and_its_end_is_awaited() {
        let h = handle();
        let waiter = tokio::spawn({
            let h = h.clone();
            async move { h.ended().await }
        });
        assert!(h.stop());
        assert!(!h.stop(), "a second stop finds the run stopping");
        assert_eq!(h.update(Some(1), None, None), Err(UpdateError::Completed(h.map_run_arn().to_string())));
        h.end(None, MapRunStatus::Aborted);
        h.end(None, MapRunStatus::Succeeded);
        let v = waiter.await.expect("the waiter");
        assert_eq!(v.status, MapRunStatus::Aborted, "only the first end counts");
        assert!(v.stop_date.is_some());
        assert_eq!(h.update(Some(1), None, None), Err(UpdateError::Completed(h.map_run_arn().to_string())));
    }
}
