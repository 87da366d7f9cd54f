//! `dmap run FILE [--input FILE | --input-json JSON]`: one execution in-process.

use std::path::PathBuf;

use serde_json::{Value, json};
use shared::asl::eval::{ExecutionOptions, Status, execute};

use crate::host::LocalHost;
use crate::support;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The state machine definition (ASL JSON).
    file: PathBuf,
    /// A file holding the execution input (JSON).
    #[arg(long, conflicts_with = "input_json")]
    input: Option<PathBuf>,
    /// The execution input as JSON text.
    #[arg(long)]
    input_json: Option<String>,
    /// The execution's name (as in `$$.Execution.Name`).
    #[arg(long, default_value = "local")]
    name: String,
}

pub fn run(a: &Args) -> i32 {
    match prepare(a) {
        Ok((machine, input, options)) => execute_and_print(&machine, input, &options),
        Err(message) => {
            eprintln!("{message}");
            2
        }
    }
}

fn prepare(a: &Args) -> Result<(shared::asl::StateMachine, Value, ExecutionOptions), String> {
    let text = std::fs::read_to_string(&a.file).map_err(|e| format!("dmap: cannot read {}: {e}", a.file.display()))?;
    let machine = match shared::asl::parse_definition(&text) {
        Ok((m, warnings)) => {
            for w in warnings {
                eprintln!("{}: {w}", a.file.display());
            }
            m
        }
        Err(diags) => {
            let lines: Vec<String> = diags.iter().map(|d| format!("{}: {d}", a.file.display())).collect();
            return Err(lines.join("\n"));
        }
    };
    let unsupported = support::unsupported(&machine, &LocalHost::resources());
    if !unsupported.is_empty() {
        let lines: Vec<String> = unsupported.iter().map(|d| format!("{}: {d}", a.file.display())).collect();
        return Err(lines.join("\n"));
    }
    let input = match (&a.input, &a.input_json) {
        (Some(f), _) => {
            let t = std::fs::read_to_string(f).map_err(|e| format!("dmap: cannot read {}: {e}", f.display()))?;
            serde_json::from_str(&t).map_err(|e| format!("dmap: {} is not valid JSON: {e}", f.display()))?
        }
        (None, Some(j)) => serde_json::from_str(j).map_err(|e| format!("dmap: --input-json is not valid JSON: {e}"))?,
        (None, None) => json!({}),
    };
    let name = a.file.file_stem().and_then(|s| s.to_str()).unwrap_or("StateMachine").to_string();
    let options = ExecutionOptions { execution_name: a.name.clone(), state_machine_name: name, ..Default::default() };
    Ok((machine, input, options))
}

fn execute_and_print(machine: &shared::asl::StateMachine, input: Value, options: &ExecutionOptions) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dmap: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let host = LocalHost;
    let outcome = rt.block_on(execute(machine, input, options, &host));
    match outcome.status {
        Status::Succeeded => {
            println!("{}", serde_json::to_string_pretty(&outcome.output.unwrap_or(Value::Null)).unwrap_or_default());
            0
        }
        Status::Failed | Status::TimedOut => {
            let out = outcome.failure.map(|f| f.to_error_output()).unwrap_or_else(|| json!({}));
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            if outcome.status == Status::TimedOut {
                eprintln!("dmap: the execution timed out");
            }
            1
        }
    }
}
