//! URL encoding of JSON for the HTTP Task: `QueryParameters`, and `RequestBody` under
//! `Transform.RequestBodyEncoding: URL_ENCODED` with its `ArrayFormat`.
//!
//! AWS names its array formats after the `qs` library's (`indices`, `brackets`, `repeat`,
//! `comma`) and does not document the bytes, so a body here is exactly what
//! `qs.stringify(body, { arrayFormat })` writes with its defaults: nested objects as
//! `a[b]=c`, every key and value percent-encoded as RFC 3986 says (only `A-Z a-z 0-9 - . _ ~`
//! stay; a space is `%20`, brackets are `%5B`/`%5D`), COMMAS joining the items before encoding
//! (`a=x%2Cy`), `null` as an empty value, empty arrays and objects as nothing.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

/// Everything but RFC 3986's unreserved characters.
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `Transform.RequestEncodingOptions.ArrayFormat`: how an array becomes `key=value` pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArrayFormat {
    /// `a[0]=x&a[1]=y` (AWS's default).
    #[default]
    Indices,
    /// `a=x&a=y`.
    Repeat,
    /// `a=x,y`.
    Commas,
    /// `a[]=x&a[]=y`.
    Brackets,
}

impl ArrayFormat {
    /// AWS's spelling of each format.
    pub fn from_name(name: &str) -> Option<ArrayFormat> {
        match name {
            "INDICES" => Some(ArrayFormat::Indices),
            "REPEAT" => Some(ArrayFormat::Repeat),
            "COMMAS" => Some(ArrayFormat::Commas),
            "BRACKETS" => Some(ArrayFormat::Brackets),
            _ => None,
        }
    }
}

/// Encodes a JSON object as an `application/x-www-form-urlencoded` body.
pub fn encode_body(body: &Map<String, Value>, format: ArrayFormat) -> Result<String, String> {
    let mut pairs = Vec::new();
    for (key, value) in body {
        flatten(key.clone(), value, format, &mut pairs)?;
    }
    Ok(join(&pairs))
}

/// Encodes `QueryParameters`: scalars, or arrays of scalars as one pair per item (`a=x&a=y`).
pub fn encode_query(parameters: &Map<String, Value>) -> Result<String, String> {
    let mut pairs = Vec::new();
    for (key, value) in parameters {
        match value {
            Value::Array(items) => {
                for item in items {
                    let text = scalar(item).ok_or_else(|| {
                        format!("QueryParameters.{key}: an array may hold only strings, numbers, booleans")
                    })?;
                    pairs.push((key.clone(), text));
                }
            }
            Value::Object(_) => return Err(format!("QueryParameters.{key}: an object cannot be a query parameter")),
            scalar_value => pairs.push((key.clone(), scalar(scalar_value).unwrap_or_default())),
        }
    }
    Ok(join(&pairs))
}

/// Appends the pairs of `value` under the (unencoded) key `prefix`.
fn flatten(prefix: String, value: &Value, format: ArrayFormat, out: &mut Vec<(String, String)>) -> Result<(), String> {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                flatten(format!("{prefix}[{key}]"), member, format, out)?;
            }
        }
        Value::Array(items) => match format {
            ArrayFormat::Indices => {
                for (i, item) in items.iter().enumerate() {
                    flatten(format!("{prefix}[{i}]"), item, format, out)?;
                }
            }
            ArrayFormat::Brackets => {
                for item in items {
                    flatten(format!("{prefix}[]"), item, format, out)?;
                }
            }
            ArrayFormat::Repeat => {
                for item in items {
                    flatten(prefix.clone(), item, format, out)?;
                }
            }
            ArrayFormat::Commas => {
                // qs would write "[object Object]" for a nested item; refusing is kinder.
                let texts: Option<Vec<String>> = items.iter().map(scalar).collect();
                let texts = texts.ok_or_else(|| {
                    format!("RequestBody.{prefix}: ArrayFormat COMMAS cannot encode an array of arrays or objects")
                })?;
                if !texts.is_empty() {
                    out.push((prefix, texts.join(",")));
                }
            }
        },
        other => out.push((prefix, scalar(other).unwrap_or_default())),
    }
    Ok(())
}

/// The text of a scalar: strings as they are, numbers and booleans as JSON writes them, `null`
/// as nothing; `None` for arrays and objects.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn join(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.extend(utf8_percent_encode(key, RESERVED));
        out.push('=');
        out.extend(utf8_percent_encode(value, RESERVED));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value, format: ArrayFormat) -> String {
        encode_body(value.as_object().unwrap(), format).unwrap()
    }

    #[test]
    fn nested_objects_and_arrays_follow_qs() {
        let value = json!({"a": {"b": [1, {"c": "x y"}]}, "n": null, "e": [], "t": true});
        assert_eq!(
            body(value.clone(), ArrayFormat::Indices),
            "a%5Bb%5D%5B0%5D=1&a%5Bb%5D%5B1%5D%5Bc%5D=x%20y&n=&t=true"
        );
        assert_eq!(body(value, ArrayFormat::Brackets), "a%5Bb%5D%5B%5D=1&a%5Bb%5D%5B%5D%5Bc%5D=x%20y&n=&t=true");
    }

    #[test]
    fn commas_refuse_nested_items() {
        let err = encode_body(json!({"a": [[1]]}).as_object().unwrap(), ArrayFormat::Commas).unwrap_err();
        assert!(err.contains("RequestBody.a"), "{err}");
    }

    #[test]
    fn unreserved_characters_stay() {
        assert_eq!(
            body(json!({"k-._~": "A-z0.9_~*'()!é"}), ArrayFormat::Repeat),
            "k-._~=A-z0.9_~%2A%27%28%29%21%C3%A9"
        );
    }
}
