//! AWS's wire protocols: a request as the API names it (JSON, the Task's parameters) becomes an
//! HTTP request, and an HTTP response becomes the result as Step Functions hands it to the
//! state, or the service's error. One module per protocol, chosen by the model's `protocol`.
//!
//! Owns: serialisation and parsing only. Must not: sign, send, or name errors the Step Functions
//! way (the caller adds the service's prefix); know any single operation.

use serde_json::Value;

use super::model::{Operation, Protocol, Service};

mod error_code;
mod json;
mod json_error;
mod json_shape;
mod query;
mod rest;
mod rest_json;
mod rest_xml;
mod scalar;
mod timestamp;
mod xml;
mod xml_shape;

/// An HTTP request before signing. `path_and_query` is already percent-encoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub method: String,
    pub path_and_query: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Prepended to the endpoint's host (`{AccountId}.` resolved), from the operation's
    /// `hostPrefix` and `hostLabel` members.
    pub host_prefix: Option<String>,
}

/// A response as received.
#[derive(Debug, Clone)]
pub struct Response<'a> {
    pub status: u16,
    /// Header names in lower case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// An error the service returned: its code (the error shape's name, without any namespace),
/// its message, and the request id when the response gave one.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

/// The request cannot be built from these parameters: a member of the wrong type, a missing
/// member the URI needs, an unknown member. Step Functions reports these before calling.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidParameters(pub String);

/// The response could not be read as the protocol says.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed response: {0}")]
pub struct MalformedResponse(pub String);

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Value),
    Err(ServiceError),
}

/// Builds the HTTP request for `operation` of `service` from `input`.
pub fn serialize(
    service: &Service,
    operation: (&str, &Operation),
    input: &Value,
) -> Result<Request, InvalidParameters> {
    match service.protocol {
        Protocol::Json => json::serialize(service, operation, input),
        Protocol::RestJson => rest_json::serialize(service, operation, input),
        Protocol::Query => query::serialize(service, operation, input, query::Variant::Query),
        Protocol::Ec2 => query::serialize(service, operation, input, query::Variant::Ec2),
        Protocol::RestXml => rest_xml::serialize(service, operation, input),
        p => Err(InvalidParameters(format!("the {p:?} protocol is not spoken by dmap yet"))),
    }
}

/// Reads a response of `operation`: its output as Step Functions shows it, or the error.
pub fn deserialize(
    service: &Service,
    operation: (&str, &Operation),
    response: &Response<'_>,
) -> Result<Outcome, MalformedResponse> {
    match service.protocol {
        Protocol::Json => json::deserialize(service, operation, response),
        Protocol::RestJson => rest_json::deserialize(service, operation, response),
        Protocol::Query => query::deserialize(service, operation, response, query::Variant::Query),
        Protocol::Ec2 => query::deserialize(service, operation, response, query::Variant::Ec2),
        Protocol::RestXml => rest_xml::deserialize(service, operation, response),
        p => Err(MalformedResponse(format!("the {p:?} protocol is not spoken by dmap yet"))),
    }
}

/// Whether dmap speaks `protocol`.
pub fn spoken(protocol: Protocol) -> bool {
    !matches!(protocol, Protocol::RpcV2Cbor)
}
