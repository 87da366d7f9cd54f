//! The rows of `bench serve`'s callback and fan-out parts, and their targets (issue 15):
//! SendTaskSuccess → next state p50 < 2 ms and p99 < 20 ms with 1,000 callbacks pending; the
//! fan-out's time against the same children in process (a ratio, no target).

use super::callbacks::{CallbackRun, Sample};
use super::load::quantile_ms;
use super::{Args, FanoutRun};
use crate::report::{Measurement, Report, number};

/// Which samples of a round a row is about.
type Pick = fn(&CallbackRun) -> &[Sample];

pub const CALLBACK_P50_TARGET_MS: f64 = 2.0;
pub const CALLBACK_P99_TARGET_MS: f64 = 20.0;

pub const NEXT_CALL: &str = "to the next state's call (bench clock, µs)";
pub const ENTERED: &str = "to the next state's TaskStateEntered (history timestamp, ms resolution)";
pub const ANSWERED: &str = "SendTaskSuccess answered";
pub const NESTED: &str = "dmap serve: nested startExecution.sync:2 children";
pub const IN_PROCESS: &str = "dmap serve: the same children in process";

fn m(scenario: &str, title: &str, system: &str, detail: &str, unit: &str, samples: Vec<f64>) -> Measurement {
    Measurement {
        scenario: scenario.into(),
        title: title.into(),
        system: system.into(),
        detail: detail.into(),
        unit: unit.into(),
        higher_is_better: false,
        samples,
        params: Default::default(),
        unsupported: None,
    }
}

pub fn record(r: &mut Report, a: &Args, cb: &[CallbackRun], fan: &[FanoutRun]) {
    if !cb.is_empty() {
        let base = format!(
            "Standard executions whose first state is a lambda:invoke.waitForTaskToken Task (function served by the bench \
             over loopback); {} + {} + {} started, every token at the bench and every history ending with TaskSubmitted \
             before timing; {} kept pending throughout; the next state is a lambda:invoke Task; every execution checked \
             SUCCEEDED with the callback's output",
            count(a.callbacks_pending),
            count(a.callbacks_sequential),
            count(a.callbacks_paced),
            count(a.callbacks_pending)
        );
        let modes: [(&str, Pick, String); 2] = [
            (
                "one at a time",
                |c| c.sequential.as_slice(),
                format!("{} callbacks, each after the previous one's next state called in", a.callbacks_sequential),
            ),
            (
                "paced",
                |c| c.paced.as_slice(),
                format!("{} callbacks at {}/s, open loop, 16 connections", a.callbacks_paced, a.callbacks_rate),
            ),
        ];
        for (q, label) in [(0.5, "p50"), (0.99, "p99")] {
            let scenario = format!("serve-callback-{label}");
            let title =
                format!("Latency from SendTaskSuccess to the next state, {label}, with 1,000 callbacks pending (ms)");
            for (mode, pick, how) in &modes {
                let per = |f: &dyn Fn(&Sample) -> f64| -> Vec<f64> {
                    cb.iter()
                        .map(|c| {
                            let us: Vec<u32> = pick(c).iter().map(|s| (f(s) * 1e3).max(0.0) as u32).collect();
                            quantile_ms(&us, q)
                        })
                        .collect()
                };
                let d = format!("{base}; {how}");
                r.add(m(
                    &scenario,
                    &title,
                    &format!("{mode}: {NEXT_CALL}"),
                    &d,
                    "ms",
                    per(&|s| f64::from(s.next_call_us) / 1e3),
                ));
                r.add(m(&scenario, &title, &format!("{mode}: {ENTERED}"), &d, "ms", per(&|s| s.entered_ms)));
                r.add(m(
                    &scenario,
                    &title,
                    &format!("{mode}: {ANSWERED}"),
                    &d,
                    "ms",
                    per(&|s| f64::from(s.answered_us) / 1e3),
                ));
            }
        }
        let cpu: Vec<f64> = cb.iter().map(|c| c.server_cpu_us).collect();
        r.add(m(
            "serve-callback-cpu",
            "dmap serve's CPU per callback (µs)",
            "dmap serve",
            "utime + stime (/proc) over both timed parts ÷ callbacks: SendTaskSuccess, the next state and its Task call",
            "µs per callback",
            cpu,
        ));
    }
    if !fan.is_empty() {
        let title = format!("A fan-out of {} children from one Distributed Map: time to finish (s)", count(a.fanout));
        let common = format!(
            "one STANDARD execution, Distributed Map (STANDARD children) over {} items in its input, MaxConcurrency {}; \
             stopDate − startDate of the parent; output checked item by item",
            count(a.fanout),
            a.fanout_concurrency
        );
        let d = format!(
            "{common}; each item a Task startExecution.sync:2 of a 1-state child machine on the same server; \
             ListExecutions of the child machine: exactly {} children, all SUCCEEDED",
            count(a.fanout)
        );
        r.add(m("serve-fanout", &title, NESTED, &d, "s", fan.iter().map(|f| f.nested.server_seconds).collect()));
        let d = format!("{common}; the child's states as the ItemProcessor");
        r.add(m(
            "serve-fanout",
            &title,
            IN_PROCESS,
            &d,
            "s",
            fan.iter().map(|f| f.in_process.server_seconds).collect(),
        ));
        r.ratio("serve-fanout", NESTED, IN_PROCESS, "run by run, same server, same items");
        let bench = format!("{title}, by the bench's clock");
        let d = "StartExecution sent → DescribeExecution SUCCEEDED (polled every 50 ms)";
        r.add(m("serve-fanout-bench", &bench, NESTED, d, "s", fan.iter().map(|f| f.nested.bench_seconds).collect()));
        r.add(m(
            "serve-fanout-bench",
            &bench,
            IN_PROCESS,
            d,
            "s",
            fan.iter().map(|f| f.in_process.bench_seconds).collect(),
        ));
    }
}

/// A count with thousands separators (`number` gives small numbers decimals).
fn count(n: u64) -> String {
    if n >= 1000 { number(n as f64) } else { n.to_string() }
}

/// The callback targets, met or not (the fan-out has none: its ratio is reported).
pub fn targets(r: &Report) {
    let median = |scenario: &str, system: &str| {
        r.measurements.iter().find(|m| m.scenario == scenario && m.system == system).and_then(Measurement::stats)
    };
    let verdict = |x: f64, target: f64| if x < target { "met" } else { "NOT met" };
    for mode in ["one at a time", "paced"] {
        for method in [NEXT_CALL, ENTERED] {
            let system = format!("{mode}: {method}");
            if let (Some(p50), Some(p99)) =
                (median("serve-callback-p50", &system), median("serve-callback-p99", &system))
            {
                println!(
                    "target: SendTaskSuccess → next state, {system}: p50 {:.2} ms (< {CALLBACK_P50_TARGET_MS}: {}), p99 \
                     {:.2} ms (< {CALLBACK_P99_TARGET_MS}: {})",
                    p50.0,
                    verdict(p50.0, CALLBACK_P50_TARGET_MS),
                    p99.0,
                    verdict(p99.0, CALLBACK_P99_TARGET_MS)
                );
            }
        }
    }
    if let (Some(n), Some(l)) = (median("serve-fanout", NESTED), median("serve-fanout", IN_PROCESS)) {
        println!("fan-out: nested .sync:2 {:.2} s, in process {:.2} s: {:.1}× (medians)", n.0, l.0, n.0 / l.0);
    }
}
