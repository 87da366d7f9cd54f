//! Walking a JSON value with compiled segments.

use serde_json::Value;

use super::{PathError, Segment, normalized};

/// Walks a definite path (names and indexes only). Missing nodes fail with Jayway's wording: a
/// missing leaf is "No results for path", a missing intermediate node "Missing property in path".
/// The walk starts at `base`, which the first `skip` segments already led to (messages still
/// name the whole path).
pub(super) fn definite_from<'v>(base: &'v Value, segs: &[Segment], skip: usize) -> Result<&'v Value, PathError> {
    let mut cur = base;
    for (j, seg) in segs.get(skip..).unwrap_or_default().iter().enumerate() {
        let i = skip + j;
        let next = match (seg, cur) {
            (Segment::Name(n), Value::Object(m)) => m.get(n),
            (Segment::Index(ix), Value::Array(a)) => index(a, *ix),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => {
                let last = i + 1 == segs.len();
                let message = if last {
                    format!("No results for path: {}", normalized(segs))
                } else {
                    format!("Missing property in path {}", normalized(&segs[..=i]))
                };
                return Err(PathError::NotFound { message });
            }
        }
    }
    Ok(cur)
}

/// Like [`definite`], but moves the selected node out (leaving null in its place).
pub(super) fn take_definite(base: &mut Value, segs: &[Segment]) -> Result<Value, PathError> {
    let mut cur = base;
    for (i, seg) in segs.iter().enumerate() {
        let next = match (seg, cur) {
            (Segment::Name(n), Value::Object(m)) => m.get_mut(n),
            (Segment::Index(ix), Value::Array(a)) => {
                let len = a.len() as i64;
                let j = if *ix < 0 { len + ix } else { *ix };
                if j < 0 { None } else { a.get_mut(j as usize) }
            }
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => {
                let message = if i + 1 == segs.len() {
                    format!("No results for path: {}", normalized(segs))
                } else {
                    format!("Missing property in path {}", normalized(&segs[..=i]))
                };
                return Err(PathError::NotFound { message });
            }
        }
    }
    Ok(std::mem::take(cur))
}

fn index(a: &[Value], ix: i64) -> Option<&Value> {
    let i = if ix < 0 { a.len() as i64 + ix } else { ix };
    if i < 0 { None } else { a.get(i as usize) }
}

/// Collects every match of an indefinite path. Steps that do not apply to a node (a name on an
/// array, an index on an object) simply match nothing there. `root` is the document filters
/// read as `$`.
pub(super) fn collect<'v>(node: &'v Value, segs: &[Segment], root: &Value, out: &mut Vec<&'v Value>) {
    let Some((seg, rest)) = segs.split_first() else {
        out.push(node);
        return;
    };
    match seg {
        Segment::Descendant(inner) => {
            let mut matched = Vec::new();
            descend(node, inner, root, &mut matched);
            for m in matched {
                collect(m, rest, root, out);
            }
        }
        _ => {
            let mut step = Vec::new();
            apply(node, seg, root, &mut step);
            for m in step {
                collect(m, rest, root, out);
            }
        }
    }
}

fn descend<'v>(node: &'v Value, seg: &Segment, root: &Value, out: &mut Vec<&'v Value>) {
    apply(node, seg, root, out);
    match node {
        Value::Object(m) => m.values().for_each(|v| descend(v, seg, root, out)),
        Value::Array(a) => a.iter().for_each(|v| descend(v, seg, root, out)),
        _ => {}
    }
}

fn apply<'v>(node: &'v Value, seg: &Segment, root: &Value, out: &mut Vec<&'v Value>) {
    match (seg, node) {
        (Segment::Name(n), Value::Object(m)) => out.extend(m.get(n)),
        (Segment::Names(ns), Value::Object(m)) => out.extend(ns.iter().filter_map(|n| m.get(n))),
        (Segment::Index(i), Value::Array(a)) => out.extend(index(a, *i)),
        (Segment::Indexes(is), Value::Array(a)) => out.extend(is.iter().filter_map(|i| index(a, *i))),
        (Segment::Wildcard, Value::Array(a)) => out.extend(a.iter()),
        (Segment::Wildcard, Value::Object(m)) => out.extend(m.values()),
        (Segment::Slice { start, end, step }, Value::Array(a)) => slice(a, *start, *end, *step, out),
        (Segment::Filter(f), Value::Array(a)) => out.extend(a.iter().filter(|v| f.test(v, root))),
        (Segment::Filter(f), Value::Object(m)) => out.extend(m.values().filter(|v| f.test(v, root))),
        (Segment::Descendant(inner), _) => descend(node, inner, root, out),
        _ => {}
    }
}

fn slice<'v>(a: &'v [Value], start: Option<i64>, end: Option<i64>, step: i64, out: &mut Vec<&'v Value>) {
    let len = a.len() as i64;
    let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
    if step > 0 {
        let s = start.map(norm).unwrap_or(0);
        let e = end.map(norm).unwrap_or(len);
        let mut i = s;
        while i < e {
            out.push(&a[i as usize]);
            i += step;
        }
    } else {
        let s = start.map(|x| if x < 0 { len + x } else { x.min(len - 1) }).unwrap_or(len - 1);
        let e = end.map(|x| if x < 0 { len + x } else { x }).unwrap_or(-1);
        let mut i = s;
        while i > e && i >= 0 {
            out.push(&a[i as usize]);
            i += step;
        }
    }
}
