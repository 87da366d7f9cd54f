//! The project's own golden cases (`coordinator/tests/cases/`, written here from the spec and
//! AWS-recorded behaviour) all pass through `dmap test`'s runner.

use std::path::PathBuf;

use coordinator::test_cmd::{TestOptions, run};

#[test]
fn every_golden_case_passes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut out = Vec::new();
    let code = run(&[dir], &TestOptions::default(), &mut out);
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, 0, "{text}");
    let last = text.lines().last().unwrap_or("");
    assert!(last.ends_with(" 0 failed"), "{last}");
    let passed: usize = last.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(passed >= 150, "only {passed} cases ran: {last}");
}
