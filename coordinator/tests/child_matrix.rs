//! The child matrix (probe H5): every state type, with and without Retry and Catch, checked
//! against one table of AWS outcomes (tests/matrix/cases.rs) in four placements — as the top
//! level, as an inline Map's iteration, as a Distributed Map's child on the embedded worker
//! pool, and as a Distributed Map's child on a `dmap-worker` over NATS. A child that can wait
//! must never be run where it cannot (H5: a Parallel or inline Map with an ordinary Retry
//! panicked on the rayon pool and every item FAILED as `States.Runtime`).
//!
//! Cases run concurrently: one `dmap run` per case for the first two placements, and one
//! `dmap run` for all cases in the last two (a Parallel of one Distributed Map per case, each
//! child its own Map Run, so each is classified pure or not on its own).

#[path = "matrix/cases.rs"]
mod cases;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cases::{Case, Cause, Expected, cases, input};
use serde_json::{Map, Value, json};
use support::dmap::{read_results, repo};
use support::nats::{Cluster, Proc};

/// How an execution ended, as dmap reported it.
enum Got {
    Output(Value),
    Error {
        error: String,
        cause: Option<String>,
    },
    /// Not an execution's end at all (a crash, a usage error, a missing record).
    Broken(String),
}

impl std::fmt::Display for Got {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Got::Output(v) => write!(f, "output {v}"),
            Got::Error { error, cause } => write!(f, "error {error}, cause {cause:?}"),
            Got::Broken(why) => write!(f, "no outcome: {why}"),
        }
    }
}

/// Where a case's machine runs; the table's outcomes hold in each.
#[derive(Clone, Copy, Debug)]
enum Placement {
    TopLevel,
    InlineMapChild,
    DistributedChild,
}

/// The functions file serving `attempt` (tests/matrix/matrix.py) to `dmap` and `dmap-worker`.
fn write_functions(dir: &Path) -> PathBuf {
    let runtime = repo().join("examples/python/dmap_runtime.py");
    let handlers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/matrix");
    let path = dir.join("functions.toml");
    let text = format!(
        "[functions.attempt]\ncommand = [\"python3\", {runtime:?}, \"matrix:attempt\"]\nworking_dir = {handlers:?}\n\
         timeout_seconds = 30\nconcurrency = 2\n",
        runtime = runtime.display().to_string(),
        handlers = handlers.display().to_string(),
    );
    std::fs::write(&path, text).expect("functions file");
    path
}

/// Compares what a case ended with in `placement` with the table; `None` when they agree.
fn mismatch(case: &Case, placement: Placement, got: &Got) -> Option<String> {
    let agrees = match (&case.expected, got) {
        (Expected::Output(want), Got::Output(v)) => match placement {
            // The inline Map runs the case on one item: its result is the one-element array.
            Placement::InlineMapChild => *v == json!([want]),
            _ => v == want,
        },
        (Expected::Error { error, cause: want }, Got::Error { error: e, cause }) => {
            e == error
                && match (want, cause) {
                    (Cause::Absent, None) => true,
                    (Cause::Text(t), Some(c)) => c == t,
                    (Cause::LambdaMessage(m), Some(c)) => {
                        serde_json::from_str::<Value>(c).is_ok_and(|v| v["errorMessage"] == *m)
                    }
                    _ => false,
                }
        }
        _ => false,
    };
    let want = match &case.expected {
        Expected::Output(v) => format!("output {v}"),
        Expected::Error { error, cause } => match cause {
            Cause::Absent => format!("error {error} without a cause"),
            Cause::Text(t) => format!("error {error}, cause {t:?}"),
            Cause::LambdaMessage(m) => format!("error {error}, a Lambda cause with errorMessage {m:?}"),
        },
    };
    (!agrees).then(|| format!("{placement:?} {}: expected {want}, got {got}", case.name))
}

/// Fails the test listing every case that disagrees with the table.
#[track_caller]
fn assert_matrix(placement: Placement, got: &[(&Case, Got)]) {
    let wrong: Vec<String> = got.iter().filter_map(|(c, g)| mismatch(c, placement, g)).collect();
    assert!(wrong.is_empty(), "{} of {} cases disagree with the table:\n{}", wrong.len(), got.len(), wrong.join("\n"));
}

/// Runs each case's machine, wrapped by `wrap`, as its own `dmap run`, all at once.
fn run_each(placement: Placement, wrap: impl Fn(&Value) -> (Value, Value)) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let functions = write_functions(dir.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    let table = cases();
    let mut runs: Vec<(&Case, Proc)> = Vec::new();
    for case in &table {
        let (definition, input) = wrap(&case.definition);
        let file = dir.path().join(format!("{}.asl.json", case.name));
        std::fs::write(&file, definition.to_string()).expect("definition file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmap"));
        cmd.current_dir(repo()).arg("run").arg(&file).arg("--quiet");
        cmd.arg("--input-json").arg(input.to_string()).arg("--functions").arg(&functions);
        runs.push((case, Proc::spawn(case.name, cmd, dir.path())));
    }
    let got: Vec<(&Case, Got)> = runs
        .into_iter()
        .map(|(case, mut p)| {
            let status = p.wait_exit(deadline);
            let stdout = p.stdout();
            let got = match (status.code(), serde_json::from_str::<Value>(&stdout)) {
                (Some(0), Ok(v)) => Got::Output(v),
                (Some(1), Ok(v)) if v["Error"].is_string() => Got::Error {
                    error: v["Error"].as_str().unwrap_or_default().to_string(),
                    cause: v["Cause"].as_str().map(str::to_string),
                },
                _ => Got::Broken(format!("{status}: {stdout} {}", p.stderr())),
            };
            (case, got)
        })
        .collect();
    assert_matrix(placement, &got);
}

#[test]
fn every_case_as_the_top_level() {
    run_each(Placement::TopLevel, |definition| (definition.clone(), input()));
}

#[test]
fn every_case_as_an_inline_map_child() {
    run_each(Placement::InlineMapChild, |definition| {
        let map = json!({"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": definition, "End": true});
        (json!({"StartAt": "Outer", "States": {"Outer": map}}), json!({"items": [input()]}))
    });
}

/// One definition running every case as the child of its own Distributed Map, all at once
/// (a Parallel with one branch per case), each writing its results under the case's name.
/// State names are unique across a definition, so each case's are prefixed with its name.
fn all_distributed() -> Value {
    let branches: Vec<Value> = cases()
        .iter()
        .map(|case| {
            let mut child = prefixed(&case.definition, &format!("{}_", case.name));
            child["ProcessorConfig"] = json!({"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"});
            let map = json!({"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": child,
                "ToleratedFailurePercentage": 100, "End": true,
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "results", "Prefix": case.name}}});
            json!({"StartAt": case.name, "States": {case.name: map}})
        })
        .collect();
    json!({"StartAt": "All", "States": {"All": {"Type": "Parallel", "Branches": branches, "End": true}}})
}

/// `machine` with every state name (and every transition to one) prefixed, at any depth.
fn prefixed(machine: &Value, prefix: &str) -> Value {
    let mut m = machine.clone();
    rename_machine(&mut m, prefix);
    m
}

fn rename_machine(m: &mut Value, p: &str) {
    let name = |v: &mut Value| {
        if let Value::String(s) = v {
            *s = format!("{p}{s}");
        }
    };
    if let Some(start) = m.get_mut("StartAt") {
        name(start);
    }
    let Some(Value::Object(states)) = m.get_mut("States").map(Value::take) else { return };
    let mut renamed = Map::new();
    for (state_name, mut state) in states {
        for key in ["Next", "Default"] {
            if let Some(v) = state.get_mut(key) {
                name(v);
            }
        }
        for list in ["Choices", "Catch"] {
            for rule in state.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
                if let Some(v) = rule.get_mut("Next") {
                    name(v);
                }
            }
        }
        for branch in state.get_mut("Branches").and_then(Value::as_array_mut).into_iter().flatten() {
            rename_machine(branch, p);
        }
        if let Some(processor) = state.get_mut("ItemProcessor") {
            rename_machine(processor, p);
        }
        renamed.insert(format!("{p}{state_name}"), state);
    }
    m["States"] = Value::Object(renamed);
}

/// Runs [`all_distributed`] (over NATS when `nats` names a server), and reads each case's
/// one child record from its ResultWriter output.
fn run_distributed(dir: &Path, functions: &Path, nats: Option<String>) {
    let results = dir.join("results");
    std::fs::create_dir_all(&results).expect("results bucket");
    let file = dir.join("all.asl.json");
    std::fs::write(&file, all_distributed().to_string()).expect("definition file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmap"));
    cmd.current_dir(repo()).arg("run").arg(&file).arg("--quiet");
    cmd.arg("--input-json").arg(json!({"items": [input()]}).to_string());
    cmd.arg("--functions").arg(functions).arg("--bucket").arg(format!("results={}", results.display()));
    if let Some(url) = &nats {
        cmd.arg("--nats").arg(url);
    }
    let mut run = Proc::spawn("dmap", cmd, dir);
    let status = run.wait_exit(Instant::now() + Duration::from_secs(60));
    assert!(status.success(), "dmap run: {status}\n{}", run.tail());
    let table = cases();
    let got: Vec<(&Case, Got)> = table.iter().map(|case| (case, child_record(&results, case.name))).collect();
    let placement = Placement::DistributedChild;
    assert_matrix(placement, &got);
}

/// The one child of Map Run `results/NAME/<run id>/`: its output, or its error and cause.
fn child_record(results: &Path, name: &str) -> Got {
    let runs: Vec<PathBuf> = match std::fs::read_dir(results.join(name)) {
        Ok(d) => d.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(e) => return Got::Broken(format!("no ResultWriter output: {e}")),
    };
    let [run] = runs.as_slice() else { return Got::Broken(format!("{} Map Runs wrote results", runs.len())) };
    let key = format!("{name}/{}/manifest.json", run.file_name().map(|f| f.to_string_lossy()).unwrap_or_default());
    let r = read_results(results, &key);
    match (r.succeeded.as_slice(), r.failed.as_slice(), r.pending.as_slice()) {
        ([s], [], []) => match s["Output"].as_str().map(serde_json::from_str) {
            Some(Ok(v)) => Got::Output(v),
            _ => Got::Broken(format!("a SUCCEEDED record without an output: {s}")),
        },
        ([], [f], []) => Got::Error {
            error: f["Error"].as_str().unwrap_or_default().to_string(),
            cause: f["Cause"].as_str().map(str::to_string),
        },
        _ => Got::Broken(format!("not one record: {r:?}")),
    }
}

#[test]
fn every_case_as_a_distributed_map_child_embedded() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let functions = write_functions(dir.path());
    run_distributed(dir.path(), &functions, None);
}

#[test]
fn every_case_as_a_distributed_map_child_on_a_nats_worker() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let functions = write_functions(dir.path());
    let functions_arg = functions.display().to_string();
    let mut c = Cluster::new(&[]).with_worker_args(&["--functions", &functions_arg]);
    c.start_worker();
    c.wait_workers_ready(Instant::now() + Duration::from_secs(30));
    run_distributed(dir.path(), &functions, Some(c.nats.url()));
}
