//! Scalars as text: how a JSON scalar of the Task's parameters is written where the wire holds
//! text (query strings, XML, headers, URI labels), and how such text is read back into the
//! JSON type its shape declares. Blobs are base64 strings in the state both ways, so their
//! text passes through; timestamps follow `timestamp`.
//!
//! Owns: the scalar kinds' text forms. Must not: know where the text goes (a protocol or
//! `rest` picks the timestamp format for the location).

use serde_json::{Number, Value};

use super::timestamp::{self, Format};
use super::{InvalidParameters, MalformedResponse};
use crate::integrations::aws::model::{Member, Shape, ShapeKind};

/// The timestamp format for a member: its own `timestampFormat`, its shape's, else `default`.
pub fn timestamp_format(member: Option<&Member>, shape: &Shape, default: Format) -> Format {
    let explicit = member.and_then(|m| m.timestamp_format.as_deref()).or(shape.timestamp_format.as_deref());
    Format::from_model(explicit, default)
}

fn wrong(path: &str, kind: ShapeKind, value: &Value) -> InvalidParameters {
    let kind = format!("{kind:?}").to_lowercase();
    InvalidParameters(format!("{path}: expected {kind}, got {value}"))
}

/// Writes a scalar parameter as text. `path` names it in errors (`Attributes.entry.1.value`).
pub fn to_text(shape: &Shape, format: Format, value: &Value, path: &str) -> Result<String, InvalidParameters> {
    let kind = shape.kind;
    let text = match (kind, value) {
        (ShapeKind::String | ShapeKind::Blob, Value::String(s)) => s.clone(),
        // A string member given a number or boolean: its JSON text is what the user means.
        (ShapeKind::String, Value::Number(_) | Value::Bool(_)) => value.to_string(),
        (ShapeKind::Boolean, Value::Bool(b)) => b.to_string(),
        (
            ShapeKind::Integer | ShapeKind::Long | ShapeKind::Short | ShapeKind::Byte | ShapeKind::BigInteger,
            Value::Number(n),
        ) if n.is_i64() || n.is_u64() => n.to_string(),
        (ShapeKind::Float | ShapeKind::Double | ShapeKind::BigDecimal, Value::Number(n)) => n.to_string(),
        (ShapeKind::Timestamp, v) => {
            let t = timestamp::from_state(v).ok_or_else(|| wrong(path, kind, value))?;
            timestamp::to_wire(&t, format)
        }
        _ => return Err(wrong(path, kind, value)),
    };
    Ok(text)
}

/// Reads a scalar from the text the service sent, typed by its shape. Timestamps become the
/// state's ISO-8601 form; an empty number or boolean is absent (`None`).
pub fn from_text(shape: &Shape, text: &str) -> Result<Option<Value>, MalformedResponse> {
    let bad = || MalformedResponse(format!("'{text}' is not a {:?}", shape.kind));
    let value = match shape.kind {
        ShapeKind::String | ShapeKind::Blob => Value::String(text.to_owned()),
        _ if text.trim().is_empty() => return Ok(None),
        ShapeKind::Boolean => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        ShapeKind::Integer | ShapeKind::Long | ShapeKind::Short | ShapeKind::Byte | ShapeKind::BigInteger => {
            let t = text.trim();
            match t.parse::<i64>() {
                Ok(i) => Value::from(i),
                Err(_) => Value::Number(t.parse::<Number>().map_err(|_| bad())?),
            }
        }
        ShapeKind::Float | ShapeKind::Double | ShapeKind::BigDecimal => {
            let t = text.trim();
            match t.parse::<f64>() {
                // JSON has no NaN or infinities: they stay the service's words.
                Ok(f) if !f.is_finite() => Value::String(t.to_owned()),
                Ok(_) => Value::Number(t.parse::<Number>().map_err(|_| bad())?),
                Err(_) => return Err(bad()),
            }
        }
        ShapeKind::Timestamp => Value::String(timestamp::to_state(&timestamp::parse_wire(text).ok_or_else(bad)?)),
        ShapeKind::Structure | ShapeKind::List | ShapeKind::Map => return Err(bad()),
    };
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape(kind: &str) -> Shape {
        serde_json::from_value(json!({ "type": kind })).unwrap()
    }

    #[test]
    fn parameters_become_their_wire_text() {
        let iso = Format::Iso8601;
        assert_eq!(to_text(&shape("string"), iso, &json!("a b"), "P").unwrap(), "a b");
        assert_eq!(to_text(&shape("string"), iso, &json!(12), "P").unwrap(), "12");
        assert_eq!(to_text(&shape("boolean"), iso, &json!(false), "P").unwrap(), "false");
        assert_eq!(to_text(&shape("integer"), iso, &json!(-3), "P").unwrap(), "-3");
        assert_eq!(to_text(&shape("double"), iso, &json!(1.5), "P").unwrap(), "1.5");
        assert_eq!(to_text(&shape("blob"), iso, &json!("aGk="), "P").unwrap(), "aGk=");
        assert_eq!(
            to_text(&shape("timestamp"), Format::HttpDate, &json!(0), "P").unwrap(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn a_parameter_of_the_wrong_type_is_refused_with_its_path() {
        let e = to_text(&shape("integer"), Format::Iso8601, &json!("7"), "Limits.Max").unwrap_err();
        assert_eq!(e.0, "Limits.Max: expected integer, got \"7\"");
        assert!(to_text(&shape("integer"), Format::Iso8601, &json!(1.5), "P").is_err());
        assert!(to_text(&shape("boolean"), Format::Iso8601, &json!(1), "P").is_err());
        assert!(to_text(&shape("timestamp"), Format::Iso8601, &json!("soon"), "P").is_err());
    }

    #[test]
    fn wire_text_becomes_the_json_type_of_its_shape() {
        assert_eq!(from_text(&shape("integer"), " 42 ").unwrap(), Some(json!(42)));
        assert_eq!(from_text(&shape("long"), "9007199254740993").unwrap(), Some(json!(9007199254740993i64)));
        assert_eq!(from_text(&shape("double"), "0.25").unwrap(), Some(json!(0.25)));
        assert_eq!(from_text(&shape("float"), "NaN").unwrap(), Some(json!("NaN")));
        assert_eq!(from_text(&shape("boolean"), "true").unwrap(), Some(json!(true)));
        assert_eq!(from_text(&shape("string"), "").unwrap(), Some(json!("")));
        assert_eq!(from_text(&shape("integer"), "").unwrap(), None);
        assert_eq!(
            from_text(&shape("timestamp"), "2014-04-29T18:30:38Z").unwrap(),
            Some(json!("2014-04-29T18:30:38.000Z"))
        );
        assert!(from_text(&shape("boolean"), "yes").is_err());
        assert!(from_text(&shape("integer"), "x").is_err());
    }
}
