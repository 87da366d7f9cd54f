//! restJson1 (Lambda, Batch, EKS, API Gateway, Bedrock…): HTTP bindings by `rest` (with
//! payload blobs as text: Lambda Invoke's `Payload`, Bedrock InvokeModel's `body`), the body a
//! JSON document: the structure payload member, or else the input's members without a location.
//! The output likewise: headers, status code and a JSON body, or the payload member.
//!
//! Owns: the JSON body of restJson1 and its default content types. Must not: bind HTTP (`rest`),
//! sign or send.

use serde_json::{Map, Value};

use super::rest::{self, Blobs, Body, BodyOut, Bound};
use super::{InvalidParameters, MalformedResponse, Outcome, Request, Response, json_error, json_shape};
use crate::integrations::aws::model::{Operation, Service};

pub fn serialize(
    service: &Service,
    (_, operation): (&str, &Operation),
    input: &Value,
) -> Result<Request, InvalidParameters> {
    let Bound { mut request, body } = rest::bind(service, operation, input, Blobs::Text)?;
    let content_type = match body {
        Body::Done => None,
        Body::Raw { media_type } => Some(media_type),
        Body::Payload { name, member, value } => {
            let wire = json_shape::encode(service, member, value, &|| json_shape::pascal(name).into_owned())?;
            request.body = wire.to_string().into_bytes();
            Some("application/json")
        }
        // An operation whose body members are all left out still sends `{}` when it writes.
        Body::Members(members)
            if members.is_empty() && matches!(request.method.as_str(), "GET" | "HEAD" | "DELETE") =>
        {
            None
        }
        Body::Members(members) => {
            let shape = operation.input.as_ref().map(|s| service.shape(&s.shape));
            let shape = shape.ok_or_else(|| InvalidParameters("body members without an input".into()))?;
            let shape = shape.map_err(|e| InvalidParameters(e.to_string()))?;
            let mut document = Map::new();
            for (name, value) in members {
                let member = shape.members.get(&name).ok_or_else(|| json_shape::unsupported_field(&name))?;
                let wire = member.location_name.as_deref().unwrap_or(&name).to_owned();
                let path = || json_shape::pascal(&name).into_owned();
                document.insert(wire, json_shape::encode(service, member, &value, &path)?);
            }
            request.body = Value::Object(document).to_string().into_bytes();
            Some("application/json")
        }
    };
    if let Some(ct) = content_type
        && !request.headers.iter().any(|(n, _)| n == "content-type")
    {
        request.headers.push(("content-type".into(), ct.into()));
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
    let (mut out, body) = rest::read(service, shape, response, Blobs::Text)?;
    match body {
        BodyOut::Done => {}
        BodyOut::Payload { key, member } => {
            out.insert(key, json_shape::decode(service, &member.shape, parse(response.body)?)?);
        }
        BodyOut::Members if response.body.iter().all(u8::is_ascii_whitespace) => {}
        BodyOut::Members => match parse(response.body)? {
            Value::Object(fields) => out.extend(json_shape::decode_fields(service, shape, fields)?),
            other => return Err(MalformedResponse(format!("the body is not an object: {other}"))),
        },
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
    #[test]
    fn lower_camel_members_are_given_in_pascal_case_and_a_payload_blob_is_text_both_ways() {
        // Bedrock Runtime's InvokeModel: `modelId` is a URI label, `contentType`/`accept` are
        // headers, `body` is the payload blob (API reference: POST /model/{modelId}/invoke).
        let b = model::service("bedrockruntime").unwrap();
        let op = b.operation("invokeModel").unwrap();
        let input = json!({"ModelId": "anthropic.claude-v2:1", "ContentType": "application/json",
            "Accept": "application/json", "Body": {"prompt": "hi"}});
        let r = serialize(&b, op, &input).unwrap();
        assert_eq!((r.method.as_str(), r.path_and_query.as_str()), ("POST", "/model/anthropic.claude-v2%3A1/invoke"));
        assert_eq!(r.body, br#"{"prompt":"hi"}"#);
        let header = |r: &Request, n: &str| r.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(header(&r, "content-type").as_deref(), Some("application/json"));
        assert_eq!(header(&r, "accept").as_deref(), Some("application/json"));
        // The model's own name is accepted too; a string payload is sent as its text.
        let r = serialize(&b, op, &json!({"modelId": "m", "Body": "plain {text}"})).unwrap();
        assert_eq!((r.path_and_query.as_str(), r.body.as_slice()), ("/model/m/invoke", b"plain {text}".as_slice()));
        assert_eq!(header(&r, "content-type").as_deref(), Some("application/octet-stream"));
        let headers = vec![("content-type".to_string(), "application/json".to_string())];
        let out = deserialize(&b, op, &Response { status: 200, headers: &headers, body: b"{\"completion\":\"yes\"}" });
        assert_eq!(
            out.unwrap(),
            Outcome::Ok(json!({"Body": "{\"completion\":\"yes\"}", "ContentType": "application/json"}))
        );
    }

    #[test]
    fn query_members_and_labels_of_lower_camel_apis_and_parameters_the_api_does_not_have() {
        // EKS: GET /clusters?maxResults=&include= and GET /clusters/{name}.
        let eks = model::service("eks").unwrap();
        let r = serialize(&eks, eks.operation("listClusters").unwrap(), &json!({"MaxResults": 10, "Include": ["all"]}))
            .unwrap();
        assert_eq!(r.path_and_query, "/clusters?maxResults=10&include=all");
        let op = eks.operation("describeCluster").unwrap();
        assert_eq!(
            serialize(&eks, op, &json!({"Name": "my cluster"})).unwrap().path_and_query,
            "/clusters/my%20cluster"
        );
        assert_eq!(serialize(&eks, op, &json!({})).unwrap_err().0, "Name: required, as it is part of the URI");
        assert_eq!(
            serialize(&eks, op, &json!({"Name": "c", "Nope": 1})).unwrap_err().0,
            "The field \"Nope\" is not supported by Step Functions"
        );
    }
}
