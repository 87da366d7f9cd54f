//! `ignore_paths`: JSONPath-like paths into a case's `expected` object (`$.output.MapRunArn`,
//! `$.output[0].Etag`, `$..StartDate`) naming values that cannot be reproduced (ARNs, times,
//! UUIDs). The runner removes them from the expected and the actual result alike before
//! comparing.
//!
//! Supported steps: `.name`, `['name']` / `["name"]`, `[n]`, `.*` / `[*]` and `..name` (the key
//! at any depth). An object member is removed; an array element is replaced by `null` so that
//! the indexes of its siblings, which later paths may name, stay put.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    /// Every member or element.
    All,
    /// The key at this level or any depth below.
    Descend(String),
}

/// One compiled ignore path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnorePath {
    steps: Vec<Step>,
}

impl IgnorePath {
    pub fn parse(text: &str) -> Result<IgnorePath, String> {
        let rest = text.strip_prefix('$').ok_or("must start with '$'")?;
        let b = rest.as_bytes();
        let mut steps = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if rest[i..].starts_with("..") {
                let (name, end) = member_name(rest, i + 2)?;
                steps.push(Step::Descend(name));
                i = end;
            } else if b[i] == b'.' {
                if b.get(i + 1) == Some(&b'*') {
                    steps.push(Step::All);
                    i += 2;
                } else {
                    let (name, end) = member_name(rest, i + 1)?;
                    steps.push(Step::Key(name));
                    i = end;
                }
            } else if b[i] == b'[' {
                let (step, end) = bracket(rest, i + 1)?;
                steps.push(step);
                i = end;
            } else {
                return Err(format!("unexpected {:?} at offset {}", &rest[i..], i + 1));
            }
        }
        if steps.is_empty() {
            return Err("must name something below '$'".into());
        }
        Ok(IgnorePath { steps })
    }

    /// Removes what the path names from `doc`; names that are absent are fine.
    pub fn remove(&self, doc: &mut Value) {
        apply(&self.steps, doc);
    }
}

/// A dotted member name, up to the next `.` or `[`.
fn member_name(s: &str, start: usize) -> Result<(String, usize), String> {
    let end = s[start..].find(['.', '[', ']']).map_or(s.len(), |n| start + n);
    if end == start {
        return Err(format!("missing a member name at offset {}", start + 1));
    }
    Ok((s[start..end].to_string(), end))
}

/// The inside of `[...]`: a quoted name, an index or `*`.
fn bracket(s: &str, start: usize) -> Result<(Step, usize), String> {
    let inner = &s[start..];
    if let Some(q) = inner.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let mut name = String::new();
        let mut chars = inner[1..].char_indices();
        while let Some((k, c)) = chars.next() {
            match c {
                '\\' => name.push(chars.next().ok_or("unterminated quoted name")?.1),
                c if c == q => {
                    let after = start + 1 + k + 1;
                    return match s[after..].starts_with(']') {
                        true => Ok((Step::Key(name), after + 1)),
                        false => Err("expected ']' after a quoted name".into()),
                    };
                }
                c => name.push(c),
            }
        }
        return Err("unterminated quoted name".into());
    }
    let close = inner.find(']').ok_or("missing ']'")?;
    let step = match &inner[..close] {
        "*" => Step::All,
        n => Step::Index(n.parse().map_err(|_| format!("{n:?} is not an array index, '*' or a quoted name"))?),
    };
    Ok((step, start + close + 1))
}

fn apply(steps: &[Step], node: &mut Value) {
    let Some((step, rest)) = steps.split_first() else { return };
    if rest.is_empty() {
        remove_last(step, node);
        return;
    }
    match step {
        Step::Key(k) => {
            if let Some(child) = node.as_object_mut().and_then(|o| o.get_mut(k)) {
                apply(rest, child);
            }
        }
        Step::Index(i) => {
            if let Some(child) = node.as_array_mut().and_then(|a| a.get_mut(*i)) {
                apply(rest, child);
            }
        }
        Step::All => children(node).for_each(|c| apply(rest, c)),
        Step::Descend(k) => {
            if let Some(child) = node.as_object_mut().and_then(|o| o.get_mut(k)) {
                apply(rest, child);
            }
            children(node).for_each(|c| apply(steps, c));
        }
    }
}

fn remove_last(step: &Step, node: &mut Value) {
    match (step, node) {
        (Step::Key(k), Value::Object(o)) => {
            o.shift_remove(k);
        }
        (Step::Index(i), Value::Array(a)) => {
            if let Some(v) = a.get_mut(*i) {
                *v = Value::Null;
            }
        }
        (Step::All, Value::Object(o)) => o.clear(),
        (Step::All, Value::Array(a)) => a.iter_mut().for_each(|v| *v = Value::Null),
        (Step::Descend(k), node) => {
            if let Value::Object(o) = node {
                o.shift_remove(k);
            }
            children(node).for_each(|c| remove_last(step, c));
        }
        _ => {}
    }
}

fn children(node: &mut Value) -> Box<dyn Iterator<Item = &mut Value> + '_> {
    match node {
        Value::Object(o) => Box::new(o.values_mut()),
        Value::Array(a) => Box::new(a.iter_mut()),
        _ => Box::new(std::iter::empty()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(path: &str, mut doc: Value, expected: Value) {
        IgnorePath::parse(path).unwrap().remove(&mut doc);
        assert_eq!(doc, expected, "{path}");
    }

    #[test]
    fn removes_what_the_corpus_names() {
        check("$.output.MapRunArn", json!({"output": {"MapRunArn": "x", "a": 1}}), json!({"output": {"a": 1}}));
        check(
            "$.output[1].Etag",
            json!({"output": [{"Etag": 1, "Key": "a"}, {"Etag": 2, "Key": "b"}]}),
            json!({"output": [{"Etag": 1, "Key": "a"}, {"Key": "b"}]}),
        );
        check(
            "$.output.query_values_1.context_object.Execution.Id",
            json!({"output": {"query_values_1": {"context_object": {"Execution": {"Id": "arn", "Name": "n"}}}}}),
            json!({"output": {"query_values_1": {"context_object": {"Execution": {"Name": "n"}}}}}),
        );
    }

    #[test]
    fn other_forms() {
        check("$..StartDate", json!({"a": {"StartDate": 1, "b": [{"StartDate": 2}]}}), json!({"a": {"b": [{}]}}));
        check(
            "$.output[*].Key",
            json!({"output": [{"Key": 1}, {"Key": 2, "x": 0}]}),
            json!({"output": [{}, {"x": 0}]}),
        );
        check("$['output']['a.b']", json!({"output": {"a.b": 1, "c": 2}}), json!({"output": {"c": 2}}));
        check("$.output[0]", json!({"output": [1, 2]}), json!({"output": [null, 2]}));
        check("$.output.missing.deeper", json!({"output": {"a": 1}}), json!({"output": {"a": 1}}));
        check("$.output.*", json!({"output": {"a": 1}}), json!({"output": {}}));
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in ["output.a", "$", "$.", "$[x]", "$['a'", "$.a]"] {
            assert!(IgnorePath::parse(bad).is_err(), "{bad}");
        }
    }
}
