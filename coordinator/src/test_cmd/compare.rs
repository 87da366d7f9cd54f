//! Judges an execution's [`Outcome`] against a case's [`Expected`] result and, when they
//! differ, says where in one line.
//!
//! Both sides are first laid out as the same document (`{status, output, error, cause |
//! cause_json}`) so that `ignore_paths`, which are written against the `expected` object, remove
//! the same values from each. JSON is compared as values: object key order does not matter,
//! and numbers keep their integer or floating form (`0` is not `0.0`), as the recorded AWS
//! results do.
//!
//! A FAILED case whose file has no `error` (or `cause`) says that AWS reported none, so the
//! execution must report none either; for TIMED_OUT only what the file gives is checked,
//! since AWS's timeout carries no error in the recorded results.

use serde_json::{Map, Value};
use shared::asl::eval::{Outcome, Status};

use super::case::{Expected, ExpectedStatus};
use super::ignore::IgnorePath;

/// How much of a value a message shows. Texts (errors, causes) get more room: the end of a
/// cause often says what went wrong.
const SHOWN_VALUE_CHARS: usize = 200;
const SHOWN_TEXT_CHARS: usize = 400;

/// `Ok` when the outcome matches; otherwise a one-line description of the first difference.
pub fn check(expected: &Expected, ignore: &[IgnorePath], outcome: &Outcome) -> Result<(), String> {
    let want = status_name(expected.status);
    if want != outcome.status.as_str() {
        return Err(format!("status: expected {want}, got {}{}", outcome.status.as_str(), summary(outcome)));
    }
    let mut exp = expected_doc(expected);
    let mut act = actual_doc(expected, outcome);
    for p in ignore {
        p.remove(&mut exp);
        p.remove(&mut act);
    }
    if let Some(e) = exp.get("output") {
        let a = act.get("output").unwrap_or(&Value::Null);
        if let Some(d) = first_difference(e, a, &mut "$".to_string()) {
            return Err(format!("output differs {d}"));
        }
    }
    let strict = expected.status == ExpectedStatus::Failed;
    check_text("error", &exp, &act, &expected.error_wildcards, strict)?;
    if let Some(e) = exp.get("cause_json") {
        return match act.get("cause_json") {
            Some(Value::String(text)) => Err(format!("cause: expected a JSON document, got {}", show_text(text))),
            Some(a) => {
                first_difference(e, a, &mut "$".to_string()).map_or(Ok(()), |d| Err(format!("cause differs {d}")))
            }
            None => Err(format!("cause: expected {}, got none", show(e))),
        };
    }
    check_text("cause", &exp, &act, &expected.cause_wildcards, strict)
}

fn status_name(s: ExpectedStatus) -> &'static str {
    match s {
        ExpectedStatus::Succeeded => Status::Succeeded.as_str(),
        ExpectedStatus::Failed => Status::Failed.as_str(),
        ExpectedStatus::TimedOut => Status::TimedOut.as_str(),
    }
}

/// What the execution produced, for a status mismatch.
fn summary(o: &Outcome) -> String {
    match (&o.output, &o.failure) {
        (Some(out), _) => format!(" (output {})", show(out)),
        (None, Some(f)) => {
            let error = f.error.as_deref().map_or("none".into(), show_text);
            let cause = f.cause.as_deref().map_or("none".into(), show_text);
            format!(" (error {error}, cause {cause})")
        }
        (None, None) => String::new(),
    }
}

fn expected_doc(e: &Expected) -> Value {
    let mut m = Map::new();
    m.insert("status".into(), Value::String(status_name(e.status).into()));
    if let Some(o) = &e.output {
        m.insert("output".into(), o.clone());
    }
    if let Some(x) = &e.error {
        m.insert("error".into(), Value::String(x.clone()));
    }
    if let Some(x) = &e.cause {
        m.insert("cause".into(), Value::String(x.clone()));
    }
    if let Some(x) = &e.cause_json {
        m.insert("cause_json".into(), x.clone());
    }
    Value::Object(m)
}

/// The outcome laid out like [`expected_doc`]; an absent or empty error/cause is left out.
fn actual_doc(e: &Expected, o: &Outcome) -> Value {
    let mut m = Map::new();
    m.insert("status".into(), Value::String(o.status.as_str().into()));
    if e.output.is_some() {
        m.insert("output".into(), o.output.clone().unwrap_or(Value::Null));
    }
    let failure = o.failure.as_ref();
    if let Some(x) = failure.and_then(|f| f.error.as_deref()).filter(|s| !s.is_empty()) {
        m.insert("error".into(), Value::String(x.into()));
    }
    if let Some(x) = failure.and_then(|f| f.cause.as_deref()).filter(|s| !s.is_empty()) {
        let (key, v) = match e.cause_json {
            // Not JSON stays a string, which `check` reports as such.
            Some(_) => ("cause_json", serde_json::from_str(x).unwrap_or_else(|_| Value::String(x.into()))),
            None => ("cause", Value::String(x.into())),
        };
        m.insert(key.into(), v);
    }
    Value::Object(m)
}

/// Compares the `field` texts of both documents. `strict`: an absent expected text means the
/// execution must not report one.
fn check_text(field: &str, exp: &Value, act: &Value, wildcards: &[String], strict: bool) -> Result<(), String> {
    let a = act.get(field).and_then(Value::as_str);
    match exp.get(field).and_then(Value::as_str) {
        Some(e) if !matches_with_wildcards(e, wildcards, a.unwrap_or("")) => {
            Err(format!("{field}: expected {}, got {}", show_text(e), a.map_or("none".into(), show_text)))
        }
        None if strict && a.is_some() => Err(format!("{field}: expected none, got {}", show_text(a.unwrap_or("")))),
        _ => Ok(()),
    }
}

/// Whether `actual` is `expected` with each occurrence of a wildcard substring replaced by any
/// text (possibly empty).
pub fn matches_with_wildcards(expected: &str, wildcards: &[String], actual: &str) -> bool {
    // Split the expected text into literal parts around wildcard occurrences.
    let mut parts: Vec<&str> = Vec::new();
    let mut literal_start = 0;
    let mut i = 0;
    while i < expected.len() {
        let hit =
            wildcards.iter().filter(|w| !w.is_empty() && expected[i..].starts_with(w.as_str())).map(|w| w.len()).max();
        match hit {
            Some(n) => {
                parts.push(&expected[literal_start..i]);
                i += n;
                literal_start = i;
            }
            None => i += expected[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    parts.push(&expected[literal_start..]);
    // `parts` alternates literal, wildcard, literal, ...: one literal more than wildcards.
    let (first, rest) = parts.split_first().expect("at least one part");
    let Some((last, middle)) = rest.split_last() else {
        return expected == actual;
    };
    if actual.len() < first.len() + last.len() || !actual.starts_with(first) || !actual.ends_with(last) {
        return false;
    }
    // Leftmost matching of the middle literals is enough when every wildcard matches any text.
    let mut window = &actual[first.len()..actual.len() - last.len()];
    for m in middle {
        match window.find(m) {
            Some(at) => window = &window[at + m.len()..],
            None => return false,
        }
    }
    true
}

/// Describes the first place where `act` differs from `exp`, as `at <path>: ...`.
pub fn first_difference(exp: &Value, act: &Value, path: &mut String) -> Option<String> {
    match (exp, act) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let len = path.len();
                push_key(path, k);
                let found = match a.get(k) {
                    Some(av) => first_difference(ev, av, path),
                    None => Some(format!("at {path}: expected {}, got nothing (missing key)", show(ev))),
                };
                if found.is_some() {
                    return found;
                }
                path.truncate(len);
            }
            let (k, av) = a.iter().find(|(k, _)| !e.contains_key(*k))?;
            push_key(path, k);
            Some(format!("at {path}: unexpected key with value {}", show(av)))
        }
        (Value::Array(e), Value::Array(a)) if e.len() != a.len() => {
            Some(format!("at {path}: expected {} array items, got {}: {}", e.len(), a.len(), show(act)))
        }
        (Value::Array(e), Value::Array(a)) => e.iter().zip(a).enumerate().find_map(|(i, (ev, av))| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = first_difference(ev, av, path);
            path.truncate(len);
            found
        }),
        _ if exp == act => None,
        _ => Some(format!("at {path}: expected {}, got {}", show(exp), show(act))),
    }
}

fn push_key(path: &mut String, key: &str) {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str(&format!("[{}]", Value::String(key.into())));
    }
}

/// A value as compact JSON, cut short when long.
fn show(v: &Value) -> String {
    cut(v.to_string(), SHOWN_VALUE_CHARS)
}

/// A text as a JSON string literal (so newlines stay on one line), cut short when long.
fn show_text(s: &str) -> String {
    cut(Value::String(s.into()).to_string(), SHOWN_TEXT_CHARS)
}

fn cut(mut s: String, max_chars: usize) -> String {
    if let Some((at, _)) = s.char_indices().nth(max_chars) {
        s.truncate(at);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::asl::Failure;

    use super::*;

    fn expected(text: Value) -> Expected {
        serde_json::from_value(text).unwrap()
    }

    fn succeeded(output: Value) -> Outcome {
        Outcome { status: Status::Succeeded, output: Some(output), failure: None }
    }

    fn failed(error: Option<&str>, cause: Option<&str>) -> Outcome {
        let failure = Failure { error: error.map(Into::into), cause: cause.map(Into::into) };
        Outcome { status: Status::Failed, output: None, failure: Some(failure) }
    }

    fn ignore(paths: &[&str]) -> Vec<IgnorePath> {
        paths.iter().map(|p| IgnorePath::parse(p).unwrap()).collect()
    }

    #[test]
    fn outputs_compare_as_values() {
        let e = expected(json!({"status": "SUCCEEDED", "output": {"a": 1, "b": [1.0, "x"]}}));
        assert_eq!(check(&e, &[], &succeeded(json!({"b": [1.0, "x"], "a": 1}))), Ok(()));
        assert_eq!(
            check(&e, &[], &succeeded(json!({"a": 1, "b": [1, "x"]}))),
            Err("output differs at $.b[0]: expected 1.0, got 1".into())
        );
        assert_eq!(
            check(&e, &[], &succeeded(json!({"a": 1, "b": [1.0, "x"], "c": null}))),
            Err("output differs at $.c: unexpected key with value null".into())
        );
        assert_eq!(
            check(&e, &[], &succeeded(json!({"b": [1.0, "x"]}))),
            Err("output differs at $.a: expected 1, got nothing (missing key)".into())
        );
        let e = expected(json!({"status": "SUCCEEDED", "output": {"a b": [1, 2]}}));
        assert_eq!(
            check(&e, &[], &succeeded(json!({"a b": [1]}))),
            Err(r#"output differs at $["a b"]: expected 2 array items, got 1: [1]"#.into())
        );
    }

    #[test]
    fn status_mismatch_shows_what_happened() {
        let e = expected(json!({"status": "FAILED", "error": "E"}));
        assert_eq!(
            check(&e, &[], &succeeded(json!(1))),
            Err("status: expected FAILED, got SUCCEEDED (output 1)".into())
        );
        let e = expected(json!({"status": "SUCCEEDED", "output": 1}));
        assert_eq!(
            check(&e, &[], &failed(Some("States.Runtime"), Some("line\nbreak"))),
            Err(r#"status: expected SUCCEEDED, got FAILED (error "States.Runtime", cause "line\nbreak")"#.into())
        );
    }

    #[test]
    fn ignore_paths_remove_from_both_sides() {
        let e = expected(
            json!({"status": "SUCCEEDED", "output": {"Arn": "recorded", "items": [{"Etag": "a", "Key": "k"}]}}),
        );
        let got = succeeded(json!({"Arn": "local", "items": [{"Etag": "b", "Key": "k"}]}));
        assert!(check(&e, &[], &got).is_err());
        assert_eq!(check(&e, &ignore(&["$.output.Arn", "$.output.items[0].Etag"]), &got), Ok(()));
        // Presence of an ignored key is not checked either.
        let got = succeeded(json!({"items": [{"Key": "k"}]}));
        assert_eq!(check(&e, &ignore(&["$.output.Arn", "$..Etag"]), &got), Ok(()));
    }

    #[test]
    fn failures_compare_error_and_cause_with_wildcards() {
        let e = expected(json!({
            "status": "FAILED", "error": "States.Runtime",
            "cause": "could not be found in the input '<json-input:1>'",
            "cause_wildcards": ["<json-input:1>"]
        }));
        let cause = "could not be found in the input '{\"a\":1}'";
        assert_eq!(check(&e, &[], &failed(Some("States.Runtime"), Some(cause))), Ok(()));
        assert!(check(&e, &[], &failed(Some("States.Runtime"), Some("could not be found"))).is_err());
        assert_eq!(
            check(&e, &[], &failed(Some("States.TaskFailed"), Some(cause))),
            Err(r#"error: expected "States.Runtime", got "States.TaskFailed""#.into())
        );
        let e = expected(json!({"status": "FAILED", "cause": "c"}));
        assert_eq!(check(&e, &[], &failed(Some("E"), Some("c"))), Err(r#"error: expected none, got "E""#.into()));
        assert_eq!(check(&e, &[], &failed(Some(""), Some("c"))), Ok(()));
    }

    #[test]
    fn cause_json_compares_as_json() {
        let e = expected(json!({"status": "FAILED", "error": "E", "cause_json": {"a": 1, "b": "x"}}));
        assert_eq!(check(&e, &[], &failed(Some("E"), Some(r#"{"b":"x","a":1}"#))), Ok(()));
        assert_eq!(
            check(&e, &[], &failed(Some("E"), Some(r#"{"b":"x","a":2}"#))),
            Err("cause differs at $.a: expected 1, got 2".into())
        );
        assert_eq!(
            check(&e, &[], &failed(Some("E"), Some("plain"))),
            Err(r#"cause: expected a JSON document, got "plain""#.into())
        );
    }

    #[test]
    fn timed_out_checks_only_what_is_given() {
        let e = expected(json!({"status": "TIMED_OUT"}));
        let got = Outcome { status: Status::TimedOut, output: None, failure: Some(Failure::named("States.Timeout")) };
        assert_eq!(check(&e, &[], &got), Ok(()));
    }

    #[test]
    fn wildcard_matching() {
        let w = |e: &str, ws: &[&str], a: &str| {
            let ws: Vec<String> = ws.iter().map(|s| s.to_string()).collect();
            matches_with_wildcards(e, &ws, a)
        };
        assert!(w("<A>", &["<A>"], "anything at all"));
        assert!(w("<A>", &["<A>"], ""));
        assert!(w("x <A> y <B> z", &["<A>", "<B>"], "x 1 y 2 z"));
        assert!(w("x <A> y <A> z", &["<A>"], "x y y y z"));
        assert!(!w("x <A> y", &["<A>"], "x 1 z"));
        assert!(!w("ab<A>ba", &["<A>"], "aba"));
        assert!(w("plain", &[], "plain"));
        assert!(!w("plain", &[], "plain!"));
    }
}
