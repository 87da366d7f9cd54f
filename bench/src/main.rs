//! dmap benchmarks. `cargo run -p bench --release -- <scenario>`; every scenario reports the
//! median of several runs with min and max, and the machine it ran on.

/// The same allocator as the `dmap` binary, so the engine is measured as it runs there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cpu;
mod fake_dynamodb;
mod machine;
mod peers;
mod plot;
mod report;
mod scenarios;
mod tools;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "bench", about = "dmap benchmarks")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// The engine alone: 1-state, 5-state and JSONata 5-state child executions per second per
    /// core, and the per-item time of an inline Map reading `$$` as its item count grows.
    Engine(scenarios::engine::Args),
    /// The embedded Map Run over JSONL items, with the JSONPath and the JSONata child: items/s
    /// and the coordinator's peak memory.
    Maprun(scenarios::maprun::Args),
    /// Every scenario, dmap against its peers, with results as JSON, Markdown and PNG plots.
    All(scenarios::all::Args),
    /// Start-up: `dmap run` to the output of a one-state machine.
    Startup(scenarios::all::StartupArgs),
    /// Map Runs over NATS JetStream with dmap-worker processes against the embedded default.
    Distributed(scenarios::distributed::Args),
    /// Map Runs calling a Python function: batched and unbatched, against an xargs baseline.
    Functions(scenarios::functions::Args),
    /// Every peer measurement once at a small N: the check after changing a pinned peer version.
    PeersSmoke(peers::smoke::Args),
    /// A Distributed Map whose children each make one DynamoDB PutItem, against boto3 from 64
    /// threads: calls/s, and CPU per call of each client and of the endpoint.
    Integrations(scenarios::integrations::Args),
    /// `dmap serve` driven through its API from a closed-loop load generator: Standard
    /// executions started and completed per second with durable history, and Express
    /// StartSyncExecution calls per second, against AWS's quotas and the bare engine.
    Serve(scenarios::serve::Args),
    /// The minimal DynamoDB endpoint `integrations` measures against (PutItem, DescribeTable).
    #[command(hide = true)]
    FakeDynamodb(fake_dynamodb::server::Args),
}

fn main() {
    // A failure is one line with its causes (`{:#}`), never a backtrace: the usual failures
    // are a missing tool or binary, and the message says what to do.
    if let Err(e) = run(Cli::parse()) {
        eprintln!("bench: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.scenario {
        Scenario::Engine(a) => scenarios::engine::run(&a),
        Scenario::Maprun(a) => scenarios::maprun::run(&a),
        Scenario::Functions(a) => scenarios::functions::run(&a),
        Scenario::Distributed(a) => scenarios::distributed::run(&a),
        Scenario::All(a) => scenarios::all::run(&a),
        Scenario::Startup(a) => scenarios::all::startup(&a),
        Scenario::PeersSmoke(a) => peers::smoke::run(&a),
        Scenario::Integrations(a) => scenarios::integrations::run(&a),
        Scenario::Serve(a) => scenarios::serve::run(&a),
        Scenario::FakeDynamodb(a) => fake_dynamodb::server::run(&a),
    }
}
