//! Process groups of function processes. Every function process starts in a group of its own,
//! and everything it starts stays in that group unless it leaves on purpose (`setsid`), so
//! killing the group stops the process and its children together: a timed-out script's
//! `sleep`, a pool process's helpers, a per-invocation script's background job.
//!
//! A [`Group`] is killed when it is dropped (a call that timed out, a pool process replaced or
//! shut down), and every live group is listed in one registry, so that `dmap` and `dmap-worker`
//! can kill them all before they exit on a signal ([`kill_all`]), when no destructor runs.
//! This module only sends signals; it does not start or wait for processes.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex, MutexGuard};

use rustix::process::{Pid, Signal, kill_process_group};

/// The groups of function processes alive now.
struct Live {
    groups: HashSet<Pid>,
    /// Set by [`kill_all`]: the process is exiting, so a group registered later (a process
    /// started concurrently) is killed at once instead.
    closed: bool,
}

static LIVE: LazyLock<Mutex<Live>> = LazyLock::new(|| Mutex::new(Live { groups: HashSet::new(), closed: false }));

fn live() -> MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process group led by one function process (started with `process_group(0)`, so the
/// group's id is the process's id).
#[derive(Debug)]
pub struct Group {
    id: Option<Pid>,
}

impl Group {
    /// Registers the group of the process `pid` (`None`: it has already been reaped, there is
    /// nothing to kill).
    pub fn of(pid: Option<u32>) -> Group {
        let id = pid.and_then(|p| i32::try_from(p).ok()).and_then(Pid::from_raw);
        if let Some(id) = id {
            let mut live = live();
            if live.closed {
                signal(id);
            } else {
                live.groups.insert(id);
            }
        }
        Group { id }
    }

    /// Kills every process of the group (SIGKILL: a function that ignores SIGTERM must still
    /// stop). Idempotent.
    ///
    /// Call it before the group's leader is reaped, or while other members may still live: a
    /// group id stays reserved while any process is in the group, so the signal cannot reach
    /// an unrelated process then.
    pub fn kill(&mut self) {
        if let Some(id) = self.id.take() {
            live().groups.remove(&id);
            signal(id);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Kills every live group of function processes, and any started from now on. For a process
/// about to exit without running destructors (a signal, `std::process::exit`).
pub fn kill_all() {
    let mut live = live();
    live.closed = true;
    for id in live.groups.drain() {
        signal(id);
    }
}

fn signal(id: Pid) {
    // ESRCH (every member has exited already) is the usual, harmless outcome.
    let _ = kill_process_group(id, Signal::KILL);
}
