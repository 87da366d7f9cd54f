//! The HTTP binding of both rest protocols (restJson1 and restXml): which parameters go into
//! the URI, the query string and the headers, and which make the body; and, for a response, the
//! members read from headers and the status code. The protocols write and read only the body
//! document, so a fix here reaches both.
//!
//! Parameters name members as Step Functions does: the model's name, or its PascalCase form
//! ("Parameters in Step Functions are expressed in PascalCase, even if the native service API is
//! in camelCase": Batch's `jobName` is given as `JobName`). Output members carry that PascalCase
//! form too, as the JSON protocols' bodies do (S3's and the query services' names already are).
//!
//! Request, by each input member's `location`:
//! - `uri`: fills `{Name}` in the operation's `requestUri`, percent-encoded; `{Name+}` (greedy)
//!   keeps its `/`s. A missing label is an error.
//! - `querystring`: `name=value`; a list repeats the name; a map (`location` on a map member)
//!   adds each key, unless a member already bound that key. Literal query parts of the
//!   `requestUri` (`?delete`, `?list-type=2`) come first.
//! - `header`: the value's text; timestamps as RFC 7231 dates; lists comma-separated (quoted
//!   when an item holds a comma or quote); `jsonvalue` members as base64 JSON. `headers`: a map
//!   whose keys are appended to the prefix (`x-amz-meta-`).
//! - `hostLabel` members fill the operation's `hostPrefix` (`{AccountId}.`).
//! - the shape's `payload` member is the whole body: a blob or string is written here, as the
//!   protocol's [`Blobs`] says; a structure is left to the protocol. Without a payload, the
//!   members with no location are the body.
//! - an absent `idempotencyToken` member gets a fresh UUID.
//!
//! Response: `header` and `headers` members from the headers (timestamps in any format),
//! `statusCode` from the status, and a blob or string payload from the body (`rest_response`).
//!
//! Owns: the bindings and the member-name matching of the top-level parameters. Must not: write
//! or read a body document, sign or send.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use super::json_shape::{is_pascal_of, pascal, unsupported_field};
use super::timestamp::Format;
use super::{InvalidParameters, Request, scalar};
use crate::integrations::aws::model::{Member, Operation, Service, Shape, ShapeKind};

/// RFC 3986's unreserved characters: everything else is percent-encoded.
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
const GREEDY: &AsciiSet = &UNRESERVED.remove(b'/');

/// How a blob payload (the whole body) travels between the state and the wire: the protocol
/// decides. A string payload is its text either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blobs {
    /// restXml: a base64 string in the state, the decoded bytes on the wire; a streaming blob
    /// (S3's `Body`) is the object's text both ways, as Step Functions shows it.
    Base64,
    /// restJson1: the body's text in the state (Lambda Invoke's `Payload`, Bedrock InvokeModel's
    /// `body`): a string parameter is sent as its text, any other JSON as its serialisation,
    /// and the response payload comes back as text.
    Text,
}

/// A request with its HTTP bindings applied; `request.body` is set only for a raw payload.
#[derive(Debug)]
pub struct Bound<'a> {
    pub request: Request,
    pub body: Body<'a>,
}

/// What the protocol still has to write into the body.
#[derive(Debug)]
pub enum Body<'a> {
    /// Nothing: the input has no body members, or its payload member was not given.
    Done,
    /// A blob or string payload, already in `request.body`; `media_type` is the HTTP binding's
    /// default Content-Type for it (restJson1 sends it; restXml leaves it to the parameters, as
    /// S3 keeps what `ContentType` says).
    Raw { media_type: &'static str },
    /// A structure (or list) payload: write `value` as the document of `member`, named `name`.
    Payload { name: &'a str, member: &'a Member, value: &'a Value },
    /// The members without a location that were given (possibly none), by their model names,
    /// for the document of the input shape.
    Members(Map<String, Value>),
}

fn model(e: impl std::fmt::Display) -> InvalidParameters {
    InvalidParameters(e.to_string())
}

/// The parameter for the member `name`: given by that name or its PascalCase form; null is
/// absent.
fn parameter<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    let value = object.get(name).or_else(|| object.iter().find(|(k, _)| is_pascal_of(k, name)).map(|(_, v)| v));
    value.filter(|v| !v.is_null())
}

/// Applies the HTTP bindings of `operation` to `input`.
pub fn bind<'a>(
    service: &'a Service,
    operation: &'a Operation,
    input: &'a Value,
    blobs: Blobs,
) -> Result<Bound<'a>, InvalidParameters> {
    let (template, literal_query) = match operation.http.request_uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (operation.http.request_uri.as_str(), None),
    };
    let mut request = Request { method: operation.http.method.clone(), ..Request::default() };
    let mut query: Vec<(String, Option<String>)> = literal_query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (p.to_owned(), None),
        })
        .collect();
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    let object = match input {
        Value::Object(o) => o,
        Value::Null => EMPTY.get_or_init(Map::new),
        _ => return Err(InvalidParameters("the parameters must be an object".into())),
    };
    let Some(input_ref) = &operation.input else {
        if let Some(unknown) = object.keys().next() {
            return Err(unsupported_field(unknown));
        }
        request.path_and_query = join_query(template.to_owned(), &query);
        return Ok(Bound { request, body: Body::Done });
    };
    let shape = service.shape(&input_ref.shape).map_err(model)?;
    if let Some(unknown) = object.keys().find(|k| !shape.members.iter().any(|(n, _)| *k == n || is_pascal_of(k, n))) {
        return Err(unsupported_field(unknown));
    }
    let mut path = template.to_owned();
    let mut query_maps = Vec::new();
    let mut body_members = Map::new();
    let mut body = Body::Done;
    for (name, member) in shape.members.iter() {
        let target = service.shape(&member.shape).map_err(model)?;
        let given = parameter(object, name);
        let token = match given {
            Some(_) => None,
            None if member.idempotency_token => Some(Value::String(uuid::Uuid::new_v4().to_string())),
            None => continue,
        };
        let Some(value) = given.or(token.as_ref()) else { continue };
        let wire = member.location_name.as_deref().unwrap_or(name);
        let state_name = pascal(name);
        match member.location.as_deref() {
            Some("uri") => {
                let text = scalar::to_text(
                    target,
                    scalar::timestamp_format(Some(member), target, Format::Iso8601),
                    value,
                    &state_name,
                )?;
                let greedy = format!("{{{wire}+}}");
                if path.contains(&greedy) {
                    path = path.replace(&greedy, &utf8_percent_encode(&text, GREEDY).to_string());
                } else {
                    path = path.replace(&format!("{{{wire}}}"), &utf8_percent_encode(&text, UNRESERVED).to_string());
                }
            }
            Some("querystring") if target.kind == ShapeKind::Map => query_maps.push((target, value.clone(), name)),
            Some("querystring") => {
                for text in texts(service, member, target, value, &state_name, Format::Iso8601)? {
                    query.push((wire.to_owned(), Some(text)));
                }
            }
            Some("header") => {
                let header = header_text(service, member, target, value, &state_name)?;
                request.headers.push((wire.to_ascii_lowercase(), header));
            }
            Some("headers") => {
                let map =
                    value.as_object().ok_or_else(|| InvalidParameters(format!("{state_name}: expected an object")))?;
                let value_shape = target.value.as_ref().ok_or_else(|| model("map without value"))?;
                let value_target = service.shape(&value_shape.shape).map_err(model)?;
                for (k, v) in map {
                    let text = scalar::to_text(value_target, Format::HttpDate, v, &format!("{state_name}.{k}"))?;
                    request.headers.push((format!("{wire}{k}").to_ascii_lowercase(), text));
                }
            }
            Some(other) if other != "statusCode" => return Err(model(format!("unknown location {other}"))),
            Some(_) => {}
            None if shape.payload.as_deref() == Some(name) => match (target.kind, given) {
                (ShapeKind::Blob | ShapeKind::String, _) => {
                    request.body = raw_payload(member, target, value, &state_name, blobs)?;
                    let media_type =
                        if target.kind == ShapeKind::Blob { "application/octet-stream" } else { "text/plain" };
                    body = Body::Raw { media_type };
                }
                // A structure payload is never an idempotency token, so it was given.
                (_, Some(given)) => body = Body::Payload { name: wire, member, value: given },
                (_, None) => {}
            },
            None => {
                body_members.insert(name.to_owned(), value.clone());
            }
        }
    }
    for (target, value, name) in query_maps {
        add_query_map(service, &mut query, target, &value, &pascal(name))?;
    }
    if let Some(label) = path.split('{').nth(1) {
        let label = label.split('}').next().unwrap_or_default().trim_end_matches('+');
        let member = shape
            .members
            .iter()
            .find(|(n, m)| m.location.as_deref() == Some("uri") && m.location_name.as_deref().unwrap_or(n) == label);
        let name = member.map_or(label.into(), |(n, _)| pascal(n));
        return Err(InvalidParameters(format!("{name}: required, as it is part of the URI")));
    }
    request.path_and_query = join_query(path, &query);
    request.host_prefix = host_prefix(operation, shape, object)?;
    if shape.payload.is_none() && shape.members.iter().any(|(_, m)| m.location.is_none()) {
        body = Body::Members(body_members);
    }
    Ok(Bound { request, body })
}

fn join_query(path: String, query: &[(String, Option<String>)]) -> String {
    if query.is_empty() {
        return path;
    }
    let pairs: Vec<String> = query
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{}={}", utf8_percent_encode(k, UNRESERVED), utf8_percent_encode(v, UNRESERVED)),
            None => utf8_percent_encode(k, UNRESERVED).to_string(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// A scalar's text, or a list's items' texts.
fn texts(
    service: &Service,
    member: &Member,
    target: &Shape,
    value: &Value,
    path: &str,
    default: Format,
) -> Result<Vec<String>, InvalidParameters> {
    if target.kind != ShapeKind::List {
        let format = scalar::timestamp_format(Some(member), target, default);
        return Ok(vec![scalar::to_text(target, format, value, path)?]);
    }
    let item = target.member.as_ref().ok_or_else(|| model("list without member"))?;
    let item_shape = service.shape(&item.shape).map_err(model)?;
    let items = value.as_array().ok_or_else(|| InvalidParameters(format!("{path}: expected an array")))?;
    let format =
        scalar::timestamp_format(Some(item), item_shape, scalar::timestamp_format(Some(member), target, default));
    items.iter().enumerate().map(|(i, v)| scalar::to_text(item_shape, format, v, &format!("{path}[{i}]"))).collect()
}

fn header_text(
    service: &Service,
    member: &Member,
    target: &Shape,
    value: &Value,
    path: &str,
) -> Result<String, InvalidParameters> {
    if member.jsonvalue {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Ok(BASE64.encode(text));
    }
    let texts = texts(service, member, target, value, path, Format::HttpDate)?;
    if target.kind != ShapeKind::List {
        return Ok(texts.into_iter().next().unwrap_or_default());
    }
    let quoted: Vec<String> = texts
        .into_iter()
        .map(|t| {
            if t.contains(',') || t.contains('"') {
                format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""))
            } else {
                t
            }
        })
        .collect();
    Ok(quoted.join(", "))
}

fn add_query_map(
    service: &Service,
    query: &mut Vec<(String, Option<String>)>,
    target: &Shape,
    value: &Value,
    path: &str,
) -> Result<(), InvalidParameters> {
    let map = value.as_object().ok_or_else(|| InvalidParameters(format!("{path}: expected an object")))?;
    let value_member = target.value.as_ref().ok_or_else(|| model("map without value"))?;
    let value_shape = service.shape(&value_member.shape).map_err(model)?;
    for (k, v) in map {
        // A member bound to the same key wins over the map (smithy's httpQueryParams).
        if query.iter().any(|(q, _)| q == k) {
            continue;
        }
        for text in texts(service, value_member, value_shape, v, &format!("{path}.{k}"), Format::Iso8601)? {
            query.push((k.clone(), Some(text)));
        }
    }
    Ok(())
}

fn host_prefix(
    operation: &Operation,
    shape: &Shape,
    object: &Map<String, Value>,
) -> Result<Option<String>, InvalidParameters> {
    let Some(template) = &operation.host_prefix else { return Ok(None) };
    let mut prefix = template.clone();
    for name in shape.members.iter().filter(|(_, m)| m.host_label).map(|(n, _)| n) {
        let state_name = pascal(name);
        let label = match parameter(object, name) {
            Some(Value::String(s)) => s,
            _ => return Err(InvalidParameters(format!("{state_name}: required, as it is part of the host name"))),
        };
        if label.is_empty() || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(InvalidParameters(format!("{state_name}: '{label}' is not a valid host name label")));
        }
        prefix = prefix.replace(&format!("{{{name}}}"), label);
    }
    Ok(Some(prefix))
}

fn raw_payload(
    member: &Member,
    target: &Shape,
    value: &Value,
    path: &str,
    blobs: Blobs,
) -> Result<Vec<u8>, InvalidParameters> {
    let s = match value {
        Value::String(s) => s,
        other if blobs == Blobs::Text && target.kind == ShapeKind::Blob => return Ok(other.to_string().into_bytes()),
        _ => return Err(InvalidParameters(format!("{path}: expected a string"))),
    };
    if blobs == Blobs::Base64 && target.kind == ShapeKind::Blob && !(member.streaming || target.streaming) {
        return BASE64.decode(s).map_err(|e| InvalidParameters(format!("{path}: not base64: {e}")));
    }
    Ok(s.clone().into_bytes())
}

#[path = "rest_response.rs"]
mod response;
pub use response::{BodyOut, read};
