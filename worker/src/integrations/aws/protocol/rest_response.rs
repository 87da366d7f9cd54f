//! The response half of `rest`: members bound to headers and the status code, and a blob or
//! string payload (as the protocol's [`Blobs`] says), each under the member's PascalCase name;
//! the protocol reads any body document.
//!
//! Owns: reading headers, the status and raw payloads. Must not: parse a body document.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::super::json_shape::pascal;
use super::super::{MalformedResponse, Response, scalar, timestamp};
use super::Blobs;
use crate::integrations::aws::model::{Member, Service, Shape, ShapeKind};

/// What the protocol still has to read from the body.
#[derive(Debug)]
pub enum BodyOut<'a> {
    /// Nothing: no body members, or the payload was a blob or string and is read.
    Done,
    /// The body is the document of this structure member, to be put under `key` (the member's
    /// name in the state). Not given when the body is empty.
    Payload { key: String, member: &'a Member },
    /// The body is the document of the output shape's members without a location.
    Members,
}

fn corrupt(e: impl std::fmt::Display) -> MalformedResponse {
    MalformedResponse(e.to_string())
}

fn header<'r>(response: &'r Response<'_>, name: &str) -> Option<&'r str> {
    let name = name.to_ascii_lowercase();
    response.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
}

/// Reads the members of `shape` that the HTTP response carries outside the body document.
pub fn read<'a>(
    service: &'a Service,
    shape: &'a Shape,
    response: &Response<'_>,
    blobs: Blobs,
) -> Result<(Map<String, Value>, BodyOut<'a>), MalformedResponse> {
    let mut out = Map::new();
    let mut body = BodyOut::Members;
    for (name, member) in shape.members.iter() {
        let target = service.shape(&member.shape).map_err(corrupt)?;
        let wire = member.location_name.as_deref().unwrap_or(name);
        let key = pascal(name).into_owned();
        match member.location.as_deref() {
            Some("header") => {
                if let Some(text) = header(response, wire)
                    && let Some(v) = header_value(service, member, target, text)?
                {
                    out.insert(key, v);
                }
            }
            Some("headers") => {
                let prefix = wire.to_ascii_lowercase();
                let map: Map<String, Value> = response
                    .headers
                    .iter()
                    .filter_map(|(k, v)| {
                        k.strip_prefix(&prefix).map(|rest| (rest.to_owned(), Value::String(v.clone())))
                    })
                    .collect();
                if !map.is_empty() {
                    out.insert(key, Value::Object(map));
                }
            }
            Some("statusCode") => {
                out.insert(key, Value::from(response.status));
            }
            Some(_) => {}
            None if shape.payload.as_deref() == Some(name) => {
                body = match target.kind {
                    ShapeKind::Blob | ShapeKind::String => {
                        if let Some(v) = raw_payload(member, target, response.body, blobs) {
                            out.insert(key, v);
                        }
                        BodyOut::Done
                    }
                    _ if response.body.iter().all(u8::is_ascii_whitespace) => BodyOut::Done,
                    _ => BodyOut::Payload { key, member },
                };
            }
            None => {}
        }
    }
    if shape.payload.is_some() && matches!(body, BodyOut::Members) {
        body = BodyOut::Done;
    }
    Ok((out, body))
}

fn raw_payload(member: &Member, target: &Shape, body: &[u8], blobs: Blobs) -> Option<Value> {
    if target.kind == ShapeKind::String || blobs == Blobs::Text {
        return Some(Value::String(String::from_utf8_lossy(body).into_owned()));
    }
    if member.streaming || target.streaming {
        // Step Functions hands back a streamed object as its text (S3 getObject's `Body`).
        return Some(Value::String(String::from_utf8_lossy(body).into_owned()));
    }
    if body.is_empty() {
        return None;
    }
    Some(Value::String(BASE64.encode(body)))
}

fn header_value(
    service: &Service,
    member: &Member,
    target: &Shape,
    text: &str,
) -> Result<Option<Value>, MalformedResponse> {
    if member.jsonvalue {
        // The header holds base64 of JSON text; the state gets that text, as it gives it.
        let bytes = BASE64.decode(text.trim()).map_err(corrupt)?;
        return Ok(Some(Value::String(String::from_utf8_lossy(&bytes).into_owned())));
    }
    match target.kind {
        ShapeKind::List => {
            let item = target.member.as_ref().ok_or_else(|| corrupt("list without member"))?;
            let item_shape = service.shape(&item.shape).map_err(corrupt)?;
            let mut items = Vec::new();
            for part in split_list(text, item_shape.kind == ShapeKind::Timestamp) {
                items.push(scalar::from_text(item_shape, &part)?.unwrap_or(Value::Null));
            }
            Ok(Some(Value::Array(items)))
        }
        ShapeKind::Timestamp => Ok(timestamp::parse_wire(text).map(|t| Value::String(timestamp::to_state(&t)))),
        _ => scalar::from_text(target, text),
    }
}

/// Splits a header list: items are comma-separated, a quoted item may hold commas and escaped
/// quotes, and HTTP dates (which hold one comma each) are rejoined in pairs.
fn split_list(text: &str, http_dates: bool) -> Vec<String> {
    if http_dates && !text.trim_start().starts_with(|c: char| c.is_ascii_digit()) && text.contains("GMT") {
        let parts: Vec<&str> = text.split(',').collect();
        return parts.chunks(2).map(|pair| pair.join(",").trim().to_owned()).collect();
    }
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => current.extend(chars.next()),
            ',' if !quoted => items.push(std::mem::take(&mut current).trim().to_owned()),
            c => current.push(c),
        }
    }
    items.push(current.trim().to_owned());
    items
}

#[cfg(test)]
mod tests {
    use super::split_list;

    #[test]
    fn header_lists_split_on_commas_outside_quotes() {
        assert_eq!(split_list("a, b,c", false), ["a", "b", "c"]);
        assert_eq!(split_list(r#""a,b", "say \"hi\"", c"#, false), ["a,b", "say \"hi\"", "c"]);
        assert_eq!(
            split_list("Mon, 16 Dec 2019 23:48:18 GMT, Tue, 17 Dec 2019 23:48:18 GMT", true),
            ["Mon, 16 Dec 2019 23:48:18 GMT", "Tue, 17 Dec 2019 23:48:18 GMT"]
        );
    }
}
