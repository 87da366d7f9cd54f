//! restJson1 (Lambda, Batch, EKS, API Gateway, Bedrock…): the operation's method and URI
//! template from the model; members bound to the URI, query string and headers; the rest of
//! the input as a JSON body, or the `payload` member alone as the body. The output likewise:
//! headers, status code and a JSON body, or the payload member.
//!
//! Payload blobs (Lambda `Invoke`'s `Payload`, Bedrock `InvokeModel`'s `body`) are the one place
//! a blob is not base64 in the state: a string parameter is sent as its text, any other JSON
//! as its serialisation; a payload blob in a response is handed back as text.
//!
//! Owns: the body and the output's assembly. The HTTP binding (URI, query string, headers) is
//! behind [`bind`] and [`unbind`] so the shared `rest` module can replace them. Must not: sign.

use serde_json::{Map, Value};

use super::{InvalidParameters, MalformedResponse, Outcome, Request, Response, json_error, json_shape, rest_binding};
use crate::integrations::aws::model::{Operation, Service, ShapeKind};

pub fn serialize(
    service: &Service,
    (_, operation): (&str, &Operation),
    input: &Value,
) -> Result<Request, InvalidParameters> {
    let empty = Value::Object(Map::new());
    let input = if input.is_null() { &empty } else { input };
    let Some(shape_ref) = &operation.input else {
        if input.as_object().is_some_and(|m| !m.is_empty()) {
            let first = input.as_object().and_then(|m| m.keys().next()).map_or("", |k| k.as_str());
            return Err(json_shape::unsupported_field(first));
        }
        let mut request = rest_binding::bind(service, operation, None, input)?;
        request.method.clone_from(&operation.http.method);
        return Ok(request);
    };
    let shape = service.shape(&shape_ref.shape).map_err(|e| InvalidParameters(e.to_string()))?;
    let mut request = rest_binding::bind(service, operation, Some(shape), input)?;
    let fields = input.as_object().cloned().unwrap_or_default();
    if let Some(payload) = &shape.payload {
        let member = shape.members.get(payload).ok_or_else(|| InvalidParameters(format!("no member {payload}")))?;
        let target = service.shape(&member.shape).map_err(|e| InvalidParameters(e.to_string()))?;
        let given = fields.iter().find(|(k, _)| json_shape::is_pascal_of(k, payload)).map(|(_, v)| v);
        let (body, content_type) = match (target.kind, given) {
            (_, None | Some(Value::Null)) => (Vec::new(), None),
            (ShapeKind::Blob, Some(Value::String(text))) => {
                (text.clone().into_bytes(), Some("application/octet-stream"))
            }
            (ShapeKind::Blob, Some(json)) => (json.to_string().into_bytes(), Some("application/octet-stream")),
            (ShapeKind::String, Some(Value::String(text))) => (text.clone().into_bytes(), Some("text/plain")),
            (_, Some(v)) => {
                let wire = json_shape::encode(service, member, v, &|| json_shape::pascal(payload).into_owned())?;
                (wire.to_string().into_bytes(), Some("application/json"))
            }
        };
        request.body = body;
        if let Some(ct) = content_type
            && !request.headers.iter().any(|(n, _)| n == "content-type")
        {
            request.headers.push(("content-type".into(), ct.into()));
        }
    } else if shape.members.iter().any(|(_, m)| m.location.is_none()) {
        let body = json_shape::encode_structure(service, shape, input, &|m| m.location.is_some())?;
        let has_fields = body.as_object().is_some_and(|m| !m.is_empty());
        // An operation whose body members are all left out still sends `{}` when it writes.
        if has_fields || !matches!(operation.http.method.as_str(), "GET" | "HEAD" | "DELETE") {
            request.body = body.to_string().into_bytes();
            request.headers.push(("content-type".into(), "application/json".into()));
        }
    }
    Ok(request)
}

pub fn deserialize(
    service: &Service,
    (_, operation): (&str, &Operation),
    response: &Response<'_>,
) -> Result<Outcome, MalformedResponse> {
    if !(200..300).contains(&response.status) {
        return Ok(Outcome::Err(json_error::read(response)));
    }
    let Some(shape_ref) = &operation.output else { return Ok(Outcome::Ok(Value::Object(Map::new()))) };
    let shape = service.shape(&shape_ref.shape).map_err(|e| MalformedResponse(e.to_string()))?;
    let mut out = rest_binding::unbind(service, shape, response)?;
    if let Some(payload) = &shape.payload {
        let member = shape.members.get(payload).ok_or_else(|| MalformedResponse(format!("no member {payload}")))?;
        let target = service.shape(&member.shape).map_err(|e| MalformedResponse(e.to_string()))?;
        let value = match target.kind {
            ShapeKind::Blob | ShapeKind::String => {
                Some(Value::String(String::from_utf8_lossy(response.body).into_owned()))
            }
            _ if response.body.is_empty() => None,
            _ => Some(json_shape::decode(service, &member.shape, parse(response.body)?)?),
        };
        if let Some(v) = value {
            out.insert(json_shape::pascal(payload).into_owned(), v);
        }
    } else if !response.body.iter().all(u8::is_ascii_whitespace) {
        match parse(response.body)? {
            Value::Object(fields) => out.extend(json_shape::decode_fields(service, shape, fields)?),
            other => return Err(MalformedResponse(format!("the body is not an object: {other}"))),
        }
    }
    Ok(Outcome::Ok(Value::Object(out)))
}

fn parse(body: &[u8]) -> Result<Value, MalformedResponse> {
    serde_json::from_slice(body).map_err(|e| MalformedResponse(format!("the body is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::integrations::aws::model;

    #[test]
    fn lambda_invoke_binds_the_name_into_the_uri_a_header_and_the_payload_as_the_body() {
        let l = model::service("lambda").unwrap();
        let input = json!({"FunctionName": "my fn", "InvocationType": "Event", "Qualifier": "v1", "Payload": {"a": 1}});
        let r = serialize(&l, l.operation("invoke").unwrap(), &input).unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path_and_query, "/2015-03-31/functions/my%20fn/invocations?Qualifier=v1");
        assert!(r.headers.contains(&("x-amz-invocation-type".into(), "Event".into())), "{:?}", r.headers);
        assert_eq!(r.body, br#"{"a":1}"#);
        let headers = vec![("x-amz-executed-version".to_string(), "$LATEST".to_string())];
        let out = deserialize(
            &l,
            l.operation("invoke").unwrap(),
            &Response { status: 200, headers: &headers, body: b"{\"ok\":true}" },
        )
        .unwrap();
        assert_eq!(
            out,
            Outcome::Ok(json!({"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": "{\"ok\":true}"}))
        );
    }

    #[test]
    fn get_operations_put_members_in_the_query_string_and_send_no_body() {
        let l = model::service("lambda").unwrap();
        let r = serialize(&l, l.operation("listFunctions").unwrap(), &json!({"MaxItems": 5, "Marker": "a/b"})).unwrap();
        assert_eq!(
            (r.method.as_str(), r.path_and_query.as_str()),
            ("GET", "/2015-03-31/functions?Marker=a%2Fb&MaxItems=5")
        );
        assert!(r.body.is_empty());
        let e = serialize(&l, l.operation("getFunction").unwrap(), &json!({})).unwrap_err();
        assert!(e.0.contains("FunctionName"), "{e}");
    }

    #[test]
    fn body_members_are_json_and_output_members_come_from_the_body() {
        let b = model::service("batch").unwrap();
        let r = serialize(&b, b.operation("describeJobs").unwrap(), &json!({"Jobs": ["j1"]})).unwrap();
        assert_eq!((r.method.as_str(), r.path_and_query.as_str()), ("POST", "/v1/describejobs"));
        assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap(), json!({"jobs": ["j1"]}));
        let body = br#"{"jobs":[{"jobName":"n","jobId":"j1","jobQueue":"q","status":"FAILED","startedAt":1}]}"#;
        let out = deserialize(&b, b.operation("describeJobs").unwrap(), &Response { status: 200, headers: &[], body })
            .unwrap();
        assert_eq!(
            out,
            Outcome::Ok(
                json!({"Jobs": [{"JobName": "n", "JobId": "j1", "JobQueue": "q", "Status": "FAILED", "StartedAt": 1}]})
            )
        );
    }
}
