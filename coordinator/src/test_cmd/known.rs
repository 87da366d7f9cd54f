//! `--known-failures FILE`: cases expected to fail, each with its reason. A run against the
//! list fails when a case not on it fails, and when a listed case passes or no longer exists,
//! so the list can only shrink.
//!
//! Format: one case name per line followed by `# reason`; blank lines and lines starting with
//! `#` are comments.

use std::collections::BTreeMap;
use std::path::Path;

use super::{CaseResult, CaseStatus};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFailures {
    /// Case name → reason.
    pub entries: BTreeMap<String, String>,
}

impl KnownFailures {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let mut entries = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, reason) =
                line.split_once('#').ok_or_else(|| format!("line {}: '{line}' has no '# reason'", i + 1))?;
            let (name, reason) = (name.trim(), reason.trim());
            if name.is_empty() || reason.is_empty() {
                return Err(format!("line {}: expected 'case-name  # reason'", i + 1));
            }
            if entries.insert(name.to_string(), reason.to_string()).is_some() {
                return Err(format!("line {}: '{name}' is listed twice", i + 1));
            }
        }
        Ok(KnownFailures { entries })
    }

    /// The lines that make the run fail: unexpected failures, unexpected passes, stale names.
    pub fn verdict(&self, results: &[CaseResult]) -> Vec<String> {
        let mut problems = Vec::new();
        for r in results {
            match (&r.status, self.entries.contains_key(&r.name)) {
                (CaseStatus::Failed { .. }, false) => {
                    problems.push(format!("UNEXPECTED FAIL {} (not on the known-failures list)", r.name))
                }
                (CaseStatus::Passed, true) => {
                    problems.push(format!("UNEXPECTED PASS {}: remove it from the known-failures list", r.name))
                }
                (CaseStatus::Skipped { .. }, true) => {
                    problems.push(format!("LISTED BUT SKIPPED {}: remove it from the known-failures list", r.name))
                }
                _ => {}
            }
        }
        for name in self.entries.keys() {
            if !results.iter().any(|r| &r.name == name) {
                problems.push(format!("STALE {name}: listed as a known failure but no such case ran"));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn result(name: &str, status: CaseStatus) -> CaseResult {
        CaseResult { name: name.into(), file: PathBuf::from(format!("{name}.json")), status }
    }

    #[test]
    fn parse_requires_reasons() {
        let k = KnownFailures::parse("# header\n\na  # why a\nb # why b\n").unwrap_or_default();
        assert_eq!(k.entries.len(), 2);
        assert_eq!(k.entries.get("a").map(String::as_str), Some("why a"));
        assert!(KnownFailures::parse("a\n").is_err());
        assert!(KnownFailures::parse("a # x\na # y\n").is_err());
    }

    #[test]
    fn verdict_flags_unexpected_results_both_ways() {
        let k = KnownFailures::parse("listed-fails # r\nlisted-passes # r\ngone # r\n").unwrap_or_default();
        let results = vec![
            result("listed-fails", CaseStatus::Failed { diff: "d".into() }),
            result("listed-passes", CaseStatus::Passed),
            result("new-failure", CaseStatus::Failed { diff: "d".into() }),
            result("fine", CaseStatus::Passed),
        ];
        let v = k.verdict(&results);
        assert_eq!(v.len(), 3, "{v:?}");
        assert!(v[0].starts_with("UNEXPECTED PASS listed-passes"));
        assert!(v[1].starts_with("UNEXPECTED FAIL new-failure"));
        assert!(v[2].starts_with("STALE gone"));
    }
}
