//! The HTTP binding of the rest protocols as restJson1 needs it: members bound to the URI
//! (`{Label}`, greedy `{Key+}`), the query string, single headers and prefixed header maps in a
//! request; headers and the status code in a response. Kept narrow (two functions) so the shared
//! `rest` module can take its place.
//!
//! Owns: percent-encoding and the text form of scalars in those places. Must not: touch bodies.

use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use super::json_shape::{is_pascal_of, pascal, timestamp_from_state, timestamp_to_state};
use super::{InvalidParameters, MalformedResponse, Request, Response};
use crate::integrations::aws::model::{Member, Operation, Service, Shape, ShapeKind};

/// RFC 3986's unreserved characters stay; everything else is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// A greedy label keeps its slashes.
const GREEDY: &AsciiSet = &UNRESERVED.remove(b'/');

/// The request line, bound headers and host prefix of `operation` (its body left empty).
pub fn bind(
    service: &Service,
    operation: &Operation,
    shape: Option<&Shape>,
    input: &Value,
) -> Result<Request, InvalidParameters> {
    let empty = Map::new();
    let fields = input.as_object().unwrap_or(&empty);
    let given =
        |name: &str| fields.iter().find(|(k, _)| is_pascal_of(k, name)).map(|(_, v)| v).filter(|v| !v.is_null());
    let (template, fixed_query) = match operation.http.request_uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (operation.http.request_uri.as_str(), None),
    };
    let mut path = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let close =
            rest[open..].find('}').map(|c| open + c).ok_or_else(|| InvalidParameters("bad URI template".into()))?;
        let label = &rest[open + 1..close];
        let (label, greedy) = label.strip_suffix('+').map_or((label, false), |l| (l, true));
        let (name, member) = shape
            .and_then(|s| {
                s.members.iter().find(|(n, m)| {
                    m.location.as_deref() == Some("uri") && m.location_name.as_deref().unwrap_or(n) == label
                })
            })
            .ok_or_else(|| InvalidParameters(format!("the model binds no member to {{{label}}}")))?;
        let value =
            given(name).ok_or_else(|| InvalidParameters(format!("the field \"{}\" is required", pascal(name))))?;
        let text = scalar_text(service, member, value, Place::Uri, name)?;
        path.extend(utf8_percent_encode(&text, if greedy { GREEDY } else { UNRESERVED }));
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    let mut query: Vec<(String, String)> = Vec::new();
    for pair in fixed_query.into_iter().flat_map(|q| q.split('&')).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query.push((k.to_owned(), v.to_owned()));
    }
    let mut headers = Vec::new();
    let mut host_prefix = operation.host_prefix.clone();
    for (name, member) in shape.iter().flat_map(|s| s.members.iter()) {
        if member.host_label
            && let (Some(prefix), Some(value)) = (&mut host_prefix, given(name))
        {
            let text = scalar_text(service, member, value, Place::Uri, name)?;
            *prefix = prefix.replace(&format!("{{{name}}}"), &text);
        }
        let Some(value) = given(name) else { continue };
        let wire = member.location_name.as_deref().unwrap_or(name);
        let target = service.shape(&member.shape).map_err(|e| InvalidParameters(e.to_string()))?;
        match member.location.as_deref() {
            Some("querystring") => match (target.kind, value) {
                (ShapeKind::List, Value::Array(items)) => {
                    let item = target.member.as_ref().ok_or_else(|| InvalidParameters("list without member".into()))?;
                    for v in items {
                        query.push((encode(wire), encode(&scalar_text(service, item, v, Place::Query, name)?)));
                    }
                }
                (ShapeKind::Map, Value::Object(entries)) => {
                    for (k, v) in entries {
                        let values = match v {
                            Value::Array(items) => items.iter().collect(),
                            v => vec![v],
                        };
                        for v in values {
                            let text = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
                            query.push((encode(k), encode(&text)));
                        }
                    }
                }
                _ => query.push((encode(wire), encode(&scalar_text(service, member, value, Place::Query, name)?))),
            },
            Some("header") => {
                let text = match (target.kind, value) {
                    (ShapeKind::List, Value::Array(items)) => {
                        let item =
                            target.member.as_ref().ok_or_else(|| InvalidParameters("list without member".into()))?;
                        let texts = items.iter().map(|v| scalar_text(service, item, v, Place::Header, name));
                        texts.collect::<Result<Vec<_>, _>>()?.join(",")
                    }
                    _ => scalar_text(service, member, value, Place::Header, name)?,
                };
                headers.push((wire.to_ascii_lowercase(), text));
            }
            Some("headers") => {
                let Value::Object(entries) = value else { return Err(wrong(name, "an object")) };
                for (k, v) in entries {
                    let text = v.as_str().ok_or_else(|| wrong(name, "an object of strings"))?;
                    headers.push((format!("{wire}{k}").to_ascii_lowercase(), text.to_owned()));
                }
            }
            _ => {}
        }
    }
    let mut path_and_query = path;
    for (i, (k, v)) in query.iter().enumerate() {
        path_and_query.push(if i == 0 { '?' } else { '&' });
        path_and_query.push_str(k);
        path_and_query.push('=');
        path_and_query.push_str(v);
    }
    Ok(Request { method: operation.http.method.clone(), path_and_query, headers, body: Vec::new(), host_prefix })
}

/// The output members bound to headers and the status code.
pub fn unbind(
    service: &Service,
    shape: &Shape,
    response: &Response<'_>,
) -> Result<Map<String, Value>, MalformedResponse> {
    let mut out = Map::new();
    for (name, member) in shape.members.iter() {
        let wire = member.location_name.as_deref().unwrap_or(name).to_ascii_lowercase();
        let value = match member.location.as_deref() {
            Some("statusCode") => Some(Value::from(response.status)),
            Some("header") => match response.headers.iter().find(|(n, _)| *n == wire) {
                Some((_, text)) => Some(header_value(service, member, text)?),
                None => None,
            },
            Some("headers") => {
                let entries: Map<String, Value> = response
                    .headers
                    .iter()
                    .filter_map(|(n, v)| {
                        n.strip_prefix(wire.as_str()).map(|k| (k.to_owned(), Value::String(v.clone())))
                    })
                    .collect();
                (!entries.is_empty()).then_some(Value::Object(entries))
            }
            _ => None,
        };
        if let Some(v) = value {
            out.insert(pascal(name).into_owned(), v);
        }
    }
    Ok(out)
}

fn header_value(service: &Service, member: &Member, text: &str) -> Result<Value, MalformedResponse> {
    let shape = service.shape(&member.shape).map_err(|e| MalformedResponse(e.to_string()))?;
    let bad = || MalformedResponse(format!("header {text:?} is not a {:?}", shape.kind));
    Ok(match shape.kind {
        ShapeKind::String if member.jsonvalue => {
            let raw = base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| bad())?;
            serde_json::from_slice(&raw).map_err(|_| bad())?
        }
        ShapeKind::Integer | ShapeKind::Long | ShapeKind::Short | ShapeKind::Byte => {
            Value::from(text.trim().parse::<i64>().map_err(|_| bad())?)
        }
        ShapeKind::Float | ShapeKind::Double => Value::from(text.trim().parse::<f64>().map_err(|_| bad())?),
        ShapeKind::Boolean => Value::Bool(text.trim().eq_ignore_ascii_case("true")),
        ShapeKind::Timestamp => {
            let t = timestamp_from_state(&Value::String(text.to_owned())).ok_or_else(bad)?;
            Value::String(timestamp_to_state(&t))
        }
        ShapeKind::List => Value::Array(text.split(',').map(|s| Value::String(s.trim().to_owned())).collect()),
        _ => Value::String(text.to_owned()),
    })
}

#[derive(Clone, Copy)]
enum Place {
    Uri,
    Query,
    Header,
}

/// A scalar parameter as text for the URI, query string or a header.
fn scalar_text(
    service: &Service,
    member: &Member,
    value: &Value,
    place: Place,
    name: &str,
) -> Result<String, InvalidParameters> {
    let shape = service.shape(&member.shape).map_err(|e| InvalidParameters(e.to_string()))?;
    Ok(match (shape.kind, value) {
        (ShapeKind::String, v) if member.jsonvalue => base64::engine::general_purpose::STANDARD.encode(v.to_string()),
        (ShapeKind::String | ShapeKind::Blob, Value::String(s)) => s.clone(),
        (ShapeKind::Boolean, Value::Bool(b)) => b.to_string(),
        (ShapeKind::Timestamp, v) => {
            let t = timestamp_from_state(v).ok_or_else(|| wrong(name, "a timestamp"))?;
            let format = member.timestamp_format.as_deref().or(shape.timestamp_format.as_deref());
            match (format, place) {
                (Some("unixTimestamp"), _) => t.timestamp().to_string(),
                (Some("rfc822"), _) | (None, Place::Header) => t.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                _ => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            }
        }
        (
            ShapeKind::Integer
            | ShapeKind::Long
            | ShapeKind::Short
            | ShapeKind::Byte
            | ShapeKind::Float
            | ShapeKind::Double,
            Value::Number(n),
        ) => n.to_string(),
        _ => return Err(wrong(name, "a scalar of the member's type")),
    })
}

fn wrong(name: &str, what: &str) -> InvalidParameters {
    InvalidParameters(format!("the field \"{}\" must be {what}", pascal(name)))
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}
