//! What a function process leaves behind: nothing. A call that times out, a pool process that
//! dies, and a per-invocation script that exits with a background job still running all end
//! with the function's whole process group killed (the probe's M3 and M4). Each script writes
//! the PID of the child it starts to a file; the test then checks that PID.

mod lambda_support;

use std::path::Path;
use std::time::{Duration, Instant};

use lambda_support::*;
use serde_json::json;

/// Waits for `file` to hold a PID (the script writes it once its child runs).
fn pid_in(file: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && text.ends_with('\n')
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "{} holds no PID after 20 s", file.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether `pid` is a running process (not gone, not a zombie waiting for its reaper).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Asserts that `pid` stops running soon: SIGKILL is delivered at once, the exit takes a moment.
pub fn assert_killed(pid: u32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(pid) {
        assert!(Instant::now() < deadline, "{what} (PID {pid}) is still running");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn once(name: &str, script: &str, extra: &str) -> String {
    format!("[functions.{name}]\ncommand = [\"sh\", \"-c\", {script:?}]\nper_invocation = true\n{extra}\n")
}

#[tokio::test]
async fn a_timed_out_per_invocation_function_leaves_no_child_running() {
    // The probe's hang.sh (`cat >/dev/null; sleep 100000`), with the sleep's PID written down.
    let (dir, lambda) =
        lambda(&once("hang", "cat >/dev/null; sleep 100000 & echo $! > sleep.pid; wait", "timeout_seconds = 1"));
    let (error, _) = error_of(call(&lambda, "hang", json!({})).await);
    assert_eq!(error, "Sandbox.Timedout");
    assert_killed(pid_in(&dir.path().join("sleep.pid")), "the timed-out function's sleep");
}

#[tokio::test]
async fn a_timed_out_pool_process_leaves_no_child_running() {
    let script = "sleep 100000 & echo $! > helper.pid; wait";
    let text = format!("[functions.stuck]\ncommand = [\"sh\", \"-c\", {script:?}]\ntimeout_seconds = 1\n");
    let (dir, lambda) = lambda(&text);
    let (error, _) = error_of(call(&lambda, "stuck", json!({})).await);
    assert_eq!(error, "Sandbox.Timedout");
    assert_killed(pid_in(&dir.path().join("helper.pid")), "the timed-out pool process's child");
}

#[tokio::test]
async fn a_pool_process_that_dies_takes_its_children_along() {
    // The process reads the request, then exits without an answer; its helper would live on.
    let script = "sleep 100000 & echo $! > helper.pid; read request; exit 3";
    let text = format!("[functions.dies]\ncommand = [\"sh\", \"-c\", {script:?}]\ntimeout_seconds = 30\n");
    let (dir, lambda) = lambda(&text);
    let (error, _) = error_of(call(&lambda, "dies", json!({})).await);
    assert_eq!(error, "Runtime.ExitError");
    assert_killed(pid_in(&dir.path().join("helper.pid")), "the dead pool process's child");
}

#[tokio::test]
async fn a_result_counts_when_the_process_exits_even_if_a_background_job_holds_stdout() {
    // The probe's orphan.sh: the script exits 0 with its result, and the background sleep
    // keeps stdout open. The call must not wait for it (it used to end in Sandbox.Timedout).
    let script = "cat >/dev/null; sleep 777 & echo $! > orphan.pid; echo '{\"ok\":1}'";
    let (dir, lambda) = lambda(&once("orphan", script, "timeout_seconds = 5"));
    let started = Instant::now();
    assert_eq!(call(&lambda, "orphan", json!({"in": 1})).await, Ok(json!({"ok": 1})));
    assert!(started.elapsed() < Duration::from_secs(4), "the call took {:?}", started.elapsed());
    assert_killed(pid_in(&dir.path().join("orphan.pid")), "the background job");
}

#[tokio::test]
async fn a_failing_script_with_a_background_job_still_reports_its_stderr() {
    let script = "cat >/dev/null; sleep 777 & echo $! > orphan.pid; echo 'it broke' >&2; exit 4";
    let (dir, lambda) = lambda(&once("broken", script, "timeout_seconds = 5"));
    let (error, cause) = error_of(call(&lambda, "broken", json!({})).await);
    assert_eq!(error, "Runtime.ExitError");
    let message = cause["errorMessage"].as_str().unwrap();
    assert!(message.contains("exit status 4\nit broke"), "{message}");
    assert_killed(pid_in(&dir.path().join("orphan.pid")), "the background job");
}
