//! The engine alone: child executions per second on one core, for the 1-state child
//! (`Pass` with `Parameters {"id.$": "$.id", "double.$": "States.MathAdd($.v, $.v)"}`) and
//! the 5-state child (Pass → Choice → Pass → Pass → Succeed), over generated items
//! `{"id": i, "v": i, "name": "item-i"}`. Item generation is not timed; each execution
//! consumes its own input, as a worker does.

use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::asl::Failure;
use shared::asl::eval::{ExecutionOptions, Host, Status, TaskRequest, execute_pure};

use crate::machine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Items per run.
    #[arg(long, default_value_t = 1_000_000)]
    items: usize,
    /// Timed runs per child (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

pub fn one_state() -> Value {
    json!({"StartAt": "Double", "States": {"Double": {
        "Type": "Pass", "Parameters": {"id.$": "$.id", "double.$": "States.MathAdd($.v, $.v)"}, "End": true}}})
}

pub fn five_state() -> Value {
    json!({"StartAt": "Double", "States": {
        "Double": {"Type": "Pass", "Parameters": {"id.$": "$.id", "double.$": "States.MathAdd($.v, $.v)"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.double", "NumericGreaterThanEquals": 0, "Next": "Tag"}], "Default": "Done"},
        "Tag": {"Type": "Pass", "Parameters": {"id.$": "$.id", "double.$": "$.double", "sign": "non-negative"}, "Next": "Stamp"},
        "Stamp": {"Type": "Pass", "Result": {"by": "dmap"}, "ResultPath": "$.meta", "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
}

/// Pure children never call the host; a clock is all it provides.
struct PureHost(DateTime<Utc>);

impl Host for PureHost {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
    fn sleep_until(&self, _deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    fn invoke_task(&self, _request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        Box::pin(async { Err(Failure::named("States.TaskFailed")) })
    }
}

fn items(n: usize) -> Vec<Value> {
    (0..n).map(|i| json!({"id": i, "v": i, "name": format!("item-{i}")})).collect()
}

/// Executions per second for one timed run.
pub fn measure(def: &Value, n: usize) -> anyhow::Result<f64> {
    let (machine, _) =
        shared::asl::parse::parse_value(def).map_err(|d| anyhow::anyhow!("invalid benchmark definition: {d:?}"))?;
    let host = PureHost(Utc::now());
    let options = ExecutionOptions::default();
    let inputs = items(n);
    let start = Instant::now();
    let mut ok = 0usize;
    for input in inputs {
        if let Some(o) = execute_pure(&machine, input, &options, &host)
            && o.status == Status::Succeeded
        {
            ok += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(ok == n, "only {ok} of {n} executions succeeded");
    Ok(n as f64 / secs)
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    println!("engine alone, one core, {} items per run, {} runs; machine: {}", a.items, a.runs, machine::describe());
    println!("| child | median exec/s | min | max |");
    println!("|---|---:|---:|---:|");
    for (name, def) in [("1-state", one_state()), ("5-state", five_state())] {
        // One untimed warm-up run on a tenth of the items.
        measure(&def, (a.items / 10).max(1))?;
        let rates = (0..a.runs).map(|_| measure(&def, a.items)).collect::<anyhow::Result<Vec<_>>>()?;
        let (med, min, max) = machine::stats(rates);
        println!("| {name} | {med:.0} | {min:.0} | {max:.0} |");
    }
    Ok(())
}
