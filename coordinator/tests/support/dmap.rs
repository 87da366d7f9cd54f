//! Runs the `dmap` binary the way README does, and reads ResultWriter output.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository root").to_path_buf()
}

/// `[workspace.package]` fields of `root`'s Cargo.toml, in the order asked, read once.
pub fn workspace_package<const N: usize>(root: &Path, fields: [&str; N]) -> [String; N] {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let table: toml::Table = manifest.parse().expect("Cargo.toml parses");
    let package = &table["workspace"]["package"];
    fields.map(|f| package[f].as_str().unwrap_or_else(|| panic!("workspace {f}")).to_string())
}

pub struct Run {
    cmd: Command,
}

pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn new(definition: &str) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmap"));
        cmd.current_dir(repo()).arg("run").arg(definition).arg("--quiet");
        Run { cmd }
    }

    pub fn bucket(mut self, name: &str, dir: &Path) -> Self {
        self.cmd.arg("--bucket").arg(format!("{name}={}", dir.display()));
        self
    }

    pub fn arg(mut self, a: &str) -> Self {
        self.cmd.arg(a);
        self
    }

    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(name, value);
        self
    }

    /// Starts the run with no inherited environment (variables set before are dropped too).
    pub fn env_clear(mut self) -> Self {
        self.cmd.env_clear();
        self
    }

    /// Runs in `dir` instead of the repository root.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    pub fn go(mut self) -> Ran {
        let out = self.cmd.output().expect("dmap runs");
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The records of every result file listed by a manifest, by kind.
#[derive(Debug, Default)]
pub struct Results {
    pub succeeded: Vec<Value>,
    pub failed: Vec<Value>,
    pub pending: Vec<Value>,
}

pub fn read_results(bucket_dir: &Path, manifest_key: &str) -> Results {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(bucket_dir.join(manifest_key)).expect("manifest")).expect("json");
    let mut r = Results::default();
    for (kind, out) in [("SUCCEEDED", &mut r.succeeded), ("FAILED", &mut r.failed), ("PENDING", &mut r.pending)] {
        for f in manifest["ResultFiles"][kind].as_array().expect("file list") {
            let key = f["Key"].as_str().expect("key");
            let text = std::fs::read_to_string(bucket_dir.join(key)).expect("result file");
            assert_eq!(f["Size"].as_u64(), Some(text.len() as u64), "manifest size of {key}");
            let records: Vec<Value> = serde_json::from_str(&text).expect("a JSON array of records");
            out.extend(records);
        }
    }
    r
}

/// A definition whose one state is a Distributed Map over a Pass child, with `fields` (an
/// object: `ItemReader`, `ResultWriter`, …) added to the Map state.
pub fn distributed_map(fields: Value) -> Value {
    let mut map = json!({
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true}}
        },
        "End": true
    });
    map.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    json!({"StartAt": "M", "States": {"M": map}})
}
