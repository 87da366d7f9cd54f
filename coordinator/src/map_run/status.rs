//! Seeing a run: a DescribeMapRun-shaped status document kept current in a file
//! (`--map-run-status FILE`), progress bars on stderr when it is a terminal, and plain
//! periodic log lines when it is not (as in a pod, where indicatif hides itself). A Map Run
//! that neither reads an item nor finishes a child for `--stall-seconds` is *stalled*: said in
//! the document, the log, `/metrics` and `/healthz`, so that a run no worker can serve (none
//! running, or none that speaks its protocol version) does not wait unseen.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use super::tracker::{Tolerance, Tracker};

/// How often the status file is rewritten while a run is going.
const FILE_EVERY: Duration = Duration::from_millis(500);
/// Why a Map Run may be stalled, as the status document and the log say it.
pub const STALL_CAUSE: &str = "no item read and no child execution finished within --stall-seconds: are workers \
     running, serving this Map Run's functions and speaking its protocol version?";
/// How often a log line is printed when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Shared by every Map Run of one `dmap run`.
pub struct Progress {
    status_file: Option<PathBuf>,
    quiet: bool,
    bars: Option<MultiProgress>,
    /// Map Runs currently running, by start order: the earliest one owns the status file.
    active: Mutex<Vec<u64>>,
    next_id: Mutex<u64>,
    /// The latest counts of every Map Run of this process, for `/metrics`.
    snapshots: Mutex<Vec<Snapshot>>,
    /// A Map Run without progress for this long is stalled (`None`: never).
    stall_after: Option<Duration>,
}

/// One Map Run's counts as last reported.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub id: u64,
    pub map_run_arn: String,
    pub status: &'static str,
    pub items: super::tracker::Counts,
    pub executions: super::tracker::Counts,
    /// Seconds without progress, once the Map Run is stalled.
    pub stalled_seconds: Option<u64>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").field("status_file", &self.status_file).field("quiet", &self.quiet).finish()
    }
}

impl Progress {
    pub fn new(status_file: Option<PathBuf>, quiet: bool) -> Self {
        let bars = (!quiet && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress {
            status_file,
            quiet,
            bars,
            active: Mutex::new(Vec::new()),
            next_id: Mutex::new(0),
            snapshots: Mutex::new(Vec::new()),
            stall_after: None,
        }
    }

    /// Reports a Map Run as stalled once it has made no progress for `after` (`--stall-seconds`).
    pub fn with_stall(mut self, after: Option<Duration>) -> Self {
        self.stall_after = after;
        self
    }

    /// The latest counts of every Map Run started by this process.
    pub fn snapshots(&self) -> Vec<Snapshot> {
        self.snapshots.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records a Map Run's latest counts. `slot` is the index of its entry, set by its first
    /// snapshot: entries are only ever pushed, so the index stays valid and no search is needed.
    fn snapshot(
        &self,
        slot: &mut Option<usize>,
        id: u64,
        arn: &str,
        status: &'static str,
        t: &Tracker,
        stalled: Option<u64>,
    ) {
        let mut all = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        match *slot {
            Some(i) => {
                let s = &mut all[i];
                debug_assert_eq!(s.id, id);
                s.status = status;
                s.items = t.items;
                s.executions = t.executions;
                s.stalled_seconds = stalled;
            }
            None => {
                *slot = Some(all.len());
                all.push(Snapshot {
                    id,
                    map_run_arn: arn.to_string(),
                    status,
                    items: t.items,
                    executions: t.executions,
                    stalled_seconds: stalled,
                });
            }
        }
    }

    /// No file, no bars, no log lines (tests, benchmarks).
    pub fn silent() -> Self {
        Progress::new(None, true)
    }

    pub fn start(
        &self,
        map_run_arn: &str,
        state_name: &str,
        max_concurrency: u64,
        tolerance: Tolerance,
    ) -> RunProgress<'_> {
        let id = {
            let mut n = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            *n
        };
        self.active.lock().unwrap_or_else(|e| e.into_inner()).push(id);
        let bar = self.bars.as_ref().map(|m| {
            let b = m.add(ProgressBar::no_length());
            b.set_style(style(false));
            b.set_prefix(state_name.to_string());
            b
        });
        RunProgress {
            owner: self,
            id,
            slot: None,
            map_run_arn: map_run_arn.to_string(),
            max_concurrency,
            tolerance,
            start: Utc::now(),
            started: Instant::now(),
            last_file: None,
            last_log: Instant::now(),
            bar,
            eta_shown: false,
            last_change: Instant::now(),
            seen: (0, 0),
            stall_logged: false,
            cause: None,
        }
    }
}

fn style(with_eta: bool) -> ProgressStyle {
    let template = if with_eta {
        "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} items ({per_sec}, ETA {eta}) {msg}"
    } else {
        "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} items ({per_sec}) {msg}"
    };
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// One Map Run's view.
pub struct RunProgress<'p> {
    owner: &'p Progress,
    id: u64,
    /// Index of this Map Run's entry in `Progress.snapshots`, once it has one.
    slot: Option<usize>,
    map_run_arn: String,
    max_concurrency: u64,
    tolerance: Tolerance,
    start: DateTime<Utc>,
    started: Instant,
    last_file: Option<Instant>,
    last_log: Instant,
    bar: Option<ProgressBar>,
    eta_shown: bool,
    /// When items read or children finished last changed, and their values then.
    last_change: Instant,
    seen: (u64, u64),
    stall_logged: bool,
    /// What the transport knows of why the run may stall (replaces [`STALL_CAUSE`] when set).
    cause: Option<super::transport::StallCause>,
}

impl RunProgress<'_> {
    /// Names the cause of a stall when the transport knows it.
    pub fn with_cause(mut self, cause: Option<super::transport::StallCause>) -> Self {
        self.cause = cause;
        self
    }

    /// The transport's cause of a stall, or the generic one.
    fn stall_cause(&self) -> String {
        let known = self.cause.as_ref().and_then(|c| c.lock().unwrap_or_else(|e| e.into_inner()).clone());
        known.unwrap_or_else(|| STALL_CAUSE.to_string())
    }

    pub fn update(&mut self, t: &Tracker) {
        let done = t.items.succeeded + t.items.failed + t.items.timed_out + t.items.aborted;
        if (t.items.total, done) != self.seen {
            self.seen = (t.items.total, done);
            self.last_change = Instant::now();
            if std::mem::take(&mut self.stall_logged) {
                tracing::info!(map_run = %self.map_run_arn, "the Map Run makes progress again");
            }
        }
        let stalled = self.stalled_for();
        self.owner.snapshot(&mut self.slot, self.id, &self.map_run_arn, "RUNNING", t, stalled);
        if let Some(b) = &self.bar {
            // The ETA means something only once the total is known.
            if t.reader_done() && !self.eta_shown {
                b.set_style(style(true));
                self.eta_shown = true;
            }
            b.set_length(t.items.total);
            b.set_position(done);
            b.set_message(format!(
                "read {}, succeeded {}, failed {}",
                t.items.total,
                t.items.succeeded,
                t.items.failed + t.items.timed_out + t.items.aborted
            ));
        } else if !self.owner.quiet && self.last_log.elapsed() >= LOG_EVERY {
            self.last_log = Instant::now();
            let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            // Through the log, so that `--log-format json` keeps every line JSON.
            tracing::info!(
                map_run = %self.map_run_arn,
                read = t.items.total,
                succeeded = t.items.succeeded,
                failed = t.items.failed + t.items.timed_out,
                running = t.items.running,
                items_per_second = rate.round() as u64,
                "map run progress"
            );
        }
        if self.owner.status_file.is_some() && self.last_file.is_none_or(|l| l.elapsed() >= FILE_EVERY) {
            self.last_file = Some(Instant::now());
            self.write(t, "RUNNING", None);
        }
    }

    /// Called about every second while the Map Run waits for an outcome: notices a stall.
    pub fn idle(&mut self, t: &Tracker) {
        let Some(seconds) = self.stalled_for() else { return };
        if !self.stall_logged {
            self.stall_logged = true;
            tracing::warn!(map_run = %self.map_run_arn, seconds, "{}", self.stall_cause());
        }
        self.owner.snapshot(&mut self.slot, self.id, &self.map_run_arn, "RUNNING", t, Some(seconds));
        if self.owner.status_file.is_some() && self.last_file.is_none_or(|l| l.elapsed() >= FILE_EVERY) {
            self.last_file = Some(Instant::now());
            self.write(t, "RUNNING", None);
        }
    }

    /// Seconds without progress, if that is longer than `--stall-seconds`.
    fn stalled_for(&self) -> Option<u64> {
        let idle = self.last_change.elapsed();
        (idle >= self.owner.stall_after?).then_some(idle.as_secs())
    }

    pub fn finish(&mut self, t: &Tracker, status: &'static str) {
        self.owner.snapshot(&mut self.slot, self.id, &self.map_run_arn, status, t, None);
        if let Some(b) = &self.bar {
            b.set_length(t.items.total);
            b.finish_with_message(format!("{status}, {} failed", t.items.failed + t.items.timed_out));
        }
        self.write(t, status, Some(Utc::now()));
        self.owner.active.lock().unwrap_or_else(|e| e.into_inner()).retain(|&id| id != self.id);
    }

    /// DescribeMapRun's shape (spec §3.3).
    pub fn document(&self, t: &Tracker, status: &str, stop: Option<DateTime<Utc>>) -> Value {
        let mut doc = json!({
            "mapRunArn": self.map_run_arn,
            "status": status,
            "startDate": self.start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "maxConcurrency": self.max_concurrency,
            "toleratedFailurePercentage": self.tolerance.percentage.unwrap_or(0.0),
            "toleratedFailureCount": self.tolerance.count.unwrap_or(0),
            "itemCounts": t.items,
            "executionCounts": t.executions,
        });
        if stop.is_none()
            && let Some(seconds) = self.stalled_for()
        {
            // Not DescribeMapRun's: dmap's own member, present only while the run is stalled.
            doc["stalled"] = json!({"seconds": seconds, "cause": self.stall_cause()});
        }
        if let Some(s) = stop {
            doc["stopDate"] = json!(s.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
        doc
    }

    fn write(&self, t: &Tracker, status: &str, stop: Option<DateTime<Utc>>) {
        let Some(path) = &self.owner.status_file else { return };
        let owns = {
            let active = self.owner.active.lock().unwrap_or_else(|e| e.into_inner());
            active.first().is_none_or(|&first| first == self.id)
        };
        if !owns {
            return;
        }
        let doc = self.document(t, status, stop);
        // Write then rename, so that readers never see half a document.
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        if std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path)).is_err() {
            tracing::error!(path = %path.display(), "cannot write the Map Run status");
        }
    }
}
