//! SIGTERM or SIGINT to `dmap run` ends it without leaving function processes behind (the
//! probe's M3): a hung pool process, a per-invocation `sh`, and the `sleep`s each started, all
//! identified by the PIDs they write down, are gone once `dmap` has exited. The same for a
//! `dmap-worker` that drains on SIGTERM while a child's function hangs.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::nats::Cluster;

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
        assert!(
            Instant::now() < deadline,
            "{what} (PID {pid}) is still running after the process that started it exited"
        );
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

#[test]
fn a_draining_dmap_worker_kills_the_function_processes_it_leaves() {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut c = Cluster::new(&[]);
    let once = "cat >/dev/null; sleep 100000 & echo $! > once-child.pid; echo $$ > once.pid; wait";
    let functions = format!(
        "[functions.hang]\ncommand = [\"sh\", \"-c\", {once:?}]\nper_invocation = true\nworking_dir = {:?}\n",
        c.dir.path().display().to_string()
    );
    let file = c.path("functions.toml");
    std::fs::write(&file, functions).unwrap();
    c = c.with_worker_args(&["--functions", file.to_str().expect("utf-8"), "--drain-seconds", "1"]);
    let worker = c.start_worker();
    c.wait_workers_ready(deadline);
    let definition = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "T", "States": {"T": {"Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:hang", "End": true}}},
        "End": true}}});
    let path = c.path("hang.asl.json");
    std::fs::write(&path, definition.to_string()).unwrap();
    let _run = c.dmap_run(&path, "hang", &json!({"xs": [1]})).spawn("dmap");
    let pids = [
        (pid_in(&c.path("once.pid")), "the per-invocation sh"),
        (pid_in(&c.path("once-child.pid")), "the per-invocation sleep"),
    ];
    c.workers[worker].proc.signal("TERM");
    let status = c.workers[worker].proc.wait_exit(deadline);
    assert!(status.success(), "dmap-worker after SIGTERM: {status}\n{}", c.diagnostic(&[]));
    for (pid, what) in pids {
        assert_killed(pid, what);
    }
}
