//! A function's stderr reaches dmap's stderr within a budget (the probe's L7: 100 MB written
//! by a function were all copied). Lines past the budget are dropped and counted in a note.

mod support;

use serde_json::json;
use support::dmap::Run;

#[test]
fn a_flood_on_stderr_is_cut_to_the_budget_and_every_byte_is_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    // 1,000,000 lines of 20 bytes (19 characters and the newline): exactly 20,000,000 bytes.
    let script = "cat >/dev/null; yes 'noise noise noise!!' | head -c 20000000 >&2; echo '{\"ok\":1}'";
    let functions = format!("[functions.noisy]\ncommand = [\"sh\", \"-c\", {script:?}]\nper_invocation = true\n");
    std::fs::write(dir.path().join("functions.toml"), functions).unwrap();
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:noisy", "End": true}}});
    std::fs::write(dir.path().join("noisy.json"), definition.to_string()).unwrap();
    let ran = Run::new("noisy.json").current_dir(dir.path()).arg("--functions").arg("functions.toml").go();
    assert_eq!(ran.code, 0, "{}", &ran.stderr[ran.stderr.len().saturating_sub(2000)..]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&ran.stdout).unwrap(), json!({"ok": 1}));
    assert!(ran.stderr.len() < 4 << 20, "{} bytes of stderr were copied", ran.stderr.len());
    let (mut copied, mut dropped) = (0u64, 0u64);
    for line in ran.stderr.lines() {
        let Some(text) = line.strip_prefix("[noisy] ") else { continue };
        if text == "noise noise noise!!" {
            copied += 20;
        } else if let Some(n) = text.strip_prefix("… ").and_then(|t| t.strip_suffix(" bytes of stderr dropped")) {
            dropped += n.parse::<u64>().unwrap_or_else(|_| panic!("a note: {text}"));
        } else {
            panic!("an unexpected line: {line}");
        }
    }
    assert!(copied > 0 && dropped > 0, "copied {copied}, dropped {dropped}");
    assert_eq!(copied + dropped, 20_000_000);
}
