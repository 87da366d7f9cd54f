//! Seeing a run: a DescribeMapRun-shaped status document kept current in a file
//! (`--map-run-status FILE`), progress bars on stderr when it is a terminal, and plain
//! periodic log lines when it is not (as in a pod, where indicatif hides itself). A Map Run
//! that neither reads an item nor finishes a child for `--stall-seconds` is *stalled*: said in
//! the document, the log, `/metrics` and `/healthz`, so that a run no worker can serve (none
//! running, or none that speaks its protocol version) does not wait unseen.
//!
//! The counts shown are the run's [`MapRunHandle`]'s (one record, which DescribeMapRun and
//! `/metrics` read too); this module only presents them and paces the observer's calls.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use super::handle::{MapRunHandle, MapRunStatus};
use super::tracker::Tracker;

/// How often the status file is rewritten while a run is going.
const FILE_EVERY: Duration = Duration::from_millis(500);
/// Map Runs kept for `/metrics` before the ended ones are forgotten.
const KEPT_RUNS: usize = 1024;
/// How often a Map Run's observer is told of its progress at most.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(500);
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
    /// The Map Runs of this process (every one, up to [`KEPT_RUNS`]), in start order, for
    /// `/metrics`: their handles are the one record of their counts.
    runs: Mutex<Vec<(u64, MapRunHandle)>>,
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
            runs: Mutex::new(Vec::new()),
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
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        runs.into_iter()
            .map(|(id, h)| {
                let v = h.describe();
                Snapshot {
                    id,
                    map_run_arn: v.map_run_arn,
                    status: v.status.as_str(),
                    items: v.item_counts,
                    executions: v.execution_counts,
                    stalled_seconds: v.stalled_seconds,
                }
            })
            .collect()
    }

    /// No file, no bars, no log lines (tests, benchmarks).
    pub fn silent() -> Self {
        Progress::new(None, true)
    }

    /// Shows the run of `handle`, started now by the Map state `state_name`.
    pub fn start(&self, handle: &MapRunHandle, state_name: &str) -> RunProgress<'_> {
        let id = {
            let mut n = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            *n
        };
        self.active.lock().unwrap_or_else(|e| e.into_inner()).push(id);
        {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            // A long-lived process (`dmap serve`) starts Map Runs without end: past a bound,
            // the ended ones are forgotten (their final view went to the observer).
            if runs.len() >= KEPT_RUNS {
                runs.retain(|(_, h)| h.status() == MapRunStatus::Running);
            }
            runs.push((id, handle.clone()));
        }
        let bar = self.bars.as_ref().map(|m| {
            let b = m.add(ProgressBar::no_length());
            b.set_style(style(false));
            b.set_prefix(state_name.to_string());
            b
        });
        RunProgress {
            owner: self,
            id,
            handle: handle.clone(),
            started: Instant::now(),
            last_file: None,
            last_log: Instant::now(),
            last_observed: Instant::now(),
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

/// One Map Run's view: its handle's counts, the bar, the log lines, the status file, the
/// observer's progress calls and the stall watch.
pub struct RunProgress<'p> {
    owner: &'p Progress,
    id: u64,
    handle: MapRunHandle,
    started: Instant,
    last_file: Option<Instant>,
    last_log: Instant,
    /// When the observer was last told of progress.
    last_observed: Instant,
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
                tracing::info!(map_run = %self.handle.map_run_arn(), "the Map Run makes progress again");
            }
        }
        let stalled = self.stalled_for();
        self.handle.publish(t, stalled);
        self.observe(false);
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
                map_run = %self.handle.map_run_arn(),
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
            self.write();
        }
    }

    /// Records the tracker's counts in the handle, without the bar, log or file.
    pub fn publish(&self, t: &Tracker) {
        self.handle.publish(t, self.stalled_for());
    }

    /// Tells the observer of the handle's view: at most every [`PROGRESS_EVERY`], or at once
    /// (`now`: the configuration changed).
    pub fn observe(&mut self, now: bool) {
        let Some(o) = self.handle.observer() else { return };
        if now || self.last_observed.elapsed() >= PROGRESS_EVERY {
            self.last_observed = Instant::now();
            o.progressed(&self.handle.describe());
        }
    }

    /// Called about every second while the Map Run waits for an outcome: notices a stall.
    pub fn idle(&mut self, t: &Tracker) {
        let Some(seconds) = self.stalled_for() else { return };
        if !self.stall_logged {
            self.stall_logged = true;
            tracing::warn!(map_run = %self.handle.map_run_arn(), seconds, "{}", self.stall_cause());
        }
        self.handle.publish(t, Some(seconds));
        self.observe(false);
        if self.owner.status_file.is_some() && self.last_file.is_none_or(|l| l.elapsed() >= FILE_EVERY) {
            self.last_file = Some(Instant::now());
            self.write();
        }
    }

    /// Seconds without progress, if that is longer than `--stall-seconds`.
    fn stalled_for(&self) -> Option<u64> {
        let idle = self.last_change.elapsed();
        (idle >= self.owner.stall_after?).then_some(idle.as_secs())
    }

    /// The run ended with `status`: the handle records it (and tells the observer), then the
    /// bar and the status file show it.
    pub fn finish(&mut self, t: &Tracker, status: MapRunStatus) {
        self.handle.end(Some(t), status);
        if let Some(b) = &self.bar {
            b.set_length(t.items.total);
            b.finish_with_message(format!("{}, {} failed", status.as_str(), t.items.failed + t.items.timed_out));
        }
        self.write();
        self.owner.active.lock().unwrap_or_else(|e| e.into_inner()).retain(|&id| id != self.id);
    }

    /// The status document: DescribeMapRun's shape (spec §3.3), from the handle's view.
    pub fn document(&self) -> Value {
        let view = self.handle.describe();
        let mut doc = view.document();
        if let Some(seconds) = view.stalled_seconds {
            // Not DescribeMapRun's: dmap's own member, present only while the run is stalled.
            doc["stalled"] = json!({"seconds": seconds, "cause": self.stall_cause()});
        }
        doc
    }

    fn write(&self) {
        let Some(path) = &self.owner.status_file else { return };
        let owns = {
            let active = self.owner.active.lock().unwrap_or_else(|e| e.into_inner());
            active.first().is_none_or(|&first| first == self.id)
        };
        if !owns {
            return;
        }
        let doc = self.document();
        // Write then rename, so that readers never see half a document.
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        if std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path)).is_err() {
            tracing::error!(path = %path.display(), "cannot write the Map Run status");
        }
    }
}
