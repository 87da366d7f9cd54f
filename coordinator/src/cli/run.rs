//! `dmap run FILE [--input FILE | --input-json JSON]`: one execution in-process; Distributed
//! Map states become Map Runs on the in-process worker pool, or, with `--nats URL`, on
//! `dmap-worker` processes through NATS JetStream (`--resume ID` continues an interrupted one).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use shared::asl::eval::{ExecutionOptions, Host, Outcome, Status, execute};

use crate::callbacks::{CallbackHost, Callbacks};
use crate::host::{EmbeddedHost, LocalHost};
use crate::map_run::nats::NatsTransport;
use crate::map_run::run::RunOptions;
use crate::map_run::status::Progress;
use crate::ops::Ops;
use crate::storage::Storage;
use crate::support;
use worker::integrations::Integrations;
use worker::mock::{MockHost, TestCase};
use worker::nats::topology::Settings;

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
    /// Where a bucket named in the definition lives: a local directory, `s3://bucket`, or an
    /// S3-compatible endpoint `http(s)://host:port` (repeatable). Unmapped buckets are real S3.
    #[arg(long = "bucket", value_name = "NAME=PATH_OR_URL")]
    buckets: Vec<String>,
    /// A TOML file with a `[buckets]` table (`name = "path or url"`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Keep a DescribeMapRun-shaped JSON document of the running Map Run in FILE.
    #[arg(long, value_name = "FILE")]
    map_run_status: Option<PathBuf>,
    /// A Map Run that reads no item and finishes no child for this long is reported as stalled
    /// (status document, log, /metrics, /healthz); it keeps waiting. 0: never.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    stall_seconds: u64,
    /// No progress bars or progress log lines.
    #[arg(long)]
    quiet: bool,
    /// Lift AWS's 256 KiB limits on state outputs and child inputs.
    #[arg(long)]
    no_payload_limits: bool,
    /// A functions file (TOML) mapping Lambda function names to local implementations, and
    /// HTTP Task connections.
    #[arg(long, value_name = "FILE")]
    functions: Option<PathBuf>,
    /// A mock configuration file of AWS Step Functions Local (`MockConfigFile.json`): the Task
    /// states of the test case `--mock-test-case` names return its mocked responses and never
    /// call out.
    #[arg(long, value_name = "FILE", requires = "mock_test_case")]
    mock_config: Option<PathBuf>,
    /// The test case of `--mock-config` to run: `TestCase`, or `StateMachine#TestCase` (a bare
    /// name is looked up in the state machine named like the definition file, else in the only
    /// state machine that has it).
    #[arg(long, value_name = "NAME", requires = "mock_config")]
    mock_test_case: Option<String>,
    /// ResultWriter file size before rolling over to the next file (AWS: 5 GB).
    #[arg(long, value_name = "BYTES", default_value_t = 5 << 30)]
    result_file_bytes: u64,
    /// The Map Run id to use, and to continue if a Map Run with this id was interrupted (with
    /// --nats). Later Map Runs of the execution get `ID-2`, `ID-3`, …
    #[arg(long, value_name = "MAP_RUN_ID")]
    resume: Option<String>,
    #[command(flatten)]
    nats: worker::nats::connect::NatsArgs,
    /// Stream replicas when dmap creates its streams (3 on a three-node NATS cluster).
    #[arg(long, default_value_t = 1, env = "DMAP_NATS_REPLICAS", value_name = "N")]
    nats_replicas: usize,
    /// Serve /healthz and /metrics on this address (e.g. 127.0.0.1:9090; 0.0.0.0:9090 in a pod),
    /// and the callbacks of `.waitForTaskToken` Tasks (SendTaskSuccess, SendTaskFailure,
    /// SendTaskHeartbeat as the Step Functions API takes them): on a loopback address without
    /// authentication, elsewhere SigV4-signed with the `[[serve.access_keys]]` of --config.
    #[arg(long, env = "DMAP_LISTEN", value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    #[command(flatten)]
    log: worker::ops::logging::LogArgs,
}

impl Args {
    /// Whether the run may start function processes (`--functions`).
    pub fn has_functions(&self) -> bool {
        self.functions.is_some()
    }
}

pub fn run(a: &Args) -> i32 {
    if let Err(e) = a.log.init() {
        eprintln!("dmap: {e}");
        return 2;
    }
    if let Some(id) = &a.resume
        && !shared::protocol::nats::valid_map_run_id(id)
    {
        eprintln!("dmap: --resume {id}: a Map Run id is 1 to 80 letters, digits, '-' or '_'");
        return 2;
    }
    if a.mock_config.is_some() && a.nats.nats.is_some() {
        eprintln!(
            "dmap: --mock-config cannot be used with --nats: mocks are for runs on this machine (dmap-worker \
             processes do not read the file); run without --nats"
        );
        return 2;
    }
    let policy = callback_policy(a);
    match prepare(a, policy.is_some()) {
        Ok((machine, input, options, integrations, mocks)) => {
            execute_and_print(a, &machine, input, &options, integrations, mocks, policy)
        }
        Err(message) => {
            eprintln!("{message}");
            2
        }
    }
}

type Prepared = (shared::asl::StateMachine, Value, ExecutionOptions, Arc<Integrations>, Option<TestCase>);

/// Who may send callbacks to `--listen`: `dmap serve`'s rules (loopback, or SigV4 with the
/// keys of --config). `None`: no callbacks on this run (no --listen, or an address that would
/// need keys and there are none; the run then refuses `.waitForTaskToken` Tasks).
fn callback_policy(a: &Args) -> Option<crate::serve::auth::Policy> {
    let addr = a.listen?;
    let keys = match a.config.as_deref().map(crate::serve::auth::AccessKeys::from_config) {
        Some(Ok(keys)) => keys,
        Some(Err(e)) => {
            tracing::warn!(error = %e, "no callbacks on --listen: the access keys could not be read");
            return None;
        }
        None => None,
    };
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    match crate::serve::auth::Policy::decide(addr, keys, false, &region) {
        Ok(policy) => Some(policy),
        Err(e) => {
            tracing::info!(%addr, reason = %e, "no callbacks on --listen");
            None
        }
    }
}

fn prepare(a: &Args, callbacks: bool) -> Result<Prepared, String> {
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
    let limit = if a.no_payload_limits { None } else { Some(shared::asl::eval::MAX_PAYLOAD_BYTES) };
    let integrations = Arc::new(match &a.functions {
        Some(path) => Integrations::load(path, limit).map_err(|e| format!("dmap: {e}"))?,
        None => Integrations::none(limit),
    });
    // `orders.asl.json` → `orders`: the state machine's name in ARNs (and in the mock file).
    let file = a.file.file_name().and_then(|s| s.to_str()).unwrap_or("StateMachine");
    let name = file.trim_end_matches(".json").trim_end_matches(".asl").to_string();
    let mocks = match (&a.mock_config, &a.mock_test_case) {
        (Some(path), Some(case)) => {
            Some(worker::mock::load(path, case, Some(&name), &machine).map_err(|e| format!("dmap: {e}"))?)
        }
        _ => None,
    };
    let mocked = |state: &str| mocks.as_ref().is_some_and(|m| m.states.contains_key(state));
    let unsupported = support::unsupported_except(&machine, &integrations, a.nats.nats.is_some(), callbacks, &mocked);
    if !unsupported.is_empty() {
        let lines: Vec<String> = unsupported.iter().map(|d| format!("{}: {d}", a.file.display())).collect();
        return Err(lines.join("\n"));
    }
    let max_input = limit.unwrap_or(shared::asl::bound::HARD_MAX_BYTES);
    let input = super::input::read(a.input.as_deref(), a.input_json.as_deref(), max_input, limit.is_none())?;
    let mut options =
        ExecutionOptions { execution_name: a.name.clone(), state_machine_name: name, ..Default::default() };
    if a.no_payload_limits {
        options.max_payload_bytes = None;
    }
    Ok((machine, input, options, integrations, mocks))
}

fn storage(a: &Args) -> Result<Storage, String> {
    let storage = match &a.config {
        Some(path) => Storage::from_config(path).map_err(|e| format!("dmap: {e}"))?,
        None => Storage::default(),
    };
    let flags = Storage::from_specs(&a.buckets).map_err(|e| format!("dmap: {e}"))?;
    Ok(storage.merge(flags))
}

fn execute_and_print(
    a: &Args,
    machine: &shared::asl::StateMachine,
    input: Value,
    options: &ExecutionOptions,
    integrations: Arc<Integrations>,
    mocks: Option<TestCase>,
    policy: Option<crate::serve::auth::Policy>,
) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dmap: cannot start the async runtime: {e}");
            return 2;
        }
    };
    // With callbacks, tokens come from a key of this process and SendTask* reach the run
    // through --listen.
    let callbacks = policy.map(|p| (Callbacks::ephemeral(), p));
    let base = CallbackHost::new(
        LocalHost::new(integrations),
        callbacks.as_ref().map_or_else(Callbacks::ephemeral, |c| c.0.clone()),
    );
    let ran = rt.block_on(async {
        match (mocks, callbacks.is_some()) {
            (Some(case), true) => {
                serve_and_execute(a, machine, input, options, MockHost::new(base, Arc::new(case)), callbacks).await
            }
            (Some(case), false) => {
                serve_and_execute(a, machine, input, options, MockHost::new(base.base, Arc::new(case)), None).await
            }
            (None, true) => serve_and_execute(a, machine, input, options, base, callbacks).await,
            (None, false) => serve_and_execute(a, machine, input, options, base.base, None).await,
        }
    });
    match ran {
        Ok(outcome) => print_outcome(outcome),
        Err(e) => {
            eprintln!("{e}");
            2
        }
    }
}

/// Starts what the run needs around `base` (buckets, Map Runs in-process or over NATS, the
/// /metrics server) and runs the execution.
async fn serve_and_execute<H: Host + 'static>(
    a: &Args,
    machine: &shared::asl::StateMachine,
    input: Value,
    options: &ExecutionOptions,
    base: H,
    callbacks: Option<(Arc<Callbacks>, crate::serve::auth::Policy)>,
) -> Result<Outcome, String> {
    let storage = Arc::new(storage(a)?);
    let run_options = RunOptions {
        rollover_bytes: a.result_file_bytes,
        max_payload_bytes: options.max_payload_bytes,
        map_run_id: a.resume.clone(),
    };
    let stall = (a.stall_seconds > 0).then(|| std::time::Duration::from_secs(a.stall_seconds));
    let progress = Arc::new(Progress::new(a.map_run_status.clone(), a.quiet).with_stall(stall));
    let (host, ops) = match &a.nats.nats {
        None => (EmbeddedHost::new(base, storage, run_options, progress.clone()), None),
        Some(_) => {
            let settings = Settings { nats_replicas: a.nats_replicas, ..Settings::default() };
            let transport =
                Arc::new(NatsTransport::connect(&a.nats, &settings).await.map_err(|e| format!("dmap: {e}"))?);
            let ops = Arc::new(Ops::new(progress.clone(), Some(transport.clone())));
            (EmbeddedHost::with_transport(base, storage, run_options, progress.clone(), transport), Some(ops))
        }
    };
    let _server = match a.listen {
        Some(addr) => {
            let source = ops.unwrap_or_else(|| Arc::new(Ops::new(progress.clone(), None)));
            let post = callbacks.map(|(callbacks, policy)| {
                Arc::new(CallbackListener { callbacks, policy }) as Arc<dyn worker::ops::http::PostHandler>
            });
            let (bound, handle) = worker::ops::http::serve_with_post(addr, source, post)
                .await
                .map_err(|e| format!("dmap: cannot listen on {addr}: {e}"))?;
            tracing::info!(address = %bound, "serving /healthz and /metrics");
            Some(handle)
        }
        None => None,
    };
    Ok(execute(machine, input, options, &*host).await)
}

/// `POST /` of `--listen`: the callback actions.
struct CallbackListener {
    callbacks: Arc<Callbacks>,
    policy: crate::serve::auth::Policy,
}

impl worker::ops::http::PostHandler for CallbackListener {
    fn post(
        &self,
        request: hyper::Request<hyper::body::Incoming>,
    ) -> futures::future::BoxFuture<'_, hyper::Response<http_body_util::Full<bytes::Bytes>>> {
        let auth: Option<&dyn crate::serve::http::Authenticator> = match self.policy.verifies() {
            true => Some(&self.policy),
            false => None,
        };
        Box::pin(crate::serve::http::callbacks_request(&self.callbacks, auth, request))
    }
}

fn print_outcome(outcome: Outcome) -> i32 {
    match outcome.status {
        Status::Succeeded => {
            super::output::json(&outcome.output.unwrap_or(Value::Null));
            0
        }
        Status::Failed | Status::TimedOut => {
            let out = outcome.failure.map(|f| f.to_error_output()).unwrap_or_else(|| json!({}));
            super::output::json(&out);
            if outcome.status == Status::TimedOut {
                eprintln!("dmap: the execution timed out");
            }
            1
        }
    }
}
