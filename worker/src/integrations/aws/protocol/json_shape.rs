//! JSON bodies by shape, for both JSON protocols (awsJson 1.0/1.1 and restJson1): the Task's
//! parameters become the wire's JSON, and the wire's JSON becomes the result as Step Functions
//! shows it.
//!
//! Shapes on the wire and in the state:
//! - timestamps: epoch seconds on the wire (unless the model says otherwise); in the state an
//!   ISO-8601 UTC string with milliseconds (`2014-04-29T18:30:38.000Z`), as Step Functions shows
//!   the Java SDK's `Instant`s; a parameter may be such a string or a number of epoch seconds.
//! - blobs: base64 strings on the wire and in the state alike, so they pass through.
//! - everything else keeps its JSON type; a member named with `locationName` is renamed.
//!
//! Owns: the walk over shapes and the parameter type checks. Must not: bind HTTP locations (the
//! caller removes members bound to the URI, query string or headers before calling).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{InvalidParameters, MalformedResponse};
use crate::integrations::aws::model::{Member, Service, Shape, ShapeKind};

/// Writes the wire JSON of the structure `shape` from the Task's parameters to `out`, leaving
/// out members that `skip` says are bound elsewhere. Written straight to bytes, not built as a
/// `Value` first: on DynamoDB's PutItem the intermediate `Value` (a map per attribute) and its
/// serialisation cost more than the checks. On an error `out` holds a partial document.
pub fn write_structure(
    out: &mut Vec<u8>,
    service: &Service,
    shape: &Shape,
    input: &Value,
    skip: &dyn Fn(&Member) -> bool,
) -> Result<(), InvalidParameters> {
    let Value::Object(fields) = input else {
        return Err(InvalidParameters(format!(
            "the parameters must be an object, not {}",
            shared::asl::path::type_with_article(input)
        )));
    };
    for key in fields.keys() {
        if !shape.members.iter().any(|(name, _)| is_pascal_of(key, name)) {
            return Err(unsupported_field(key));
        }
    }
    out.push(b'{');
    let mut first = true;
    for (name, member) in shape.members.iter() {
        if skip(member) {
            continue;
        }
        let wire = member.location_name.as_deref().unwrap_or(name);
        let given = fields.iter().find(|(k, _)| is_pascal_of(k, name)).map(|(_, v)| v);
        match given {
            None | Some(Value::Null) if member.idempotency_token => {
                write_key(out, &mut first, wire);
                write_leaf(out, &Value::String(uuid::Uuid::new_v4().to_string()))?;
            }
            None | Some(Value::Null) => {}
            Some(v) => {
                write_key(out, &mut first, wire);
                write(out, service, member, v, &|| pascal(name).into_owned())?;
            }
        }
    }
    out.push(b'}');
    Ok(())
}

/// Step Functions' words for a parameter the API does not have.
pub fn unsupported_field(name: &str) -> InvalidParameters {
    InvalidParameters(format!("The field \"{name}\" is not supported by Step Functions"))
}

/// One value of `member`'s shape, for the wire, as a `Value` (restJson1's members one by one).
/// `path` names the value in errors; it is only called when there is one.
pub fn encode(
    service: &Service,
    member: &Member,
    value: &Value,
    path: &dyn Fn() -> String,
) -> Result<Value, InvalidParameters> {
    let mut out = Vec::new();
    write(&mut out, service, member, value, path)?;
    serde_json::from_slice(&out).map_err(|e| InvalidParameters(e.to_string()))
}

/// Writes one value of `member`'s shape, for the wire, to `out`.
fn write(
    out: &mut Vec<u8>,
    service: &Service,
    member: &Member,
    value: &Value,
    path: &dyn Fn() -> String,
) -> Result<(), InvalidParameters> {
    let shape = service.shape(&member.shape).map_err(|e| InvalidParameters(e.to_string()))?;
    let wrong = || {
        InvalidParameters(format!(
            "the field \"{}\" must be {}, not {}",
            path(),
            expected(shape.kind),
            shared::asl::path::type_with_article(value)
        ))
    };
    match shape.kind {
        _ if shape.document => write_leaf(out, value),
        ShapeKind::Structure => write_structure(out, service, shape, value, &|_| false)
            .map_err(|e| InvalidParameters(format!("{}: {}", path(), e.0))),
        ShapeKind::List => {
            let (Value::Array(items), Some(m)) = (value, &shape.member) else { return Err(wrong()) };
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, service, m, v, &|| format!("{}[{i}]", path()))?;
            }
            out.push(b']');
            Ok(())
        }
        ShapeKind::Map => {
            let (Value::Object(entries), Some(v)) = (value, &shape.value) else { return Err(wrong()) };
            out.push(b'{');
            let mut first = true;
            for (k, x) in entries {
                write_key(out, &mut first, k);
                write(out, service, v, x, &|| format!("{}.{k}", path()))?;
            }
            out.push(b'}');
            Ok(())
        }
        ShapeKind::Timestamp => {
            let t = timestamp_from_state(value).ok_or_else(wrong)?;
            let format = member.timestamp_format.as_deref().or(shape.timestamp_format.as_deref());
            let wire = match format {
                Some("iso8601") => Value::String(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
                Some("rfc822") => Value::String(t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()),
                _ => epoch_value(&t),
            };
            write_leaf(out, &wire)
        }
        ShapeKind::String | ShapeKind::Blob if value.is_string() => write_leaf(out, value),
        ShapeKind::Boolean if value.is_boolean() => write_leaf(out, value),
        ShapeKind::Integer | ShapeKind::Long | ShapeKind::Short | ShapeKind::Byte | ShapeKind::BigInteger
            if value.is_i64() || value.is_u64() =>
        {
            write_leaf(out, value)
        }
        ShapeKind::Float | ShapeKind::Double | ShapeKind::BigDecimal if value.is_number() => write_leaf(out, value),
        _ => Err(wrong()),
    }
}

/// `,"key":` (no comma before the first member).
fn write_key(out: &mut Vec<u8>, first: &mut bool, key: &str) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    // A `&str` always serialises.
    let _ = serde_json::to_writer(&mut *out, key);
    out.push(b':');
}

fn write_leaf(out: &mut Vec<u8>, value: &Value) -> Result<(), InvalidParameters> {
    serde_json::to_writer(out, value).map_err(|e| InvalidParameters(e.to_string()))
}

/// The result as Step Functions shows it from the wire's JSON of `shape_name`.
pub fn decode(service: &Service, shape_name: &str, value: Value) -> Result<Value, MalformedResponse> {
    let shape = service.shape(shape_name).map_err(|e| MalformedResponse(e.to_string()))?;
    Ok(match (shape.kind, value) {
        (_, v) if shape.document => v,
        (ShapeKind::Structure, Value::Object(fields)) => Value::Object(decode_fields(service, shape, fields)?),
        (ShapeKind::List, Value::Array(items)) => match &shape.member {
            Some(m) => Value::Array(items.into_iter().map(|v| decode(service, &m.shape, v)).collect::<Result<_, _>>()?),
            None => Value::Array(items),
        },
        (ShapeKind::Map, Value::Object(entries)) => match &shape.value {
            Some(m) => {
                let mut out = Map::new();
                for (k, v) in entries {
                    out.insert(k, decode(service, &m.shape, v)?);
                }
                Value::Object(out)
            }
            None => Value::Object(entries),
        },
        (ShapeKind::Timestamp, v) => match timestamp_from_state(&v) {
            Some(t) => Value::String(timestamp_to_state(&t)),
            None => return Err(MalformedResponse(format!("a timestamp that is not one: {v}"))),
        },
        (_, v) => v,
    })
}

/// The members of a structure from the wire's object, by their API names.
pub fn decode_fields(
    service: &Service,
    shape: &Shape,
    fields: Map<String, Value>,
) -> Result<Map<String, Value>, MalformedResponse> {
    let mut out = Map::new();
    for (wire, v) in fields {
        let found = shape
            .members
            .iter()
            .find(|(name, m)| m.location.is_none() && m.location_name.as_deref().unwrap_or(name) == wire);
        match found {
            Some((name, m)) => {
                out.insert(pascal(name).into_owned(), decode(service, &m.shape, v)?);
            }
            // A member newer than the embedded model: kept as the service sent it.
            None => {
                out.insert(wire, v);
            }
        }
    }
    Ok(out)
}

/// A member's name as Step Functions spells it: the model's name with its first letter in
/// upper case (`jobName` → `JobName`), "even if the native service API is in camelCase".
pub fn pascal(name: &str) -> std::borrow::Cow<'_, str> {
    match name.chars().next() {
        Some(c) if c.is_ascii_lowercase() => format!("{}{}", c.to_ascii_uppercase(), &name[1..]).into(),
        _ => name.into(),
    }
}

/// Whether the parameter `key` names the member `name` (`JobName` for `jobName`).
pub fn is_pascal_of(key: &str, name: &str) -> bool {
    key.len() == name.len()
        && key.as_bytes().first() == name.as_bytes().first().map(u8::to_ascii_uppercase).as_ref()
        && key.as_bytes()[1..] == name.as_bytes()[1..]
}

/// A timestamp as the state sees it: `YYYY-MM-DDTHH:MM:SS.sssZ`.
pub fn timestamp_to_state(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A timestamp from the Task's parameters (or a JSON wire): ISO-8601, an HTTP date, or epoch
/// seconds as a number or a numeric string.
pub fn timestamp_from_state(value: &Value) -> Option<DateTime<Utc>> {
    let seconds = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => {
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Some(t.with_timezone(&Utc));
            }
            if let Ok(t) = DateTime::parse_from_rfc2822(s) {
                return Some(t.with_timezone(&Utc));
            }
            s.parse::<f64>().ok()?
        }
        _ => return None,
    };
    seconds.is_finite().then(|| DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)).flatten()
}

fn epoch_value(t: &DateTime<Utc>) -> Value {
    let millis = t.timestamp_subsec_millis();
    if millis == 0 {
        Value::from(t.timestamp())
    } else {
        Value::from(t.timestamp() as f64 + f64::from(millis) / 1000.0)
    }
}

fn expected(kind: ShapeKind) -> &'static str {
    match kind {
        ShapeKind::Structure | ShapeKind::Map => "an object",
        ShapeKind::List => "an array",
        ShapeKind::Boolean => "a boolean",
        ShapeKind::Integer | ShapeKind::Long | ShapeKind::Short | ShapeKind::Byte | ShapeKind::BigInteger => {
            "an integer"
        }
        ShapeKind::Float | ShapeKind::Double | ShapeKind::BigDecimal => "a number",
        ShapeKind::Timestamp => "a timestamp (ISO-8601 or epoch seconds)",
        ShapeKind::Blob => "a base64 string",
        ShapeKind::String => "a string",
    }
}
