//! SIGTERM and SIGINT end `dmap run --functions FILE` and `dmap test` at once, as the signals'
//! default action did, but first kill every function process group. Function processes lead process groups
//! of their own (`worker::integrations::lambda`), so a terminal's Ctrl-C does not reach them,
//! and no destructor runs when a process ends on a signal: without this, a hung pool process
//! or a per-invocation script and its children would outlive `dmap`.
//!
//! The exit code is 128 + the signal's number, what a shell reports for a process the signal
//! killed. Nothing else is cleaned up: a Map Run over NATS is continued with `--resume`.

use tokio::signal::unix::{SignalKind, signal};

/// Starts listening for SIGTERM and SIGINT on a thread of its own (the listeners are
/// registered before this returns, so no signal gets the default action afterwards).
pub fn install() -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let (mut term, mut int) = {
        let _entered = rt.enter();
        (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?)
    };
    std::thread::Builder::new().name("dmap-signals".into()).spawn(move || {
        let code = rt.block_on(async {
            tokio::select! {
                _ = term.recv() => 128 + 15,
                _ = int.recv() => 128 + 2,
            }
        });
        worker::integrations::lambda::kill_all_processes();
        std::process::exit(code);
    })?;
    Ok(())
}
