//! awsJson 1.0 and 1.1 (DynamoDB, SSM, Secrets Manager, Athena, Glue…): every operation is
//! `POST /` with `X-Amz-Target: <targetPrefix>.<Operation>` and the input as a JSON body; the
//! output is the JSON body. The two versions differ only in the content type.
//!
//! Owns: the request line, the two headers and the body. Must not: sign or send.

use serde_json::{Map, Value};

use super::{InvalidParameters, MalformedResponse, Outcome, Request, Response, json_error, json_shape};
use crate::integrations::aws::model::{Operation, Service};

pub fn serialize(
    service: &Service,
    (name, operation): (&str, &Operation),
    input: &Value,
) -> Result<Request, InvalidParameters> {
    let mut body = Vec::with_capacity(256);
    match &operation.input {
        Some(shape) => {
            let shape = service.shape(&shape.shape).map_err(|e| InvalidParameters(e.to_string()))?;
            json_shape::write_structure(&mut body, service, shape, input, &|_| false)?;
        }
        None => match input {
            Value::Object(m) if m.is_empty() => body.extend_from_slice(b"{}"),
            Value::Object(m) => return Err(json_shape::unsupported_field(m.keys().next().map_or("", |k| k))),
            _ => return Err(InvalidParameters("the parameters must be an object".into())),
        },
    }
    let version = service.json_version.as_deref().unwrap_or("1.0");
    let target = match &service.target_prefix {
        Some(prefix) => format!("{prefix}.{name}"),
        None => name.to_owned(),
    };
    Ok(Request {
        method: "POST".into(),
        path_and_query: "/".into(),
        headers: vec![
            ("content-type".into(), format!("application/x-amz-json-{version}")),
            ("x-amz-target".into(), target),
        ],
        body,
        host_prefix: host_prefix(service, operation, input)?,
    })
}

/// The operation's `hostPrefix` (`data-` of Cloud Map's DiscoverInstances) with its `{Member}`
/// labels filled from the parameters.
fn host_prefix(service: &Service, operation: &Operation, input: &Value) -> Result<Option<String>, InvalidParameters> {
    let Some(prefix) = &operation.host_prefix else { return Ok(None) };
    let Some(shape) = &operation.input else { return Ok(Some(prefix.clone())) };
    let shape = service.shape(&shape.shape).map_err(|e| InvalidParameters(e.to_string()))?;
    let mut out = prefix.clone();
    for (name, _) in shape.members.iter().filter(|(_, m)| m.host_label) {
        let label = format!("{{{name}}}");
        if out.contains(&label) {
            let value = input
                .as_object()
                .and_then(|o| o.iter().find(|(k, _)| json_shape::is_pascal_of(k, name)))
                .and_then(|(_, v)| v.as_str())
                .ok_or_else(|| InvalidParameters(format!("the field \"{}\" is required", json_shape::pascal(name))))?;
            out = out.replace(&label, value);
        }
    }
    Ok(Some(out))
}

pub fn deserialize(
    service: &Service,
    (_, operation): (&str, &Operation),
    response: &Response<'_>,
) -> Result<Outcome, MalformedResponse> {
    if !(200..300).contains(&response.status) {
        return Ok(Outcome::Err(json_error::read(response)));
    }
    let body: Value = if response.body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(response.body).map_err(|e| MalformedResponse(format!("the body is not JSON: {e}")))?
    };
    match &operation.output {
        Some(shape) => json_shape::decode(service, &shape.shape, body).map(Outcome::Ok),
        None => Ok(Outcome::Ok(Value::Object(Map::new()))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::integrations::aws::model;

    #[test]
    fn dynamodb_put_item_is_a_post_to_slash_with_its_target_and_the_parameters_as_json() {
        let d = model::service("dynamodb").unwrap();
        let input = json!({"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": "1"}}});
        let r = serialize(&d, d.operation("putItem").unwrap(), &input).unwrap();
        assert_eq!((r.method.as_str(), r.path_and_query.as_str()), ("POST", "/"));
        assert_eq!(
            r.headers,
            vec![
                ("content-type".to_string(), "application/x-amz-json-1.0".to_string()),
                ("x-amz-target".to_string(), "DynamoDB_20120810.PutItem".to_string())
            ]
        );
        assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap(), input);
    }

    #[test]
    fn json_1_1_and_timestamps_in_and_out() {
        let logs = model::service("cloudwatchlogs").unwrap();
        assert_eq!(logs.json_version.as_deref(), Some("1.1"));
        // Secrets Manager's DescribeSecret answers with epoch seconds; the state sees ISO-8601.
        let sm = model::service("secretsmanager").unwrap();
        let op = sm.operation("describeSecret").unwrap();
        let body = br#"{"Name":"s","CreatedDate":1398796238.5,"LastChangedDate":1398796238}"#;
        let out = deserialize(&sm, op, &Response { status: 200, headers: &[], body }).unwrap();
        assert_eq!(
            out,
            Outcome::Ok(
                json!({"Name": "s", "CreatedDate": "2014-04-29T18:30:38.500Z", "LastChangedDate": "2014-04-29T18:30:38.000Z"})
            )
        );
        let ssm = model::service("ssm").unwrap();
        let r = serialize(&ssm, ssm.operation("getParameter").unwrap(), &json!({"Name": "p", "WithDecryption": true}))
            .unwrap();
        assert_eq!(r.headers[0].1, "application/x-amz-json-1.1");
        assert_eq!(r.headers[1].1, "AmazonSSM.GetParameter");
        assert_eq!(r.host_prefix, None);
        let sd = model::service("servicediscovery").unwrap();
        let input = json!({"NamespaceName": "n", "ServiceName": "s"});
        let r = serialize(&sd, sd.operation("discoverInstances").unwrap(), &input).unwrap();
        assert_eq!(r.host_prefix.as_deref(), Some("data-"));
    }

    #[test]
    fn parameters_the_api_does_not_have_or_of_the_wrong_type_are_refused_before_calling() {
        let d = model::service("dynamodb").unwrap();
        let op = d.operation("getItem").unwrap();
        let e = serialize(&d, op, &json!({"TableName": "t", "Key": {}, "Nope": 1})).unwrap_err();
        assert_eq!(e.0, "The field \"Nope\" is not supported by Step Functions");
        let e = serialize(&d, op, &json!({"TableName": 5, "Key": {}})).unwrap_err();
        assert_eq!(e.0, "the field \"TableName\" must be a string, not a number");
        let e = serialize(&d, op, &json!({"TableName": "t", "Key": {"k": {"S": "x", "Zz": 1}}})).unwrap_err();
        assert!(e.0.contains("\"Zz\" is not supported"), "{e}");
    }
}
