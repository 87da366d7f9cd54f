//! Invalid definitions, one per file in `tests/invalid/`. Each file holds a definition that
//! AWS rejects and the ERROR diagnostics dmap must report for it, as `(code, location)` pairs.
//! The comparison is exact, so a file with several independent problems also proves that
//! validation reports every problem at once instead of stopping at the first.
//!
//! File format:
//! `{"about": "<what is wrong>", "definition": {...}, "diagnostics": [{"code", "location"}]}`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use shared::asl::Severity;
use shared::asl::parse::parse_value;

/// A diagnostic as a file states it: its code and its JSON pointer.
type Expected = BTreeSet<(String, String)>;

/// Checks one file; the error is a report naming the file, the expected and the actual set.
fn check(file: &Path) -> Result<(), String> {
    let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(file).map_err(|e| format!("{name}: cannot read: {e}"))?;
    let case: Value = serde_json::from_str(&text).map_err(|e| format!("{name}: not JSON: {e}"))?;
    let about = case.get("about").and_then(Value::as_str).unwrap_or("");
    if about.is_empty() {
        return Err(format!("{name}: the file needs a one-line \"about\""));
    }
    let definition = case.get("definition").ok_or_else(|| format!("{name}: no \"definition\""))?;
    let expected = expected(&case).map_err(|e| format!("{name}: {e}"))?;
    let diagnostics = match parse_value(definition) {
        Ok(_) => {
            return Err(format!("{name}: the definition was accepted\n  about:    {about}\n  expected: {expected:?}"));
        }
        Err(d) => d,
    };
    let actual: Expected = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.code.to_string(), d.location.clone()))
        .collect();
    if actual != expected {
        let messages: Vec<String> = diagnostics.iter().map(|d| format!("    {d}")).collect();
        return Err(format!(
            "{name}: diagnostics differ\n  about:    {about}\n  expected: {expected:?}\n  actual:   {actual:?}\n  messages:\n{}",
            messages.join("\n")
        ));
    }
    Ok(())
}

fn expected(case: &Value) -> Result<Expected, String> {
    let list = case.get("diagnostics").and_then(Value::as_array).ok_or("no \"diagnostics\" array")?;
    if list.is_empty() {
        return Err("\"diagnostics\" must list at least one diagnostic".into());
    }
    list.iter()
        .map(|d| {
            let field = |k: &str| {
                d.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or(format!("a diagnostic needs a string \"{k}\": {d}"))
            };
            Ok((field("code")?, field("location")?))
        })
        .collect()
}

fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_invalid_definition_is_rejected_with_exactly_its_diagnostics() {
    let files = files();
    assert!(files.len() >= 45, "expected at least 45 invalid definitions, found {}", files.len());
    let failures: Vec<String> = files.iter().filter_map(|f| check(f).err()).collect();
    assert!(failures.is_empty(), "{} of {} files failed:\n\n{}", failures.len(), files.len(), failures.join("\n\n"));
}
