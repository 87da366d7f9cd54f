//! Tags as TagResource and CreateStateMachine take them: `[{"key": …, "value": …}]`, keys 1
//! to 128 characters, values up to 256 (botocore's `TagKey`/`TagValue`), at most 50 per
//! resource (AWS's documented limit; more is `TooManyTags`).

use serde_json::{Value, json};

use super::Ctx;
use super::arn::{Arn, Resource};
use super::error::ApiError;
use super::request::{Request, check_length, wrong_type};

/// AWS's limit of tags per resource.
pub const MAX_TAGS: usize = 50;

/// The `tags` member of `r` as `(key, value)` pairs.
pub fn read(r: &mut Request, key: &str) -> Result<Option<Vec<(String, String)>>, ApiError> {
    let Some(items) = r.list(key)? else { return Ok(None) };
    let mut tags = Vec::with_capacity(items.len());
    let mut violations = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(m) = item else { return Err(wrong_type(key, "a list of structures", item)) };
        let member = |name: &str| -> Result<String, ApiError> {
            match m.get(name) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(wrong_type(&format!("{key}.{}.member.{name}", i + 1), "a string", other)),
            }
        };
        let (k, v) = (member("key")?, member("value")?);
        check_length(&mut violations, &format!("{key}.{}.member.key", i + 1), &k, 1, 128, false);
        check_length(&mut violations, &format!("{key}.{}.member.value", i + 1), &v, 0, 256, false);
        tags.push((k, v));
    }
    violations.into_iter().for_each(|v| r.violation(v));
    Ok(Some(tags))
}

/// Checks that `arn` names a resource that has tags here and that it exists:
/// `ResourceNotFound` when it does not, `InvalidArn` for kinds without tags.
pub fn resource(ctx: &Ctx, arn: &str) -> Result<(), ApiError> {
    let parsed = Arn::parse(arn)?;
    match parsed.resource {
        Resource::StateMachine { .. } if ctx.store.state_machine(arn)?.is_some() => Ok(()),
        Resource::Activity { .. } if ctx.store.activity(arn)?.is_some() => Ok(()),
        Resource::StateMachine { .. } | Resource::Activity { .. } => Err(ApiError::not_found("Resource", arn)),
        _ => Err(parsed.wrong_kind()),
    }
}

/// The keys of UntagResource's `tagKeys`.
pub fn read_keys(r: &mut Request, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    let Some(items) = r.list(key)? else { return Ok(None) };
    let mut keys = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::String(k) = item else { return Err(wrong_type(key, "a list of strings", &item)) };
        let mut violations = Vec::new();
        check_length(&mut violations, &format!("{key}.{}.member", i + 1), &k, 1, 128, false);
        violations.into_iter().for_each(|v| r.violation(v));
        keys.push(k);
    }
    Ok(Some(keys))
}

/// The number of distinct keys after adding `new` to `existing`.
pub fn count_after(existing: &[(String, String)], new: &[(String, String)]) -> usize {
    let mut keys: Vec<&str> = existing.iter().chain(new).map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.len()
}

/// Tags as ListTagsForResource returns them.
pub fn to_json(tags: &[(String, String)]) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_are_bounded_and_counted_once() {
        let mut r = Request::parse(br#"{"tags": [{"key": "", "value": "v"}, {"key": "team"}]}"#).expect("an object");
        let tags = read(&mut r, "tags").expect("strings").expect("present");
        assert_eq!(tags[1], ("team".to_string(), String::new()));
        let e = r.finish().expect_err("an empty key");
        assert!(e.message.starts_with("1 validation error detected: Value '' at 'tags.1.member.key'"), "{}", e.message);
        let existing = vec![("a".to_string(), "1".to_string())];
        assert_eq!(count_after(&existing, &[("a".into(), "2".into()), ("b".into(), "3".into())]), 2);
    }
}
