//! Dotted paths into JSON (`Tasks.0.TaskArn`, `QueryExecution.Status.State`), as the `.sync`
//! table writes them. A segment that is a number indexes an array.
//!
//! Owns: reading one value by such a path. Must not: be mistaken for JSONPath.

use serde_json::Value;

/// The value at `path` in `value`; the empty path is `value` itself.
pub fn get<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(value);
    }
    path.split('.').try_fold(value, |v, segment| match v {
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        Value::Object(map) => map.get(segment),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_and_indices() {
        let v = json!({"Tasks": [{"TaskArn": "arn:t"}], "A": {"B": 1}});
        assert_eq!(get(&v, "Tasks.0.TaskArn"), Some(&json!("arn:t")));
        assert_eq!(get(&v, "A.B"), Some(&json!(1)));
        assert_eq!(get(&v, ""), Some(&v));
        assert_eq!(get(&v, "Tasks.1.TaskArn"), None);
        assert_eq!(get(&v, "A.B.C"), None);
    }
}
