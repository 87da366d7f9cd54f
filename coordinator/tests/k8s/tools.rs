//! The offline tools the manifest tests run: kustomize (render), kubernetes-validate and the
//! KEDA CRD validators (schemas), PyYAML (parse), and the built binaries' `--help` (flags).
//! Each overlay is rendered once per test binary.
//!
//! Owns running the tools and caching their answers; must not judge the manifests
//! (tests/k8s/checks.rs does).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use crate::support::dmap::repo;

/// The oldest and the newest Kubernetes version the manifests are validated against.
pub const KUBERNETES_VERSIONS: [&str; 2] = ["1.30.0", "1.37.0"];
pub const INSTALL_HINT: &str = "run scripts/install-k8s-tools (README's test command does)";

/// The overlays a user can deploy; each is rendered and checked.
pub const OVERLAYS: [&str; 5] = ["base", "overlays/nats-cluster", "overlays/hpa", "overlays/eks", "overlays/serve"];

pub fn tool(path: PathBuf) -> PathBuf {
    assert!(path.exists(), "{} is missing: {INSTALL_HINT}", path.display());
    path
}

pub fn kustomize() -> PathBuf {
    match std::env::var_os("KUSTOMIZE") {
        Some(p) => PathBuf::from(p),
        None => tool(repo().join("tools/kustomize/usr/bin/kustomize")),
    }
}

pub fn validator_bin(name: &str) -> PathBuf {
    tool(repo().join("tools/k8s-validate/bin").join(name))
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; {INSTALL_HINT}"))
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `kustomize build` of a directory of k8s/.
pub fn render(dir: &str) -> String {
    let out = run(Command::new(kustomize()).arg("build").arg(repo().join("k8s").join(dir)));
    assert!(out.status.success(), "kustomize build k8s/{dir} failed:\n{}", text(&out.stderr));
    text(&out.stdout)
}

/// The YAML documents as JSON values (PyYAML from the validator's environment).
pub fn parse(yaml: &str) -> Vec<Value> {
    let script = "import json, sys, yaml\njson.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)";
    let mut child = Command::new(validator_bin("python"))
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python: {e}; {INSTALL_HINT}"));
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), yaml.as_bytes()).expect("write YAML");
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("python runs");
    assert!(out.status.success(), "YAML does not parse:\n{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON from python")
}

/// Objects back to a multi-document YAML file (JSON is YAML).
pub fn write_docs(dir: &Path, docs: &[Value]) -> PathBuf {
    let path = dir.join("rendered.yaml");
    let body: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    std::fs::write(&path, body.join("\n---\n")).expect("write manifests");
    path
}

/// Schema validation of every object: Err with the validators' reports.
pub fn validate_schemas(docs: &[Value]) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_docs(dir.path(), docs);
    let mut errors = Vec::new();
    for version in KUBERNETES_VERSIONS {
        let out = run(Command::new(validator_bin("kubernetes-validate")).args(["--strict", "-k", version]).arg(&file));
        let report = text(&out.stdout) + &text(&out.stderr);
        if !out.status.success() {
            errors.push(format!("kubernetes-validate -k {version}:\n{report}"));
        }
        // It only warns for kinds it has no schema for; those must be KEDA's, checked below.
        for line in report.lines().filter(|l| l.contains("Couldn't find schema")) {
            if !line.contains("api version keda.sh/v1alpha1") {
                errors.push(format!("no schema checks this object: {line}"));
            }
        }
    }
    let json_file = dir.path().join("docs.json");
    std::fs::write(&json_file, serde_json::to_vec(docs).expect("JSON")).expect("write JSON");
    let modules = tool(repo().join("tools/k8s-keda/node_modules"));
    let out = run(Command::new("node").arg(repo().join("scripts/k8s/validate-keda.mjs")).arg(modules).arg(&json_file));
    if !out.status.success() {
        errors.push(format!("KEDA schemas:\n{}{}", text(&out.stdout), text(&out.stderr)));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors.join("\n")) }
}

/// An overlay of OVERLAYS rendered and parsed, once per test binary; each caller gets a copy.
pub fn rendered(dir: &str) -> Vec<Value> {
    static RENDERED: [OnceLock<Vec<Value>>; OVERLAYS.len()] = [const { OnceLock::new() }; OVERLAYS.len()];
    let i = OVERLAYS.iter().position(|o| *o == dir).unwrap_or_else(|| panic!("k8s/{dir} is not in OVERLAYS"));
    RENDERED[i].get_or_init(|| parse(&render(dir))).clone()
}

/// `--help` of a manifest's command (`["dmap", "serve"]`, `["dmap-worker"]`), from the binaries
/// this test was built with, once per command.
pub fn help(cmd: &[String]) -> String {
    static HELP: OnceLock<Mutex<HashMap<Vec<String>, String>>> = OnceLock::new();
    let cache = HELP.get_or_init(Default::default);
    if let Some(text) = cache.lock().expect("help cache").get(cmd) {
        return text.clone();
    }
    let binary = match cmd.first().map(String::as_str) {
        Some("dmap") => PathBuf::from(env!("CARGO_BIN_EXE_dmap")),
        Some("dmap-worker") => testkit::sibling_binary(env!("CARGO_BIN_EXE_dmap"), "dmap-worker"),
        other => panic!("{other:?} is not a binary of the dmap image"),
    };
    // No inherited environment: clap would print the values of the variables it reads.
    let out = run(Command::new(&binary).env_clear().args(&cmd[1..]).arg("--help"));
    assert!(out.status.success(), "{} --help failed:\n{}", cmd.join(" "), text(&out.stderr));
    let answer = text(&out.stdout);
    cache.lock().expect("help cache").insert(cmd.to_vec(), answer.clone());
    answer
}
