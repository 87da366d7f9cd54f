//! An inline Map whose ItemSelector reads the context object (`"v.$": "$$.Map.Item.Index"`)
//! over `{"items": [0, 1, …, N-1]}`, for N = 2,000, 4,000, 8,000 and 16,000: seconds per item
//! at each N, and how the per-item time grows from the smallest N to the largest.
//!
//! Issue 12 found this quadratic: the context object carries a copy of the whole execution
//! input and was rebuilt for every item, so each item cost O(N) and the Map O(N²). A linear
//! Map keeps the per-item time flat; the target after the fix is a growth of at most
//! 1.5× from 2,000 to 16,000 items (8× is what quadratic gives).
//!
//! The machine is pure, so it runs through `execute_pure` on one core, as the engine
//! benchmark's children do; building the input is not timed.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Utc;
use serde_json::{Value, json};
use shared::asl::eval::{ExecutionOptions, Status, execute_pure};
use shared::asl::model::StateMachine;

use crate::report::{Measurement, Report};
use crate::scenarios::engine::{PureHost, compile};

pub const SCENARIO: &str = "engine-inline-map-context";
pub const TITLE: &str = "Engine alone, inline Map whose ItemSelector reads $$ (µs per item, lower is better)";
/// Item counts, smallest first: the growth ratio is the last's per-item time ÷ the first's.
pub const SIZES: [usize; 4] = [2_000, 4_000, 8_000, 16_000];
/// The bound on the growth of the per-item time from 2,000 to 16,000 items.
pub const TARGET_GROWTH: f64 = 1.5;

pub fn definition() -> Value {
    json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items",
        "ItemSelector": {"v.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}})
}

/// The benchmark's machine, run as an Express execution. A Standard execution records about
/// four history events per inline Map iteration, so beyond ~6,249 items it ends at the
/// 25,000-event limit with `States.Runtime` before the Map finishes; Express executions keep
/// no history, so the limit does not apply and every N runs the whole Map. Nesting the Map
/// under a Distributed Map would lift the limit too, but its children are not pure: they need
/// the async runtime and the Map Run machinery, whose costs would blur the Map's own.
fn machine() -> anyhow::Result<StateMachine> {
    let mut machine = compile(&definition()).map_err(|e| anyhow::anyhow!("invalid benchmark definition: {e}"))?;
    machine.express = true;
    Ok(machine)
}

/// The system name of the measurement at `n` items (one per N, so that the report pairs them).
pub fn system(n: usize) -> String {
    format!("dmap, {} items", crate::report::number(n as f64))
}

/// Microseconds per item for one timed execution over `n` items.
fn micros_per_item(machine: &StateMachine, n: usize) -> anyhow::Result<f64> {
    let input = json!({"items": (0..n).collect::<Vec<_>>()});
    let host = PureHost(Utc::now());
    let options = ExecutionOptions::default();
    let start = Instant::now();
    let outcome = execute_pure(machine, input, &options, &host);
    let secs = start.elapsed().as_secs_f64();
    let outcome = outcome.ok_or_else(|| anyhow::anyhow!("the inline Map suspended: it is not pure"))?;
    anyhow::ensure!(outcome.status == Status::Succeeded, "the inline Map over {n} items failed: {:?}", outcome.failure);
    // Each iteration's input is its index, and the Pass passes it on.
    let output = outcome.output.unwrap_or_default();
    let items = output.as_array().map_or(&[][..], Vec::as_slice);
    anyhow::ensure!(
        items.len() == n && items.iter().enumerate().all(|(i, v)| v == &json!({"v": i})),
        "the inline Map over {n} items returned something other than [{{\"v\": 0}}, …]"
    );
    Ok(secs * 1e6 / n as f64)
}

/// Times `runs` rounds, each running every N once (so that a slow moment of a shared machine
/// weighs on all sizes alike), after one untimed round; adds one measurement per N and the
/// growth ratio to `report`.
pub fn add(report: &mut Report, runs: usize) -> anyhow::Result<()> {
    let machine = machine()?;
    for &n in &SIZES {
        micros_per_item(&machine, n)?;
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); SIZES.len()];
    for _ in 0..runs {
        for (i, &n) in SIZES.iter().enumerate() {
            samples[i].push(micros_per_item(&machine, n)?);
        }
    }
    for (&n, samples) in SIZES.iter().zip(samples) {
        report.add(Measurement {
            scenario: SCENARIO.into(),
            title: TITLE.into(),
            system: system(n),
            detail: format!(
                "one Express execution of a top-level inline Map over {n} items, ItemSelector {{\"v.$\": \"$$.Map.Item.Index\"}}, \
                 a Pass per item, in-process (shared::asl::eval::execute_pure); time ÷ items"
            ),
            unit: "µs per item".into(),
            higher_is_better: false,
            samples,
            params: BTreeMap::from([("items".to_string(), n as f64)]),
            unsupported: None,
        });
    }
    // Lower is better, so the report inverts: this is the per-item time at the largest N ÷ at
    // the smallest, formed round by round.
    let (small, large) = (SIZES[0], SIZES[SIZES.len() - 1]);
    let note = format!(
        "per-item time at {} ÷ at {} items: 1× when linear, {}× when quadratic; issue 12's target: ≤ {TARGET_GROWTH}×",
        crate::report::number(large as f64),
        crate::report::number(small as f64),
        large / small
    );
    report.ratio(SCENARIO, &system(small), &system(large), &note);
    Ok(())
}
