//! The execution input of `dmap run`: `--input FILE` or `--input-json JSON`, refused as bad
//! usage when it is larger than AWS accepts (StartExecution's `input` is at most 262,144 bytes
//! of UTF-8). A file is read through a cap, never whole: a 92 MB input used to cost 2.4 GB.

use std::io::Read;
use std::path::Path;

use serde_json::{Value, json};

/// Reads and parses the input; `max_bytes` is AWS's limit, or dmap's hard ceiling when
/// `--no-payload-limits` lifts it. Errors are messages for stderr (exit 2).
pub fn read(file: Option<&Path>, text: Option<&str>, max_bytes: usize, lifted: bool) -> Result<Value, String> {
    let too_big = |flag: &str, size: String| {
        let hint = if lifted {
            "dmap's ceiling for state data"
        } else {
            "AWS's limit: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144; --no-payload-limits lifts it"
        };
        format!("dmap: {flag} is {size} bytes, more than the {max_bytes} an execution input may have ({hint})")
    };
    match (file, text) {
        (Some(f), _) => {
            let shown = format!("--input {}", f.display());
            let handle = std::fs::File::open(f).map_err(|e| format!("dmap: cannot read {}: {e}", f.display()))?;
            let mut bytes = Vec::new();
            handle
                .take(max_bytes as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("dmap: cannot read {}: {e}", f.display()))?;
            if bytes.len() > max_bytes {
                let size = std::fs::metadata(f).map_or_else(|_| format!("over {max_bytes}"), |m| m.len().to_string());
                return Err(too_big(&shown, size));
            }
            serde_json::from_slice(&bytes).map_err(|e| format!("dmap: {} is not valid JSON: {e}", f.display()))
        }
        (None, Some(j)) => {
            if j.len() > max_bytes {
                return Err(too_big("--input-json", j.len().to_string()));
            }
            serde_json::from_str(j).map_err(|e| format!("dmap: --input-json is not valid JSON: {e}"))
        }
        (None, None) => Ok(json!({})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_over_the_limit_are_refused_naming_the_flag_and_size() {
        let big = format!("{{\"s\":\"{}\"}}", "x".repeat(300_000));
        let e = read(None, Some(&big), 262_144, false).expect_err("too big");
        assert!(e.contains("--input-json") && e.contains(&big.len().to_string()), "{e}");
        assert!(read(None, Some(&big), 1 << 20, true).is_ok());
        let exact = format!("\"{}\"", "x".repeat(262_142));
        assert!(read(None, Some(&exact), 262_144, false).is_ok());

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("in.json");
        std::fs::write(&path, &big).expect("write");
        let e = read(Some(&path), None, 262_144, false).expect_err("too big");
        assert!(e.contains("--input") && e.contains(&big.len().to_string()), "{e}");
        assert_eq!(
            read(Some(&path), None, 1 << 20, true).ok().and_then(|v| v["s"].as_str().map(str::len)),
            Some(300_000)
        );
    }
}
