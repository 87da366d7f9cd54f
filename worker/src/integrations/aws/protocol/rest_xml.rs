//! restXml (S3, S3 Control, Route 53, CloudFront): HTTP bindings by `rest`, the body an XML
//! document. A request body is the structure payload member, written as its element
//! (`locationName`, with its `xmlNamespace`), or else the input's members without a location,
//! under the operation input's `locationName` and `xmlNamespace`. Operations that require it
//! (`checksum_required`: S3's DeleteObjects, PutBucketLifecycleConfiguration…) carry a
//! `Content-MD5` of the body.
//!
//! Errors: `<Error><Code/><Message/><RequestId/></Error>` (S3), or that element wrapped in
//! `<ErrorResponse>` (the others). A response with no body (S3's HEAD) has the code of its
//! status' reason phrase without spaces (`404` → `NotFound`), as SDKs report it. S3 may also
//! answer 200 with an `<Error>` document (CopyObject, CompleteMultipartUpload): an error too.
//!
//! Owns: the XML body and errors of restXml. Must not: sign or send; bind HTTP (`rest`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use serde_json::{Map, Value};

use super::rest::{self, Blobs, Body, BodyOut, Bound};
use super::xml::{self, Element, Writer};
use super::{InvalidParameters, MalformedResponse, Outcome, Request, Response, ServiceError};
use super::{error_code, xml_shape};
use crate::integrations::aws::model::{Operation, Service};

fn model(e: impl std::fmt::Display) -> InvalidParameters {
    InvalidParameters(e.to_string())
}

/// Builds the request for `operation`.
pub fn serialize(
    service: &Service,
    (_, operation): (&str, &Operation),
    input: &Value,
) -> Result<Request, InvalidParameters> {
    let Bound { mut request, body } = rest::bind(service, operation, input, Blobs::Base64)?;
    let document = match body {
        // S3 keeps the `ContentType` parameter; no default is sent for a raw payload.
        Body::Done | Body::Raw { .. } => None,
        Body::Payload { name, member, value } => {
            let mut w = Writer::default();
            xml_shape::encode(service, &mut w, member, name, value, name)?;
            Some(w.finish())
        }
        Body::Members(members) if members.is_empty() => None,
        Body::Members(members) => {
            let input = operation.input.as_ref().ok_or_else(|| model("body members without an input"))?;
            let shape = service.shape(&input.shape).map_err(model)?;
            let root = input.location_name.as_deref().unwrap_or(&input.shape);
            let ns = input.xml_namespace.as_ref().map(|n| (n.attribute(), n.uri().to_owned()));
            let mut w = Writer::default();
            xml_shape::encode_structure(service, &mut w, shape, &members, root, ns, "")?;
            Some(w.finish())
        }
    };
    let has = |request: &Request, name: &str| request.headers.iter().any(|(k, _)| k == name);
    if let Some(document) = document {
        request.body = document.into_bytes();
        if !has(&request, "content-type") {
            request.headers.push(("content-type".into(), "application/xml".into()));
        }
    }
    if operation.checksum_required && !has(&request, "content-md5") {
        let digest = Md5::digest(&request.body);
        request.headers.push(("content-md5".into(), BASE64.encode(digest)));
    }
    Ok(request)
}

/// Reads a response of `operation`.
pub fn deserialize(
    service: &Service,
    (name, operation): (&str, &Operation),
    response: &Response<'_>,
) -> Result<Outcome, MalformedResponse> {
    if response.status >= 300 {
        return Ok(Outcome::Err(error(service, response)));
    }
    let Some(output) = &operation.output else { return Ok(Outcome::Ok(Value::Object(Map::new()))) };
    let shape = service.shape(&output.shape).map_err(|e| MalformedResponse(format!("{name}: {e}")))?;
    let (mut out, body) = rest::read(service, shape, response, Blobs::Base64)?;
    let document = match body {
        BodyOut::Done => return Ok(Outcome::Ok(Value::Object(out))),
        BodyOut::Members if response.body.iter().all(u8::is_ascii_whitespace) => {
            return Ok(Outcome::Ok(Value::Object(out)));
        }
        _ => xml::parse(response.body)?,
    };
    if document.name == "Error" && document.child("Code").is_some() {
        return Ok(Outcome::Err(error_from(service, response, &document)));
    }
    match body {
        BodyOut::Payload { key, member } => {
            if let Some(v) = xml_shape::decode(service, &member.shape, &document)? {
                out.insert(key, v);
            }
        }
        _ => {
            // S3's GetBucketLocation answers with its one body member as the document's root.
            let mut body_members = shape.members.iter().filter(|(_, m)| m.location.is_none());
            match (body_members.next(), body_members.next()) {
                (Some((name, member)), None)
                    if document.name == member.location_name.as_deref().unwrap_or(name)
                        && document.children.is_empty() =>
                {
                    if let Some(v) = xml_shape::decode(service, &member.shape, &document)? {
                        out.insert(name.to_owned(), v);
                    }
                }
                _ => out.extend(xml_shape::decode_structure(service, shape, &document)?),
            }
        }
    }
    Ok(Outcome::Ok(Value::Object(out)))
}

fn request_id(response: &Response<'_>) -> Option<String> {
    let id = response.headers.iter().find(|(k, _)| k == "x-amz-request-id" || k == "x-amzn-requestid");
    id.map(|(_, v)| v.clone())
}

fn error(service: &Service, response: &Response<'_>) -> ServiceError {
    match xml::parse(response.body) {
        Ok(root) => error_from(service, response, &root),
        Err(_) if response.body.iter().all(u8::is_ascii_whitespace) => {
            let reason = reason_phrase(response.status);
            ServiceError {
                status: response.status,
                code: reason.replace(' ', ""),
                message: reason.to_owned(),
                request_id: request_id(response),
            }
        }
        Err(_) => ServiceError {
            status: response.status,
            code: String::new(),
            message: String::from_utf8_lossy(response.body).trim().to_owned(),
            request_id: request_id(response),
        },
    }
}

fn error_from(service: &Service, response: &Response<'_>, root: &Element) -> ServiceError {
    let error = if root.name == "Error" { Some(root) } else { root.child("Error") };
    let text = |name: &str| error.and_then(|e| e.child_text(name)).map(str::trim).filter(|t| !t.is_empty());
    let id = text("RequestId").or(root.child_text("RequestId")).map(str::to_owned);
    ServiceError {
        status: response.status,
        code: text("Code").map(|c| error_code::modelled(service, c)).unwrap_or_default(),
        message: text("Message").unwrap_or_default().to_owned(),
        request_id: id.or_else(|| request_id(response)),
    }
}

/// RFC 9110's reason phrases for the statuses a body-less error comes with.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        301 => "Moved Permanently",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
#[path = "rest_xml_tests.rs"]
mod tests;
