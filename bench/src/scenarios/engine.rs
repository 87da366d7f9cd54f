//! The engine alone: child executions per second on one core, for the 1-state child
//! (`Pass` with `Parameters {"id.$": "$.id", "double.$": "States.MathAdd($.v, $.v)"}`),
//! the 5-state child (Pass → Choice → Pass → Pass → Succeed) and the same 5-state child
//! written in JSONata, over generated items `{"id": i, "v": i, "name": "item-i"}`; then the
//! inline Map whose ItemSelector reads `$$` ([`super::inline_map`]). Item generation is not
//! timed; each execution consumes its own input, as a worker does.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::asl::Failure;
use shared::asl::eval::{ExecutionOptions, Host, Status, TaskRequest, execute_pure};
use shared::asl::model::StateMachine;

use crate::report::{Measurement, Report};
use crate::scenarios::inline_map;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Items per run.
    #[arg(long, default_value_t = 1_000_000)]
    items: usize,
    /// Timed runs per child (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Also write the results to DIR/<date>-<host>-engine.{json,md} (printed either way).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Parts to run: children (the 1-state, 5-state and JSONata 5-state children), inline-map
    /// (the inline Map reading `$$`). Repeat; default both.
    #[arg(long = "only", value_parser = ["children", "inline-map"])]
    only: Vec<String>,
}

/// The system name of the JSONPath children's measurements (as in `bench all`).
pub const DMAP: &str = "dmap";
/// The system name of the JSONata 5-state child's measurements, beside [`DMAP`]'s JSONPath one
/// in the same scenario, so that the report pairs them.
pub const JSONATA: &str = "dmap (JSONata)";
/// Issue 12's target for the JSONata 5-state child, executions per second on one core.
pub const JSONATA_TARGET: f64 = 300_000.0;

/// Why the engine cannot run a benchmark child: its diagnostics, one line.
pub type Refused = String;

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

/// [`five_state`] in JSONata: the same states doing the same work, with `Output` and
/// `Condition` in place of `Parameters`, `Variable` and `ResultPath`.
pub fn five_state_jsonata() -> Value {
    json!({"QueryLanguage": "JSONata", "StartAt": "Double", "States": {
        "Double": {"Type": "Pass",
            "Output": {"id": "{% $states.input.id %}", "double": "{% $states.input.v + $states.input.v %}"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.double >= 0 %}", "Next": "Tag"}], "Default": "Done"},
        "Tag": {"Type": "Pass",
            "Output": {"id": "{% $states.input.id %}", "double": "{% $states.input.double %}", "sign": "non-negative"}, "Next": "Stamp"},
        "Stamp": {"Type": "Pass", "Output": "{% $merge([$states.input, {'meta': {'by': 'dmap'}}]) %}", "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
}

/// Pure children never call the host; a clock is all it provides.
pub struct PureHost(pub DateTime<Utc>);

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

/// The compiled machine, or the engine's diagnostics when it refuses the definition.
pub fn compile(def: &Value) -> Result<StateMachine, Refused> {
    shared::asl::parse::parse_value(def).map(|(machine, _)| machine).map_err(|diags| {
        let lines: Vec<String> = diags.iter().map(ToString::to_string).collect();
        format!("the engine refuses the definition: {}", lines.join("; "))
    })
}

/// Executions per second for one timed run of `n` executions.
pub fn measure_machine(machine: &StateMachine, n: usize) -> anyhow::Result<f64> {
    let host = PureHost(Utc::now());
    let options = ExecutionOptions::default();
    let inputs = items(n);
    let start = Instant::now();
    let mut ok = 0usize;
    for input in inputs {
        if let Some(o) = execute_pure(machine, input, &options, &host)
            && o.status == Status::Succeeded
        {
            ok += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(ok == n, "only {ok} of {n} executions succeeded");
    Ok(n as f64 / secs)
}

/// The JSONata 5-state child, or why the engine refuses it (expected until the engine runs
/// JSONata). A child the engine accepts must do the JSONPath child's work: its output for a
/// sample item must equal the JSONPath child's, or the comparison means nothing.
pub fn jsonata_child(jsonpath: &StateMachine) -> anyhow::Result<Result<StateMachine, Refused>> {
    let jsonata = match compile(&five_state_jsonata()) {
        Ok(m) => m,
        Err(why) => {
            eprintln!("warning: the JSONata 5-state child is not measured: {why}");
            return Ok(Err(why));
        }
    };
    let host = PureHost(Utc::now());
    let options = ExecutionOptions::default();
    let item = json!({"id": 7, "v": 7, "name": "item-7"});
    let run = |m: &StateMachine| execute_pure(m, item.clone(), &options, &host).and_then(|o| o.output);
    let (want, got) = (run(jsonpath), run(&jsonata));
    anyhow::ensure!(
        want.is_some() && want == got,
        "the JSONata 5-state child does not do the JSONPath child's work: for {item} it returned {got:?}, the JSONPath child {want:?}"
    );
    Ok(Ok(jsonata))
}

/// The JSONata child's measurement: its runs, or why it has none.
pub fn jsonata_measurement(items: usize, samples: Result<Vec<f64>, Refused>) -> Measurement {
    let (samples, unsupported) = match samples {
        Ok(s) => (s, None),
        Err(why) => (Vec::new(), Some(why)),
    };
    Measurement {
        scenario: "engine-5-state".into(),
        title: title("5-state"),
        system: JSONATA.into(),
        detail: format!(
            "{items} executions of the 5-state child written in JSONata (QueryLanguage JSONata: Output, Condition, $merge) \
             in-process (shared::asl::eval::execute_pure), alternating run by run with the JSONPath child"
        ),
        unit: "executions/s".into(),
        higher_is_better: true,
        samples,
        params: BTreeMap::new(),
        unsupported,
    }
}

/// The note of the JSONata ÷ JSONPath ratio.
pub fn jsonata_note() -> String {
    format!(
        "JSONata child ÷ JSONPath child, pair by pair, same invocation; issue 12's target: the JSONata child ≥ {} executions/s per core",
        crate::report::number(JSONATA_TARGET)
    )
}

pub fn title(child: &str) -> String {
    format!("Engine alone, {child} child (executions/s, one core)")
}

fn dmap_measurement(scenario: &str, child: &str, items: usize, samples: Vec<f64>) -> Measurement {
    Measurement {
        scenario: scenario.into(),
        title: title(child),
        system: DMAP.into(),
        detail: format!("{items} executions of the {child} child in-process (shared::asl::eval::execute_pure)"),
        unit: "executions/s".into(),
        higher_is_better: true,
        samples,
        params: BTreeMap::new(),
        unsupported: None,
    }
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(a.runs >= 1, "--runs must be at least 1");
    let want = |s: &str| a.only.is_empty() || a.only.iter().any(|o| o == s);
    let mut report = Report::new(&format!("bench {}", std::env::args().skip(1).collect::<Vec<_>>().join(" ")));
    if want("children") {
        children(a, &mut report)?;
    }
    if want("inline-map") {
        inline_map::add(&mut report, a.runs)?;
    }
    println!("{}", report.markdown());
    if let Some(out) = &a.out {
        for p in report.write_named(out, "engine")? {
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(())
}

/// The three children: the 1-state one alone, then the two 5-state ones run by run.
fn children(a: &Args, report: &mut Report) -> anyhow::Result<()> {
    let invalid = |e: Refused| anyhow::anyhow!("invalid benchmark definition: {e}");
    let one = compile(&one_state()).map_err(invalid)?;
    let five = compile(&five_state()).map_err(invalid)?;
    let jsonata = jsonata_child(&five)?;
    // One untimed warm-up run on a tenth of the items for each child.
    let warm = (a.items / 10).max(1);
    measure_machine(&one, warm)?;
    let ones = (0..a.runs).map(|_| measure_machine(&one, a.items)).collect::<anyhow::Result<Vec<_>>>()?;
    measure_machine(&five, warm)?;
    if let Ok(m) = &jsonata {
        measure_machine(m, warm)?;
    }
    // The two 5-state children alternate run by run, so that their ratio is taken pair by pair.
    let (mut path, mut ata) = (Vec::new(), jsonata.as_ref().map(|_| Vec::new()).map_err(Clone::clone));
    for _ in 0..a.runs {
        path.push(measure_machine(&five, a.items)?);
        if let (Ok(m), Ok(samples)) = (&jsonata, &mut ata) {
            samples.push(measure_machine(m, a.items)?);
        }
    }
    report.add(dmap_measurement("engine-1-state", "1-state", a.items, ones));
    report.add(dmap_measurement("engine-5-state", "5-state", a.items, path));
    report.add(jsonata_measurement(a.items, ata));
    report.ratio("engine-5-state", JSONATA, DMAP, &jsonata_note());
    Ok(())
}
