//! Reading a request's members with AWS's two levels of checking.
//!
//! A member of the wrong JSON type stops the request at once with `SerializationException`
//! (AWS's front end cannot deserialize it). Constraint violations of botocore's model
//! (required members, lengths, ranges, enums) are collected, and [`Request::finish`] reports
//! them all in one `ValidationException`, worded as AWS's front end words them:
//! `Value 'x' at 'name' failed to satisfy constraint: Member must have length less than or
//! equal to 80`. A JSON `null` is an absent member, and members the model does not have are
//! ignored, as AWS does. Semantic checks (does the ARN parse, does the state machine exist)
//! belong to the actions, after `finish`.

use serde_json::{Map, Value};

use super::error::ApiError;

/// A request body being read.
#[derive(Debug)]
pub struct Request {
    members: Map<String, Value>,
    violations: Vec<String>,
}

impl Request {
    /// A body must be a JSON object (an empty body counts as `{}`).
    pub fn parse(body: &[u8]) -> Result<Request, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Request { members: Map::new(), violations: Vec::new() });
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(members)) => Ok(Request { members, violations: Vec::new() }),
            Ok(_) => Err(ApiError::serialization("Start of structure or map expected: the body is not a JSON object")),
            Err(e) => Err(ApiError::serialization(format!("The body is not valid JSON: {e}"))),
        }
    }

    /// Records a violation of a constraint.
    pub fn violation(&mut self, message: String) {
        self.violations.push(message);
    }

    /// A string member, length checked in characters.
    pub fn string(&mut self, key: &str, min: usize, max: usize) -> Result<Option<String>, ApiError> {
        match self.members.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                check_length(&mut self.violations, key, &s, min, max, sensitive(key));
                Ok(Some(s))
            }
            Some(other) => Err(wrong_type(key, "a string", &other)),
        }
    }

    /// A required string member; a missing one is a violation (and `""` is returned, which
    /// [`Request::finish`] never lets an action see).
    pub fn required(&mut self, key: &str, min: usize, max: usize) -> Result<String, ApiError> {
        let value = self.string(key, min, max)?;
        Ok(self.present(key, value).unwrap_or_default())
    }

    /// A string member that must be one of `values`.
    pub fn enumeration(&mut self, key: &str, values: &[&str]) -> Result<Option<String>, ApiError> {
        let value = self.string(key, 0, usize::MAX)?;
        if let Some(v) = &value
            && !values.contains(&v.as_str())
        {
            self.violations.push(format!(
                "Value '{v}' at '{key}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                values.join(", ")
            ));
        }
        Ok(value)
    }

    /// An integer member in `min..=max`.
    pub fn integer(&mut self, key: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.members.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
                let v = n.as_i64().unwrap_or(i64::MAX);
                check_range(&mut self.violations, key, v as f64, min as f64, max as f64);
                Ok(Some(v))
            }
            Some(other) => Err(wrong_type(key, "an integer", &other)),
        }
    }

    /// A floating-point member in `min..=max`.
    pub fn float(&mut self, key: &str, min: f64, max: f64) -> Result<Option<f64>, ApiError> {
        match self.members.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                let v = n.as_f64().unwrap_or(f64::NAN);
                check_range(&mut self.violations, key, v, min, max);
                Ok(Some(v))
            }
            Some(other) => Err(wrong_type(key, "a number", &other)),
        }
    }

    pub fn boolean(&mut self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.members.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(wrong_type(key, "a boolean", &other)),
        }
    }

    /// A structure member (checked by the caller).
    pub fn object(&mut self, key: &str) -> Result<Option<Map<String, Value>>, ApiError> {
        match self.members.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(wrong_type(key, "a structure", &other)),
        }
    }

    /// A list member (its items checked by the caller).
    pub fn list(&mut self, key: &str) -> Result<Option<Vec<Value>>, ApiError> {
        match self.members.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(wrong_type(key, "a list", &other)),
        }
    }

    /// Records the violation for a required member that is missing.
    pub fn present<T>(&mut self, key: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.violations
                .push(format!("Value null at '{key}' failed to satisfy constraint: Member must not be null"));
        }
        value
    }

    /// Every violation found, as one `ValidationException`.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.violations.is_empty() { Ok(()) } else { Err(ApiError::constraints(&self.violations)) }
    }
}

/// Members whose values AWS does not echo in its messages.
fn sensitive(key: &str) -> bool {
    matches!(key, "definition" | "input" | "error" | "cause" | "output" | "taskToken")
}

pub fn check_length(violations: &mut Vec<String>, key: &str, s: &str, min: usize, max: usize, hide: bool) {
    let n = s.chars().count();
    let shown = if hide { "Value".to_string() } else { format!("Value '{s}'") };
    if n < min {
        violations.push(format!(
            "{shown} at '{key}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
        ));
    } else if n > max {
        violations.push(format!(
            "{shown} at '{key}' failed to satisfy constraint: Member must have length less than or equal to {max}"
        ));
    }
}

pub fn check_range(violations: &mut Vec<String>, key: &str, v: f64, min: f64, max: f64) {
    if v < min {
        violations.push(format!(
            "Value '{v}' at '{key}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
        ));
    } else if v > max || v.is_nan() {
        violations.push(format!(
            "Value '{v}' at '{key}' failed to satisfy constraint: Member must have value less than or equal to {max}"
        ));
    }
}

pub fn wrong_type(key: &str, expected: &str, found: &Value) -> ApiError {
    let kind = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a structure",
    };
    ApiError::serialization(format!("Expected {expected} for '{key}', found {kind}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_that_are_not_objects_are_serialization_errors() {
        for body in [&b"[]"[..], b"\"x\"", b"{", b"nul"] {
            assert_eq!(Request::parse(body).map(|_| ()).map_err(|e| e.code), Err("SerializationException"));
        }
        assert!(Request::parse(b"").is_ok());
    }

    #[test]
    fn wrong_types_stop_at_once_and_constraints_are_collected() {
        let mut r = Request::parse(br#"{"name": 5}"#).expect("an object");
        assert_eq!(r.string("name", 1, 80).map_err(|e| e.code), Err("SerializationException"));

        let mut r = Request::parse(br#"{"name": "", "maxResults": 1001}"#).expect("an object");
        r.required("name", 1, 80).expect("a string");
        r.required("definition", 1, 1 << 20).expect("absent");
        r.integer("maxResults", 0, 1000).expect("an integer");
        let e = r.finish().expect_err("three violations");
        // The texts of AWS's front end (Coral), as botocore users see them.
        assert_eq!(
            e.message,
            "3 validation errors detected: \
             Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1; \
             Value null at 'definition' failed to satisfy constraint: Member must not be null; \
             Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
        );
    }
}
