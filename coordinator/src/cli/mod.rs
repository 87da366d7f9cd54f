//! The `dmap` command line: one subcommand per file behind a closed enum.

mod input;
mod output;
mod run;
mod serve;
mod signals;
mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Run AWS Step Functions state machines (Distributed Map included) locally.
#[derive(Debug, Parser)]
#[command(name = "dmap", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a definition and print every problem found (exit 0 when valid, 1 when not).
    Validate(validate::Args),
    /// Run one execution and print its output (exit 0) or its error (exit 1); Map Runs run
    /// in-process, or on `dmap-worker` processes with `--nats URL`.
    Run(Box<run::Args>),
    /// Serve the Step Functions API (AWS JSON 1.0) for SDKs and the AWS CLI, with durable
    /// executions.
    Serve(Box<serve::Args>),
    /// Run golden test cases (files or directories of case files).
    Test {
        /// Case files or directories holding them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print per-case results as JSON.
        #[arg(long)]
        json: bool,
        /// A list of cases expected to fail (`name  # reason` per line): the run fails only
        /// when an unlisted case fails or a listed case passes.
        #[arg(long, value_name = "FILE")]
        known_failures: Option<PathBuf>,
    },
}

/// Parses the arguments, runs the subcommand and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    // Only commands that may start function processes listen: a run without a functions file
    // keeps the signals' default action and pays nothing at start-up.
    let starts_processes = match &cli.command {
        Command::Run(a) => a.has_functions(),
        Command::Test { .. } => true,
        // The server stops on SIGTERM/SIGINT itself, after finishing what is in flight.
        Command::Validate(_) | Command::Serve(_) => false,
    };
    if starts_processes && let Err(e) = signals::install() {
        eprintln!("dmap: cannot listen for signals: {e}");
        return 2;
    }
    let code = match cli.command {
        Command::Validate(a) => validate::run(&a),
        Command::Run(a) => run::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Test { paths, json, known_failures } => {
            let known_failures =
                match known_failures.map(|p| crate::test_cmd::known::KnownFailures::load(&p)).transpose() {
                    Ok(k) => k,
                    Err(e) => {
                        eprintln!("dmap: {e}");
                        return 2;
                    }
                };
            let opts = crate::test_cmd::TestOptions { json, known_failures };
            crate::test_cmd::run(&paths, &opts, &mut std::io::stdout().lock())
        }
    };
    // Function processes are killed when their integrations are dropped; this also covers
    // any still held by something not dropped before `std::process::exit`.
    worker::integrations::lambda::kill_all_processes();
    code
}
