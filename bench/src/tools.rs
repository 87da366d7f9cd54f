//! Tools the benchmarks need that are not crates, installed by the benchmarks themselves as
//! `scripts/test` installs them for the tests: nats-server, through `scripts/install-nats`
//! (which puts Debian trixie's build into `tools/`), and moto with boto3, through
//! `scripts/install-moto` (`tools/moto-venv`). When that cannot work, one line says what to do
//! instead of a panic.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure};

/// The nats-server the distributed scenarios start (through `testkit`, which looks in the same
/// places): `NATS_SERVER`, the copy in `tools/`, or one installed now.
pub fn nats_server() -> anyhow::Result<PathBuf> {
    nats_server_in(&testkit::repo(), std::env::var_os("NATS_SERVER"))
}

fn nats_server_in(repo: &Path, named: Option<OsString>) -> anyhow::Result<PathBuf> {
    if let Some(named) = named {
        let path = PathBuf::from(named);
        ensure!(
            path.is_file(),
            "NATS_SERVER={} is not a file: point it at a nats-server (>= 2.10), or unset it and scripts/install-nats \
             installs one",
            path.display()
        );
        return Ok(path);
    }
    let local = repo.join(testkit::NATS_SERVER_IN_REPO);
    if local.is_file() {
        return Ok(local);
    }
    eprintln!("nats-server is not installed: running scripts/install-nats …");
    let script = repo.join("scripts/install-nats");
    let installed = Command::new(&script)
        .current_dir(repo)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed && local.is_file() {
        return Ok(local);
    }
    bail!(
        "nats-server (>= 2.10) is needed and {} could not install it (see above): set NATS_SERVER=/path/to/nats-server",
        script.display()
    )
}

/// The Python of `tools/moto-venv` (moto in server mode and boto3, pinned), installed now by
/// `scripts/install-moto` when it is missing.
pub fn moto_venv_python() -> anyhow::Result<PathBuf> {
    let repo = testkit::repo();
    let venv = repo.join(testkit::MOTO_VENV_IN_REPO);
    if !venv.join(".pins").exists() {
        eprintln!("moto and boto3 are not installed: running scripts/install-moto …");
        let script = repo.join("scripts/install-moto");
        let ok = Command::new(&script)
            .current_dir(&repo)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ensure!(
            ok && venv.join(".pins").exists(),
            "boto3 is needed and {} could not install it (see above; it needs python3-venv and PyPI)",
            script.display()
        );
    }
    Ok(venv.join("bin/python"))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A repository with `scripts/install-nats` doing `body`.
    fn repo_with_script(body: &str) -> tempfile::TempDir {
        let repo = tempfile::tempdir().unwrap();
        let script = repo.path().join("scripts/install-nats");
        std::fs::create_dir_all(script.parent().unwrap()).unwrap();
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        repo
    }

    const INSTALL: &str = "mkdir -p tools/nats-server/usr/sbin && touch tools/nats-server/usr/sbin/nats-server";

    #[test]
    fn an_installed_copy_is_used_without_running_the_script() {
        let repo = repo_with_script("exit 1");
        let local = repo.path().join(testkit::NATS_SERVER_IN_REPO);
        std::fs::create_dir_all(local.parent().unwrap()).unwrap();
        std::fs::write(&local, "").unwrap();
        assert_eq!(nats_server_in(repo.path(), None).unwrap(), local);
    }

    #[test]
    fn a_missing_server_is_installed_by_the_projects_script() {
        let repo = repo_with_script(INSTALL);
        let got = nats_server_in(repo.path(), None).unwrap();
        assert_eq!(got, repo.path().join(testkit::NATS_SERVER_IN_REPO));
        assert!(got.is_file());
    }

    #[test]
    fn a_failed_installation_is_one_line_naming_the_fix() {
        let repo = repo_with_script("echo 'no network' >&2; exit 1");
        let message = nats_server_in(repo.path(), None).unwrap_err().to_string();
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("install-nats") && message.contains("NATS_SERVER="), "{message}");
        // Without any script at all (a copied binary far from the repository): the same.
        let empty = tempfile::tempdir().unwrap();
        assert!(nats_server_in(empty.path(), None).unwrap_err().to_string().contains("NATS_SERVER="));
    }

    #[test]
    fn nats_server_names_the_binary_and_must_exist() {
        let repo = repo_with_script(INSTALL);
        let named = repo.path().join("my-nats-server");
        let message = nats_server_in(repo.path(), Some(named.clone().into())).unwrap_err().to_string();
        assert!(message.contains(&format!("NATS_SERVER={}", named.display())), "{message}");
        std::fs::write(&named, "").unwrap();
        assert_eq!(nats_server_in(repo.path(), Some(named.clone().into())).unwrap(), named);
    }
}
