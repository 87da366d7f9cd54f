//! SIGTERM or SIGINT to `dmap run` ends it without leaving function processes behind (the
//! probe's M3): a hung pool process, a per-invocation `sh`, and the `sleep`s each started, all
//! identified by the PIDs they write down, are gone once `dmap` has exited.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

/// Waits for `file` to hold a PID (the script writes it once its child runs).
fn pid_in(file: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && text.ends_with('\n')
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "{} holds no PID after 30 s", file.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether `pid` is a running process (not gone, not a zombie waiting for its reaper).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

fn assert_killed(pid: u32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(pid) {
        assert!(Instant::now() < deadline, "{what} (PID {pid}) is still running after dmap exited");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A `dmap` that a failed assertion does not leave running.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a Parallel of a hung pool function and a hung per-invocation function, sends
/// `signal` once all four processes run, and checks what is left.
fn signal_leaves_nothing_behind(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let pool = "sleep 100000 & echo $! > pool-child.pid; echo $$ > pool.pid; wait";
    let once = "cat >/dev/null; sleep 100000 & echo $! > once-child.pid; echo $$ > once.pid; wait";
    let functions = format!(
        "[functions.pool]\ncommand = [\"sh\", \"-c\", {pool:?}]\n\n\
         [functions.once]\ncommand = [\"sh\", \"-c\", {once:?}]\nper_invocation = true\n"
    );
    std::fs::write(dir.path().join("functions.toml"), functions).unwrap();
    let task = |name: &str| {
        json!({"StartAt": name, "States": {name: {"Type": "Task",
            "Resource": format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"), "End": true}}})
    };
    let definition = json!({"StartAt": "Both", "States": {"Both": {"Type": "Parallel",
        "Branches": [task("pool"), task("once")], "End": true}}});
    std::fs::write(dir.path().join("hang.json"), definition.to_string()).unwrap();
    let mut dmap = Killed(
        Command::new(env!("CARGO_BIN_EXE_dmap"))
            .current_dir(dir.path())
            .args(["run", "hang.json", "--quiet", "--functions", "functions.toml"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dmap starts"),
    );
    let pids: Vec<(u32, &str)> = [
        ("pool.pid", "the pool process"),
        ("pool-child.pid", "the pool process's sleep"),
        ("once.pid", "the per-invocation sh"),
        ("once-child.pid", "the per-invocation sleep"),
    ]
    .into_iter()
    .map(|(file, what)| (pid_in(&dir.path().join(file)), what))
    .collect();
    testkit::signal(dmap.0.id(), signal);
    let status = dmap.0.wait().expect("dmap exits");
    assert_eq!(status.code(), Some(code), "dmap after SIG{signal}: {status}");
    for (pid, what) in pids {
        assert_killed(pid, what);
    }
}

#[test]
fn sigterm_to_dmap_run_kills_every_function_process() {
    signal_leaves_nothing_behind("TERM", 128 + 15);
}

#[test]
fn sigint_to_dmap_run_kills_every_function_process() {
    signal_leaves_nothing_behind("INT", 128 + 2);
}
