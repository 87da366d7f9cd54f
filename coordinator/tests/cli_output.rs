//! A reader that goes away is not a failure of the run: `dmap run … | head` must end with the
//! run's own status and no panic (it panicked in `println!` on the closed pipe before).

use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    let dir = tempfile::TempDir::new().expect("a temporary directory");
    let def = dir.path().join("def.json");
    std::fs::write(&def, r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#)
        .expect("write the definition");
    // An input (and so an output) of ~2 MB of pretty JSON: far more than a pipe buffer holds.
    let input = dir.path().join("input.json");
    let xs: Vec<u32> = (0..200_000).collect();
    std::fs::write(&input, serde_json::to_string(&xs).expect("JSON")).expect("write the input");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmap"))
        .args(["run", def.to_str().expect("a UTF-8 path"), "--no-payload-limits", "--input"])
        .arg(&input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dmap");
    let mut first = [0u8; 64];
    child.stdout.take().expect("stdout").read_exact(&mut first).expect("the start of the output");
    // The read end is dropped here: every later write fails with EPIPE.
    let out = child.wait_with_output().expect("dmap ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
