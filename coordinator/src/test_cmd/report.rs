//! Prints results: text lines for people (`FAIL name: diff`, `SKIP name: feature`, then the
//! summary `N passed, M failed[, K skipped]` as the last line), or one JSON document for tools
//! (`--json`). Passing cases print nothing in text form: a long green list hides the red.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{CaseResult, CaseStatus, TestOptions};

pub fn results(results: &[CaseResult], opts: &TestOptions, out: &mut dyn Write) -> io::Result<()> {
    let count = |f: fn(&CaseStatus) -> bool| results.iter().filter(|r| f(&r.status)).count();
    let passed = count(|s| matches!(s, CaseStatus::Passed));
    let mut failed = count(|s| matches!(s, CaseStatus::Failed { .. }));
    let skipped = count(|s| matches!(s, CaseStatus::Skipped { .. }));
    // Against a known-failures list, the summary counts what is wrong: unexpected failures,
    // unexpected passes and stale entries. Listed failures are reported on a line of their own.
    let mut known = 0;
    if let Some(k) = &opts.known_failures {
        known = results
            .iter()
            .filter(|r| matches!(r.status, CaseStatus::Failed { .. }) && k.entries.contains_key(&r.name))
            .count();
        failed = k.verdict(results).len();
    }
    if opts.json {
        let cases: Vec<Value> = results.iter().map(case_json).collect();
        let doc = json!({ "cases": cases, "passed": passed, "failed": failed, "skipped": skipped });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)?;
        return out.flush();
    }
    for r in results {
        let listed = opts.known_failures.as_ref().is_some_and(|k| k.entries.contains_key(&r.name));
        match &r.status {
            CaseStatus::Passed => {}
            CaseStatus::Failed { diff } if listed => writeln!(out, "KNOWN {}: {}", r.name, one_line(diff))?,
            CaseStatus::Failed { diff } => writeln!(out, "FAIL {}: {}", r.name, one_line(diff))?,
            CaseStatus::Skipped { feature } => writeln!(out, "SKIP {}: {}", r.name, one_line(feature))?,
        }
    }
    if opts.known_failures.is_some() {
        writeln!(out, "{known} known failure{} (listed with their reasons)", if known == 1 { "" } else { "s" })?;
    }
    write!(out, "{passed} passed, {failed} failed")?;
    if skipped > 0 {
        write!(out, ", {skipped} skipped")?;
    }
    writeln!(out)?;
    out.flush()
}

pub fn usage_error(message: &str, opts: &TestOptions, out: &mut dyn Write) -> io::Result<()> {
    if opts.json {
        serde_json::to_writer_pretty(&mut *out, &json!({ "error": message }))?;
        writeln!(out)?;
    } else {
        writeln!(out, "error: {}", one_line(message))?;
    }
    out.flush()
}

fn case_json(r: &CaseResult) -> Value {
    let (result, detail) = match &r.status {
        CaseStatus::Passed => ("passed", Value::Null),
        CaseStatus::Failed { diff } => ("failed", Value::String(diff.clone())),
        CaseStatus::Skipped { feature } => ("skipped", Value::String(feature.clone())),
    };
    json!({ "name": r.name, "file": r.file.display().to_string(), "result": result, "detail": detail })
}

/// Keeps one result on one line whatever a panic message or a cause contains.
fn one_line(s: &str) -> String {
    s.replace("\r\n", " ").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn sample() -> Vec<CaseResult> {
        let r =
            |name: &str, status| CaseResult { name: name.into(), file: PathBuf::from(format!("{name}.json")), status };
        vec![
            r("a", CaseStatus::Passed),
            r("b", CaseStatus::Failed { diff: "status: expected FAILED,\ngot SUCCEEDED".into() }),
            r("c", CaseStatus::Skipped { feature: "JSONata is not supported yet at /QueryLanguage".into() }),
        ]
    }

    fn text(results: &[CaseResult], json: bool) -> String {
        let mut out = Vec::new();
        super::results(results, &TestOptions { json, known_failures: None }, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_lists_failures_and_skips_then_the_summary() {
        assert_eq!(
            text(&sample(), false),
            "FAIL b: status: expected FAILED, got SUCCEEDED\n\
             SKIP c: JSONata is not supported yet at /QueryLanguage\n\
             1 passed, 1 failed, 1 skipped\n"
        );
        assert_eq!(text(&sample()[..1], false), "1 passed, 0 failed\n");
    }

    #[test]
    fn json_has_every_case_and_the_counts() {
        let doc: Value = serde_json::from_str(&text(&sample(), true)).unwrap();
        assert_eq!(doc["passed"], 1);
        assert_eq!(doc["failed"], 1);
        assert_eq!(doc["skipped"], 1);
        assert_eq!(doc["cases"][0], json!({"name": "a", "file": "a.json", "result": "passed", "detail": null}));
        assert_eq!(doc["cases"][2]["result"], "skipped");
    }
}
