//! The rows `bench serve` adds to the report, its reference figures, and the two targets.
//!
//! References: AWS's default quotas in its largest regions (StartExecution refill 300/s, state
//! transitions 5,000/s, StartSyncExecution 6,000/s; quotas, not measurements: each is given as
//! the same figure for every round so that the report's ratios pair them), and the same machine
//! executed by the engine in this process with no API and no store (`execute_pure`, one
//! thread), which shows what the API and durability cost.

use std::time::Instant;

use anyhow::ensure;
use chrono::Utc;
use serde_json::Value;
use shared::asl::eval::{ExecutionOptions, Status, execute_pure};

use super::workload::{self, DEFINITION, STATES, expected_output};
use super::{Args, EXPRESS_TARGET, ExpressRun, STANDARD_TARGET, StandardRun};
use crate::report::{Measurement, Report, number};
use crate::scenarios::engine::{PureHost, compile};

pub const SERVE_STANDARD: &str = "dmap serve (Standard)";
pub const SERVE_EXPRESS: &str = "dmap serve (Express, sync)";
pub const ENGINE: &str = "engine in-process (no API, no store)";
pub const AWS_START: &str = "AWS quota: StartExecution refill 300/s";
pub const AWS_TRANSITIONS: &str = "AWS quota: state transitions refill 5,000/s";
pub const AWS_SYNC: &str = "AWS quota: StartSyncExecution 6,000/s";

/// The in-process engine's executions/s, one per round.
pub fn engine_baseline(runs: usize, n: u64) -> anyhow::Result<Vec<f64>> {
    let def: Value = serde_json::from_str(DEFINITION)?;
    let machine = compile(&def).map_err(anyhow::Error::msg)?;
    let host = PureHost(Utc::now());
    let options = ExecutionOptions::default();
    let first = execute_pure(&machine, serde_json::from_str(&workload::input(7))?, &options, &host);
    ensure!(
        first.as_ref().and_then(|o| o.output.clone()) == Some(expected_output(7)),
        "the engine's output for {} is {:?}, {} expected",
        workload::input(7),
        first.and_then(|o| o.output),
        expected_output(7)
    );
    (0..runs)
        .map(|_| {
            // Each execution parses its input from the text the API would carry, as a server does.
            let inputs: Vec<String> = (0..n).map(workload::input).collect();
            let start = Instant::now();
            let mut ok = 0u64;
            for text in inputs {
                let input: Value = serde_json::from_str(&text)?;
                if execute_pure(&machine, input, &options, &host).is_some_and(|o| o.status == Status::Succeeded) {
                    ok += 1;
                }
            }
            let secs = start.elapsed().as_secs_f64();
            ensure!(ok == n, "only {ok} of {n} in-process executions succeeded");
            Ok(n as f64 / secs)
        })
        .collect()
}

fn m(scenario: &str, title: &str, system: &str, detail: &str, unit: &str, samples: Vec<f64>) -> Measurement {
    Measurement {
        scenario: scenario.into(),
        title: title.into(),
        system: system.into(),
        detail: detail.into(),
        unit: unit.into(),
        higher_is_better: !(unit.starts_with("ms") || unit.starts_with("µs")),
        samples,
        params: Default::default(),
        unsupported: None,
    }
}

pub fn record(r: &mut Report, a: &Args, std: &[StandardRun], exp: &[ExpressRun], engine: &[f64]) {
    let load = format!(
        "{} keep-alive connections, closed loop, {} s after a {} s warm-up, generator on {} thread(s) on the same machine",
        a.connections, a.seconds, a.warmup, a.client_threads
    );
    let engine_us: Vec<f64> = engine.iter().map(|e| 1e6 / e).collect();
    let engine_detail = format!(
        "{} executions of the same machine by shared::asl::eval::execute_pure on one thread, input parsed from its JSON text; \
         CPU per execution = 1 ÷ executions/s",
        number(a.engine_executions as f64)
    );
    if !std.is_empty() {
        let n = std.len();
        let col = |f: &dyn Fn(&StandardRun) -> f64| std.iter().map(f).collect::<Vec<_>>();
        let events = std.iter().map(|s| s.verified.events).fold((usize::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1)));
        let types = std.first().map(|s| s.verified.types.join(", ")).unwrap_or_default();
        let d = format!(
            "StartExecution (unique names) of the 3-state machine (Pass with Parameters → Choice → Succeed), {load}; every \
             acknowledged execution listed SUCCEEDED by ListExecutions; {} per run checked by DescribeExecution and \
             GetExecutionHistory ({}–{} events: {types})",
            a.verify, events.0, events.1
        );
        let started = "Standard executions started (StartExecution answered, executions/s)";
        r.add(m("serve-standard-started", started, SERVE_STANDARD, &d, "executions/s", col(&|s| s.started_per_s)));
        r.add(m(
            "serve-standard-started",
            started,
            AWS_START,
            "AWS's default quota, not a measurement",
            "executions/s",
            vec![300.0; n],
        ));
        let completed = "Standard executions completed (executions ÷ first startDate to last stopDate, executions/s)";
        let dc = format!("{d}; completed/s = executions ÷ (last stopDate − first startDate) from ListExecutions");
        r.add(m(
            "serve-standard-completed",
            completed,
            SERVE_STANDARD,
            &dc,
            "executions/s",
            col(&|s| s.completed_per_s),
        ));
        let bc = "executions ÷ the bench's time from the first StartExecution sent until ListExecutions showed none RUNNING \
                  (polled every 50 ms)";
        let by_bench = col(&|s| s.load.ok as f64 / s.drained_after);
        r.add(m(
            "serve-standard-completed",
            completed,
            &format!("{SERVE_STANDARD}, bench's clock"),
            bc,
            "executions/s",
            by_bench,
        ));
        r.add(m("serve-standard-completed", completed, ENGINE, &engine_detail, "executions/s", engine.to_vec()));
        let transitions = "State transitions of completed Standard executions (3 per execution, transitions/s)";
        let t = col(&|s| s.completed_per_s * STATES);
        r.add(m(
            "serve-standard-transitions",
            transitions,
            SERVE_STANDARD,
            "completed/s × 3 states",
            "transitions/s",
            t,
        ));
        r.add(m(
            "serve-standard-transitions",
            transitions,
            AWS_TRANSITIONS,
            "AWS's default quota, not a measurement",
            "transitions/s",
            vec![5000.0; n],
        ));
        let lat = "StartExecution latency (ms)";
        r.add(m(
            "serve-standard-p50",
            &format!("{lat}, p50"),
            SERVE_STANDARD,
            &load,
            "ms",
            col(&|s| s.load.latency_ms(0.5)),
        ));
        r.add(m(
            "serve-standard-p99",
            &format!("{lat}, p99"),
            SERVE_STANDARD,
            &load,
            "ms",
            col(&|s| s.load.latency_ms(0.99)),
        ));
        let cpu = "CPU per Standard execution (µs)";
        let sd = "dmap serve's utime + stime (/proc) from the first StartExecution until none RUNNING, ÷ executions";
        r.add(m(
            "serve-standard-cpu",
            cpu,
            SERVE_STANDARD,
            sd,
            "µs per execution",
            col(&|s| s.server_cpu * 1e6 / s.load.ok as f64),
        ));
        r.add(m("serve-standard-cpu", cpu, ENGINE, &engine_detail, "µs per execution", engine_us.clone()));
        let gd = "the load generator's own utime + stime (this process) over the timed run, ÷ executions";
        let g = col(&|s| s.client_cpu * 1e6 / s.load.ok as f64);
        r.add(m("serve-standard-cpu", cpu, "load generator (bench, hyper client)", gd, "µs per execution", g));
        let store = "dmap serve's store during the Standard runs (from its /metrics)";
        let sd =
            "units ÷ groups (dmap_store_units_total, dmap_store_groups_total), one transaction and one sync per group";
        let upg = col(&|s| s.store.units / s.store.groups);
        r.add(m(
            "serve-standard-units-per-commit",
            &format!("{store}: units per group commit"),
            SERVE_STANDARD,
            sd,
            "units",
            upg,
        ));
        let sd = "dmap_store_commit_seconds_sum ÷ dmap_store_groups_total over the run";
        let ms = col(&|s| s.store.commit_seconds * 1e3 / s.store.groups);
        r.add(m("serve-standard-commit-ms", &format!("{store}: time per group commit"), SERVE_STANDARD, sd, "ms", ms));
        let sd = "dmap_transitions_total (history events written) ÷ executions";
        let ev = col(&|s| s.store.events / s.load.ok as f64);
        r.add(m(
            "serve-standard-events",
            &format!("{store}: history events per execution"),
            SERVE_STANDARD,
            sd,
            "events",
            ev,
        ));
        let note = "pair by pair; AWS's figure is a default quota, not a measurement";
        r.ratio("serve-standard-started", SERVE_STANDARD, AWS_START, note);
        r.ratio("serve-standard-transitions", SERVE_STANDARD, AWS_TRANSITIONS, note);
        let note = "the API, the durable store and the history against the bare engine, same machine, one thread for the engine";
        r.ratio("serve-standard-completed", SERVE_STANDARD, ENGINE, note);
        r.ratio("serve-standard-cpu", SERVE_STANDARD, ENGINE, note);
    }
    if !exp.is_empty() {
        let n = exp.len();
        let col = |f: &dyn Fn(&ExpressRun) -> f64| exp.iter().map(f).collect::<Vec<_>>();
        let d = format!(
            "StartSyncExecution of the same machine as EXPRESS, {load}; every answer SUCCEEDED with the output its input implies"
        );
        let calls = "Express StartSyncExecution (calls/s)";
        r.add(m("serve-express-calls", calls, SERVE_EXPRESS, &d, "calls/s", col(&|e| e.load.rate())));
        r.add(m(
            "serve-express-calls",
            calls,
            AWS_SYNC,
            "AWS's default quota, not a measurement",
            "calls/s",
            vec![6000.0; n],
        ));
        r.add(m(
            "serve-express-calls",
            calls,
            ENGINE,
            &engine_detail,
            "calls/s",
            engine[..n.min(engine.len())].to_vec(),
        ));
        let lat = "StartSyncExecution latency (ms)";
        r.add(m(
            "serve-express-p50",
            &format!("{lat}, p50"),
            SERVE_EXPRESS,
            &load,
            "ms",
            col(&|e| e.load.latency_ms(0.5)),
        ));
        r.add(m(
            "serve-express-p99",
            &format!("{lat}, p99"),
            SERVE_EXPRESS,
            &load,
            "ms",
            col(&|e| e.load.latency_ms(0.99)),
        ));
        let cpu = "CPU per Express StartSyncExecution (µs)";
        let sd = "dmap serve's utime + stime (/proc) over the timed run, ÷ calls";
        r.add(m(
            "serve-express-cpu",
            cpu,
            SERVE_EXPRESS,
            sd,
            "µs per call",
            col(&|e| e.server_cpu * 1e6 / e.load.ok as f64),
        ));
        r.add(m("serve-express-cpu", cpu, ENGINE, &engine_detail, "µs per call", engine_us));
        let gd = "the load generator's own utime + stime (this process) over the timed run, ÷ calls";
        let g = col(&|e| e.client_cpu * 1e6 / e.load.ok as f64);
        r.add(m("serve-express-cpu", cpu, "load generator (bench, hyper client)", gd, "µs per call", g));
        r.ratio(
            "serve-express-calls",
            SERVE_EXPRESS,
            AWS_SYNC,
            "pair by pair; AWS's figure is a default quota, not a measurement",
        );
        let note = "the API against the bare engine, same machine";
        r.ratio("serve-express-calls", SERVE_EXPRESS, ENGINE, note);
        r.ratio("serve-express-cpu", SERVE_EXPRESS, ENGINE, note);
    }
}

/// The two targets, met or not.
pub fn targets(r: &Report) {
    let median = |scenario: &str, system: &str| {
        r.measurements.iter().find(|m| m.scenario == scenario && m.system == system).and_then(Measurement::stats)
    };
    let verdict = |x: f64, target: f64| if x >= target { "met" } else { "NOT met" };
    if let (Some(s), Some(c)) =
        (median("serve-standard-started", SERVE_STANDARD), median("serve-standard-completed", SERVE_STANDARD))
    {
        let worst = s.0.min(c.0);
        println!(
            "target: ≥ {} Standard executions/s started and completed: started {} (min {}), completed {} (min {}): {}",
            number(STANDARD_TARGET),
            number(s.0),
            number(s.1),
            number(c.0),
            number(c.1),
            verdict(worst, STANDARD_TARGET)
        );
    }
    if let Some(e) = median("serve-express-calls", SERVE_EXPRESS) {
        println!(
            "target: ≥ {} StartSyncExecution/s: {} (min {}, max {}): {}",
            number(EXPRESS_TARGET),
            number(e.0),
            number(e.1),
            number(e.2),
            verdict(e.0, EXPRESS_TARGET)
        );
    }
}
