//! The bucket sandbox (probe 2026-12, C1), through the real `dmap` binary: a directory bucket
//! reads, lists and writes nothing outside its directory, whatever links sit inside it, and a
//! FIFO in it cannot hang a run.

mod support;

use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use support::dmap::{Ran, Run, distributed_map};

const SECRET: &str = "OUTSIDE-DATA";

/// `bucket/` holds `ok.json`, `link.json` → `outside/secret.json` and `dirlink` → `outside/`;
/// `empty-outside/` is the target of `bucket/wlink`, for writes.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::Builder::new().prefix("dmap-sandbox-").tempdir().unwrap();
        let s = Sandbox { dir };
        for d in ["bucket", "outside", "empty-outside"] {
            std::fs::create_dir_all(s.path(d)).unwrap();
        }
        std::fs::write(s.path("outside/secret.json"), format!(r#"[{{"secret":"{SECRET}"}}]"#)).unwrap();
        std::fs::write(s.path("bucket/ok.json"), r#"[{"ok":1}]"#).unwrap();
        symlink(s.path("outside/secret.json"), s.path("bucket/link.json")).unwrap();
        symlink(s.path("outside"), s.path("bucket/dirlink")).unwrap();
        symlink(s.path("empty-outside"), s.path("bucket/wlink")).unwrap();
        s
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `definition` and returns a run of it with the bucket mapped as `bkt`.
    fn run(&self, definition: Value) -> Run {
        let file = self.path("def.json");
        std::fs::write(&file, definition.to_string()).unwrap();
        Run::new(&file.to_string_lossy()).bucket("bkt", &self.path("bucket"))
    }
}

fn get_object(key: &str, config: Value) -> Value {
    distributed_map(json!({"ItemReader": {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": config,
        "Parameters": {"Bucket": "bkt", "Key": key}
    }}))
}

fn list_objects(config: Value) -> Value {
    distributed_map(json!({"ItemReader": {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "ReaderConfig": config,
        "Parameters": {"Bucket": "bkt", "Prefix": ""}
    }}))
}

/// The execution's failure output (`{"Error", "Cause"}`), checking the exit code.
fn failed(ran: &Ran) -> (String, String) {
    assert_eq!(ran.code, 1, "stdout: {}\nstderr: {}", ran.stdout, ran.stderr);
    let out: Value = serde_json::from_str(&ran.stdout).expect("the failure output is JSON");
    (out["Error"].as_str().unwrap_or("").to_string(), out["Cause"].as_str().unwrap_or("").to_string())
}

fn succeeded(ran: &Ran) -> Value {
    assert_eq!(ran.code, 0, "stdout: {}\nstderr: {}", ran.stdout, ran.stderr);
    serde_json::from_str(&ran.stdout).expect("the output is JSON")
}

fn assert_no_secret(ran: &Ran) {
    assert!(!ran.stdout.contains(SECRET) && !ran.stderr.contains(SECRET), "{}\n{}", ran.stdout, ran.stderr);
}

#[test]
fn get_object_refuses_a_linked_file_and_a_path_through_a_linked_directory() {
    let s = Sandbox::new();
    assert_eq!(succeeded(&s.run(get_object("ok.json", json!({"InputType": "JSON"}))).go()), json!([{"ok": 1}]));
    for key in ["link.json", "dirlink/secret.json"] {
        let ran = s.run(get_object(key, json!({"InputType": "JSON"}))).go();
        assert_no_secret(&ran);
        let (error, cause) = failed(&ran);
        assert_eq!(error, "States.ItemReaderFailed", "{key}");
        assert!(cause.contains(&format!("s3://bkt/{key}")) && cause.contains("symbolic link"), "{key}: {cause}");
    }
}

#[test]
fn list_objects_neither_lists_nor_loads_through_links() {
    let s = Sandbox::new();
    let listed = succeeded(&s.run(list_objects(json!({}))).go());
    let keys: Vec<&str> = listed.as_array().unwrap().iter().map(|i| i["Key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["ok.json"]);

    let config = json!({"InputType": "JSON", "Transformation": "LOAD_AND_FLATTEN"});
    let ran = s.run(list_objects(config)).go();
    assert_no_secret(&ran);
    assert_eq!(succeeded(&ran), json!([{"ok": 1}]));
}

#[test]
fn a_link_to_proc_self_environ_is_not_read() {
    let s = Sandbox::new();
    symlink("/proc/self/environ", s.path("bucket/env.csv")).unwrap();
    // With a given header, the whole environment (one line, NUL-separated) would be one item.
    let config = json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["env"]});
    let ran = s.run(get_object("env.csv", config)).env("SECRET_IN_ENV", "hunter2").go();
    assert!(!ran.stdout.contains("hunter2") && !ran.stderr.contains("hunter2"), "{}", ran.stdout);
    let (error, cause) = failed(&ran);
    assert_eq!(error, "States.ItemReaderFailed");
    assert!(cause.contains("symbolic link"), "{cause}");
}

#[test]
fn a_result_writer_prefix_through_a_linked_directory_writes_nothing_outside() {
    let s = Sandbox::new();
    let definition = distributed_map(json!({
        "ItemsPath": "$.xs",
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "bkt", "Prefix": "wlink/out"}}
    }));
    let ran = s.run(definition).arg("--input-json").arg(r#"{"xs":[1,2,3]}"#).go();
    let (error, cause) = failed(&ran);
    assert_eq!(error, "States.ResultWriterFailed");
    assert!(cause.contains("s3://bkt/wlink/out/") && cause.contains("symbolic link"), "{cause}");
    let outside: Vec<_> = std::fs::read_dir(s.path("empty-outside")).unwrap().collect();
    assert!(outside.is_empty(), "written outside the bucket: {outside:?}");
}

#[test]
fn a_link_at_the_exact_result_path_is_replaced_not_followed() {
    let s = Sandbox::new();
    std::fs::write(s.path("outside/victim.json"), "VICTIM").unwrap();
    std::fs::create_dir_all(s.path("bucket/o2/run1")).unwrap();
    symlink(s.path("outside/victim.json"), s.path("bucket/o2/run1/manifest.json")).unwrap();
    let definition = distributed_map(json!({
        "ItemsPath": "$.xs",
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "bkt", "Prefix": "o2"}}
    }));
    let ran = s.run(definition).arg("--input-json").arg(r#"{"xs":[1]}"#).arg("--resume").arg("run1").go();
    succeeded(&ran);
    assert_eq!(std::fs::read_to_string(s.path("outside/victim.json")).unwrap(), "VICTIM");
    let manifest = s.path("bucket/o2/run1/manifest.json");
    assert!(std::fs::symlink_metadata(&manifest).unwrap().file_type().is_file());
    let results = support::dmap::read_results(&s.path("bucket"), "o2/run1/manifest.json");
    assert_eq!(results.succeeded.len(), 1);
}

#[test]
fn a_fifo_fails_at_once_instead_of_hanging() {
    let s = Sandbox::new();
    assert!(Command::new("mkfifo").arg(s.path("bucket/pipe.json")).status().unwrap().success());
    let file = s.path("def.json");
    std::fs::write(&file, get_object("pipe.json", json!({"InputType": "JSON"})).to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmap"))
        .args(["run", "--quiet", "--bucket"])
        .arg(format!("bkt={}", s.path("bucket").display()))
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let out = std::io::read_to_string(stdout).unwrap_or_default();
        let _ = tx.send(out);
    });
    // No writer ever opens the FIFO: before the fix the reader blocked in open(2) forever.
    let Ok(stdout) = rx.recv_timeout(Duration::from_secs(60)) else {
        let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
        panic!("dmap hung reading a FIFO");
    };
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(1), "{stdout}");
    let out: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(out["Error"], "States.ItemReaderFailed");
    assert!(out["Cause"].as_str().unwrap().contains("not a regular file"), "{out}");
}
