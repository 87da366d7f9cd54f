//! awsQuery and its EC2 variant: the request is a form (`Action=Publish&Version=2010-03-31&…`)
//! POSTed to `/`, the parameters flattened into dotted keys; the response is XML.
//!
//! Keys, awsQuery: a member is its `locationName`, else its name; a list is `Name.member.N`
//! (`member` or the item's `locationName`), a flattened list `Name.N` (the item's
//! `locationName` replacing `Name` when it has one); an empty list is `Name=`; a map is
//! `Name.entry.N.key` / `.value` (or the key's and value's `locationName`), flattened
//! `Name.N.key`. EC2: a member is its `queryName`, else its `locationName` capitalised, else its
//! name; every list is `Name.N`, an empty one is left out.
//!
//! Responses, awsQuery: `<OpResponse><OpResult>…</OpResult></OpResponse>`, the result element
//! named by the model's `resultWrapper`; errors `<ErrorResponse><Error><Code/><Message/>
//! </Error><RequestId/></ErrorResponse>`. EC2: `<OpResponse>…</OpResponse>` with no wrapper;
//! errors `<Response><Errors><Error>…</Error></Errors><RequestID/></Response>`.
//!
//! Owns: both directions for both variants. Must not: sign or send.

use percent_encoding::utf8_percent_encode;
use serde_json::{Map, Value};

use super::rest::UNRESERVED;
use super::timestamp::Format;
use super::xml::Element;
use super::{InvalidParameters, MalformedResponse, Outcome, Request, Response, ServiceError};
use super::{error_code, scalar, xml, xml_shape};
use crate::integrations::aws::model::{Member, Operation, Service, Shape, ShapeKind};

/// Which of the two query protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Query,
    Ec2,
}

fn model(e: impl std::fmt::Display) -> InvalidParameters {
    InvalidParameters(e.to_string())
}

/// Builds the form POST for `operation`.
pub fn serialize(
    service: &Service,
    (name, operation): (&str, &Operation),
    input: &Value,
    variant: Variant,
) -> Result<Request, InvalidParameters> {
    let mut pairs = vec![("Action".to_owned(), name.to_owned())];
    let version = service.api_version.clone().ok_or_else(|| model(format!("{}: no apiVersion", service.name)))?;
    pairs.push(("Version".to_owned(), version));
    if let Some(shape) = &operation.input {
        let shape = service.shape(&shape.shape).map_err(model)?;
        let object = match input {
            Value::Object(o) => o,
            Value::Null => &Map::new(),
            _ => return Err(InvalidParameters("the parameters must be an object".into())),
        };
        let form = Form { service, variant };
        form.structure(&mut pairs, shape, object, "")?;
    } else if input.as_object().is_some_and(|o| !o.is_empty()) {
        return Err(InvalidParameters(format!("{name} takes no parameters")));
    }
    let body = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, UNRESERVED), utf8_percent_encode(v, UNRESERVED)))
        .collect::<Vec<_>>()
        .join("&");
    Ok(Request {
        method: operation.http.method.clone(),
        path_and_query: "/".into(),
        headers: vec![("content-type".into(), "application/x-www-form-urlencoded; charset=utf-8".into())],
        body: body.into_bytes(),
        host_prefix: None,
    })
}

struct Form<'a> {
    service: &'a Service,
    variant: Variant,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
}

impl Form<'_> {
    /// The key segment of a member (or of a list item, map key or value, with `default`).
    fn name(&self, member: &Member, default: &str) -> String {
        match self.variant {
            Variant::Query => member.location_name.clone().unwrap_or_else(|| default.to_owned()),
            Variant::Ec2 => match (&member.query_name, &member.location_name) {
                (Some(q), _) => q.clone(),
                (None, Some(l)) => {
                    let mut c = l.chars();
                    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
                }
                (None, None) => default.to_owned(),
            },
        }
    }

    fn structure(
        &self,
        out: &mut Vec<(String, String)>,
        shape: &Shape,
        object: &Map<String, Value>,
        prefix: &str,
    ) -> Result<(), InvalidParameters> {
        if let Some(unknown) = object.keys().find(|k| shape.members.get(k).is_none()) {
            return Err(InvalidParameters(format!("{}: no such member", join(prefix, unknown))));
        }
        for (key, member) in shape.members.iter() {
            let token;
            let value = match object.get(key) {
                Some(v) if !v.is_null() => v,
                // An idempotency token left out is generated, as the SDKs do (EC2's ClientToken).
                _ if member.idempotency_token => {
                    token = Value::String(uuid::Uuid::new_v4().to_string());
                    &token
                }
                _ => continue,
            };
            self.value(out, member, value, &join(prefix, &self.name(member, key)))?;
        }
        Ok(())
    }

    fn value(
        &self,
        out: &mut Vec<(String, String)>,
        member: &Member,
        value: &Value,
        key: &str,
    ) -> Result<(), InvalidParameters> {
        let shape = self.service.shape(&member.shape).map_err(model)?;
        match shape.kind {
            ShapeKind::Structure => {
                let object =
                    value.as_object().ok_or_else(|| InvalidParameters(format!("{key}: expected an object")))?;
                self.structure(out, shape, object, key)
            }
            ShapeKind::List => {
                let items = value.as_array().ok_or_else(|| InvalidParameters(format!("{key}: expected an array")))?;
                let item = shape.member.as_ref().ok_or_else(|| model("list without member"))?;
                let list_key = match self.variant {
                    Variant::Ec2 => key.to_owned(),
                    Variant::Query if items.is_empty() => {
                        out.push((key.to_owned(), String::new()));
                        return Ok(());
                    }
                    // The member's own name wins (smithy's tests); without one, the item's
                    // name replaces the member name (botocore's models, SQS's `AttributeName.1`).
                    Variant::Query if member.flattened || shape.flattened => match &item.location_name {
                        Some(n) if member.location_name.is_none() => match key.rsplit_once('.') {
                            Some((parent, _)) => format!("{parent}.{n}"),
                            None => n.clone(),
                        },
                        _ => key.to_owned(),
                    },
                    Variant::Query => format!("{key}.{}", self.name(item, "member")),
                };
                for (i, v) in items.iter().enumerate() {
                    self.value(out, item, v, &format!("{list_key}.{}", i + 1))?;
                }
                Ok(())
            }
            ShapeKind::Map => {
                let object =
                    value.as_object().ok_or_else(|| InvalidParameters(format!("{key}: expected an object")))?;
                let (Some(k), Some(v)) = (&shape.key, &shape.value) else { return Err(model("map without key")) };
                let entries = if member.flattened || shape.flattened { key.to_owned() } else { format!("{key}.entry") };
                let (key_name, value_name) = (self.name(k, "key"), self.name(v, "value"));
                for (i, (name, val)) in object.iter().enumerate() {
                    let n = i + 1;
                    self.value(out, k, &Value::String(name.clone()), &format!("{entries}.{n}.{key_name}"))?;
                    self.value(out, v, val, &format!("{entries}.{n}.{value_name}"))?;
                }
                Ok(())
            }
            _ => {
                let format = scalar::timestamp_format(Some(member), shape, Format::Iso8601);
                out.push((key.to_owned(), scalar::to_text(shape, format, value, key)?));
                Ok(())
            }
        }
    }
}

/// Reads the response: the output under its wrapper, or the error.
pub fn deserialize(
    service: &Service,
    (name, operation): (&str, &Operation),
    response: &Response<'_>,
    variant: Variant,
) -> Result<Outcome, MalformedResponse> {
    let header_id = || {
        response
            .headers
            .iter()
            .find(|(k, _)| k == "x-amzn-requestid" || k == "x-amz-request-id")
            .map(|(_, v)| v.clone())
    };
    if response.status >= 300 {
        return Ok(Outcome::Err(error(service, response, variant, header_id)));
    }
    let Some(output) = &operation.output else { return Ok(Outcome::Ok(Value::Object(Map::new()))) };
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Outcome::Ok(Value::Object(Map::new())));
    }
    let root = xml::parse(response.body)?;
    let result = match (variant, &output.result_wrapper) {
        (Variant::Query, Some(wrapper)) => match root.child(wrapper) {
            Some(r) => r,
            None => return Ok(Outcome::Ok(Value::Object(Map::new()))),
        },
        _ => &root,
    };
    let shape = service.shape(&output.shape).map_err(|e| MalformedResponse(format!("{name}: {e}")))?;
    Ok(Outcome::Ok(Value::Object(xml_shape::decode_structure(service, shape, result)?)))
}

fn error(
    service: &Service,
    response: &Response<'_>,
    variant: Variant,
    header_id: impl Fn() -> Option<String>,
) -> ServiceError {
    let root = xml::parse(response.body).ok();
    let found: Option<(&Element, Option<&str>)> = root.as_ref().and_then(|root| match variant {
        Variant::Query => root.child("Error").map(|e| (e, root.child_text("RequestId"))),
        Variant::Ec2 => root
            .child("Errors")
            .and_then(|errors| errors.child("Error"))
            .map(|e| (e, root.child_text("RequestID").or(root.child_text("RequestId")))),
    });
    let (code, message, id) = match found {
        Some((e, id)) => (
            e.child_text("Code").map(|c| error_code::modelled(service, c.trim())).unwrap_or_default(),
            e.child_text("Message").unwrap_or_default().to_owned(),
            id.map(str::to_owned),
        ),
        None => (String::new(), String::from_utf8_lossy(response.body).trim().to_owned(), None),
    };
    ServiceError { status: response.status, code, message, request_id: id.or_else(header_id) }
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
