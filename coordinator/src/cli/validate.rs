//! `dmap validate FILE [--json]`.

use std::path::PathBuf;

use serde_json::json;
use shared::asl::diagnostic::Severity;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The state machine definition (ASL JSON).
    file: PathBuf,
    /// Print AWS ValidateStateMachineDefinition's JSON shape.
    #[arg(long)]
    json: bool,
}

pub fn run(a: &Args) -> i32 {
    let text = match std::fs::read_to_string(&a.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("dmap: cannot read {}: {e}", a.file.display());
            return 2;
        }
    };
    let diagnostics = match shared::asl::parse_definition(&text) {
        Ok((_, warnings)) => warnings,
        Err(d) => d,
    };
    let ok = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    if a.json {
        let doc = json!({
            "result": if ok { "OK" } else { "FAIL" },
            "diagnostics": diagnostics,
            "truncated": false,
        });
        super::output::json(&doc);
    } else {
        for d in &diagnostics {
            super::output::line(format_args!("{}: {d}", a.file.display()));
        }
        if ok {
            super::output::line(format_args!("{}: valid", a.file.display()));
        } else {
            let n = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
            super::output::line(format_args!("{}: {n} error{}", a.file.display(), if n == 1 { "" } else { "s" }));
        }
    }
    if ok { 0 } else { 1 }
}
