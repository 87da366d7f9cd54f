//! `dmap test PATH...`: runs golden execution cases (the format of
//! `shared/conformance/localstack/README.md`) and reports which pass.
//!
//! Each case is one execution of one definition: the definition is validated, run through a
//! `host::TestHost` (manual clock, mocked tasks) and its outcome compared with the recorded
//! result. A case with `mock_config` (a Step Functions Local mock configuration) and
//! `mock_test_case` runs through a `worker::mock::MockHost` around the test host: the test
//! case's states are answered from the file, the other Tasks from the case's `tasks`. Cases that need a feature dmap does not support yet are skipped and named with it.
//!
//! Code map: `case` reads a file, `runner` runs one case, `host` is the test host,
//! `compare` and `ignore` judge the outcome, `s3` lays out S3 objects, `report` prints.
//! This module finds the files and spreads them over threads. It never touches the network and
//! never sleeps.

mod case;
mod compare;
mod functions;
mod host;
mod ignore;
pub mod known;
mod report;
mod runner;
pub mod s3;

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Exit codes of [`run`].
const EXIT_PASSED: i32 = 0;
const EXIT_FAILED: i32 = 1;
const EXIT_USAGE: i32 = 2;

/// Engine recursion follows the definition's nesting, so worker threads get more than the
/// default 2 MiB of stack.
const WORKER_STACK_BYTES: usize = 16 << 20;

#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    /// Print one JSON document instead of text lines.
    pub json: bool,
    /// Cases expected to fail; with a list, only unexpected results fail the run.
    pub known_failures: Option<known::KnownFailures>,
}

/// The verdict on one case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    pub name: String,
    pub file: PathBuf,
    pub status: CaseStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseStatus {
    Passed,
    /// `diff` says, in one line, how the outcome differs from the expected result (or why the
    /// case could not run).
    Failed {
        diff: String,
    },
    /// `feature` names what is not supported yet and where.
    Skipped {
        feature: String,
    },
}

/// Runs every case file under `paths` (files, or directories searched recursively for
/// `*.json`), in path order, prints the results to `out` and returns the process exit code:
/// 0 when every case passed or was skipped, 1 when any failed, 2 on a usage error (a path that
/// does not exist, a named file that is not a case, nothing to run).
pub fn run(paths: &[PathBuf], opts: &TestOptions, out: &mut dyn Write) -> i32 {
    let files = match discover(paths) {
        Ok(files) => files,
        Err(message) => {
            // Usage errors exit 2 whether or not the message could be written.
            let _ = report::usage_error(&message, opts, out);
            return EXIT_USAGE;
        }
    };
    let results = run_all(&files);
    let problems = opts.known_failures.as_ref().map(|k| k.verdict(&results));
    if let Some(p) = &problems
        && !opts.json
    {
        for line in p {
            if writeln!(out, "{line}").is_err() {
                return EXIT_USAGE;
            }
        }
    }
    if report::results(&results, opts, out).is_err() {
        return EXIT_USAGE;
    }
    let failed = match problems {
        Some(p) => !p.is_empty(),
        None => results.iter().any(|r| matches!(r.status, CaseStatus::Failed { .. })),
    };
    if failed { EXIT_FAILED } else { EXIT_PASSED }
}

/// Loads and runs one case file. A file that is not a valid case fails, with the reason.
pub fn run_case_file(path: &Path) -> CaseResult {
    let loaded = match case::load(path) {
        Ok(l) => l,
        Err(e) => {
            let diff = format!("{}: {e}", path.display());
            return CaseResult {
                name: case::default_name(path),
                file: path.to_path_buf(),
                status: CaseStatus::Failed { diff },
            };
        }
    };
    // The runner catches engine panics itself; this guards the rest (comparison, S3 files).
    let status = catch_unwind(AssertUnwindSafe(|| runner::run(&loaded)))
        .unwrap_or_else(|_| CaseStatus::Failed { diff: "dmap test panicked while running this case".into() });
    CaseResult { name: loaded.name, file: path.to_path_buf(), status }
}

/// The case files named by `paths`, sorted and without duplicates.
fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    if paths.is_empty() {
        return Err("no path given: name case files or directories of them".into());
    }
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            collect_json(p, &mut files).map_err(|e| format!("{}: {e}", p.display()))?;
        } else if let Err(e) = case::load(p) {
            // A file named on the command line is meant to be a case: refuse early rather
            // than report it among the results.
            return Err(format!("{}: {e}", p.display()));
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        return Err(format!("no *.json case files under {}", display_list(paths)));
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn collect_json(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_json(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    Ok(())
}

fn display_list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Runs the files on one thread per core, each taking the next file when done, and returns
/// the results in the files' order.
fn run_all(files: &[PathBuf]) -> Vec<CaseResult> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Vec<OnceLock<CaseResult>> = files.iter().map(|_| OnceLock::new()).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(file) = files.get(i) else { break };
            let _ = slots[i].set(run_case_file(file));
        }
    };
    std::thread::scope(|s| {
        for n in 0..workers {
            let spawned = std::thread::Builder::new()
                .name(format!("dmap-test-{n}"))
                .stack_size(WORKER_STACK_BYTES)
                .spawn_scoped(s, work);
            if spawned.is_err() {
                // Out of threads: the workers already running (or this one) finish the job.
                work();
            }
        }
    });
    slots
        .into_iter()
        .zip(files)
        .map(|(slot, file)| {
            slot.into_inner().unwrap_or_else(|| CaseResult {
                name: case::default_name(file),
                file: file.clone(),
                status: CaseStatus::Failed { diff: "the case's worker thread died".into() },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
